use crate::helpers::TestApp;
use reqwest::StatusCode;

crate::on_both_engines!(healthz_follows_the_database);

async fn healthz_follows_the_database(app: &TestApp) {
    let ok = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    app.services.db().close().await;
    let down = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
}
