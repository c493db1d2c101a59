//! Every failure under `/api/v1` answers with the error shape, and one thing
//! is spelled one way (`auth` is always an object).

use crate::helpers::{error_json, TestApp};
use reqwest::{Method, StatusCode};

crate::on_both_engines!(every_api_failure_has_the_error_shape);

async fn every_api_failure_has_the_error_shape(app: &TestApp) {
    let key = app
        .services
        .create_api_key("tests", "admin", None)
        .await
        .unwrap()
        .secret;
    let api = reqwest::Client::new();
    let send = |method: Method, path: &str| {
        api.request(method, app.url(&format!("/api/v1{path}")))
            .bearer_auth(&key)
    };
    let cases = [
        (
            send(Method::GET, "/destinations/abc"),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            send(Method::GET, "/rules/1.5"),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            send(Method::POST, "/deliveries/x/redeliver"),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            send(Method::DELETE, "/events"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            send(Method::PUT, "/destinations"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            send(Method::GET, "/no-such-thing"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            send(Method::POST, "/destinations")
                .header("content-type", "application/json")
                .body(format!("{{\"name\": \"{}\"}}", "x".repeat(3 << 20))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.unwrap();
        let described = format!("{} {}", response.status(), response.url());
        assert_eq!(response.status(), status, "{described}");
        let allow = response.headers().get("allow").cloned();
        let body = error_json(response).await;
        assert_eq!(body["error"]["code"], code, "{described}: {body}");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(allow.is_some(), "{described} says which methods it takes");
        }
    }
    // `auth` appears once, as an object, in the raw answer.
    let created = send(Method::POST, "/destinations")
        .json(
            &serde_json::json!({"name": "Ops", "url": "https://hooks.example.com/a",
            "auth": {"type": "api_key", "header": "X-Key", "key": "k"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let raw = send(Method::GET, "/destinations")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(raw.matches("\"auth\"").count(), 1, "{raw}");
    assert!(
        raw.contains(r#""auth":{"header":"x-key","type":"api_key"}"#),
        "{raw}"
    );
}
