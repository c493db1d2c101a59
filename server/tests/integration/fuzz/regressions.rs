//! Inputs the fuzz targets found, each as a named test that failed before its fix.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

/// A repeated query parameter (`?cursor=1&cursor=2`) failed the query
/// extractor, whose plain-text 400 lacked the API's error shape.
async fn a_repeated_query_parameter_gets_the_error_shape(app: &TestApp) {
    let key = app.api_key("admin").await;
    for path in [
        "/alerts",
        "/rules",
        "/destinations",
        "/deliveries",
        "/audit-log",
        "/users",
    ] {
        let response = reqwest::Client::new()
            .get(app.url(&format!("/api/v1{path}?cursor=1&cursor=2&limit=x&limit=y")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(body["error"]["code"], "invalid", "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
    }
}

/// `GET /api/v1/alerts/j%00%3Fl` answered 500 on PostgreSQL, which cannot
/// compare text holding a NUL; an id with a control character is refused.
async fn an_alert_id_with_a_nul_gets_the_error_shape(app: &TestApp) {
    let key = app.api_key("admin").await;
    for id in ["j%00%3Fl", "%00", "a%0Ab", "%7F"] {
        let response = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/alerts/{id}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{id}");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(body["error"]["code"], "invalid", "{id}: {body}");
        assert_eq!(body["error"]["field"], "id", "{id}: {body}");
    }
}

/// A sign-in whose email holds a NUL reached the account lookup, where
/// PostgreSQL refuses such text: the form names the field instead.
async fn a_sign_in_email_with_a_nul_is_a_form_error(app: &TestApp) {
    app.create_user("ada@example.com", "viewer").await;
    let response = app
        .call(
            &TestApp::browser(),
            "login",
            &[("email", "ada@example.com\0"), ("password", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().await.unwrap();
    assert!(body.contains("valid email address"), "{body}");
}

crate::on_both_engines!(
    a_repeated_query_parameter_gets_the_error_shape,
    an_alert_id_with_a_nul_gets_the_error_shape,
    a_sign_in_email_with_a_nul_is_a_form_error
);
