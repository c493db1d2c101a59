//! `GET /metrics` with `--metrics-token` / `ALERTWIRE_METRICS_TOKEN`: the
//! token is required when set, and `/metrics` stays open when it is not.

use crate::helpers::{Engine, TestApp};
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;

const TOKEN: &str = "prometheus-scrape-token";

crate::on_both_engines!(metrics_are_open_without_a_token);

mod with_token {
    crate::on_both_engines!(with crate::metrics_token::with_token; metrics_need_the_token);
    use super::metrics_need_the_token;
}

async fn with_token(engine: Engine) -> Option<TestApp> {
    TestApp::spawn_with(engine, |s| s.metrics_token = Some(TOKEN.into())).await
}

async fn scrape(app: &TestApp, authorization: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(app.url("/metrics"));
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    request.send().await.unwrap()
}

async fn metrics_are_open_without_a_token(app: &TestApp) {
    let response = scrape(app, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("alertwire_deliveries_total"));
}

async fn metrics_need_the_token(app: &TestApp) {
    let wrong = format!("Bearer {TOKEN}x");
    let prefix = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
    let basic = format!("Basic {TOKEN}");
    for refused in [
        None,
        Some("Bearer "),
        Some(wrong.as_str()),
        Some(prefix.as_str()),
        Some(basic.as_str()),
        Some(TOKEN),
    ] {
        let response = scrape(app, refused).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{refused:?}");
        assert_eq!(
            response.headers().get(WWW_AUTHENTICATE).unwrap(),
            "Bearer",
            "{refused:?}"
        );
        let body = response.text().await.unwrap();
        assert!(!body.contains("alertwire_"), "{refused:?}: {body}");
    }
    for admitted in [format!("Bearer {TOKEN}"), format!("bearer {TOKEN}")] {
        let response = scrape(app, Some(&admitted)).await;
        assert_eq!(response.status(), StatusCode::OK, "{admitted}");
        let text = response.text().await.unwrap();
        assert!(text.contains("alertwire_deliveries_total"), "{text}");
        assert!(text.contains("alertwire_queue_depth"), "{text}");
    }
}
