//! Inputs the fuzz targets found, each as a named test that failed before its fix.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

/// A repeated query parameter (`?cursor=1&cursor=2`) failed the query
/// extractor, whose plain-text 400 lacked the API's error shape.
async fn a_repeated_query_parameter_gets_the_error_shape(app: &TestApp) {
    let key = app
        .services
        .create_api_key(
            "regression",
            "admin",
            &server::services::Actor::command_line(),
        )
        .await
        .unwrap()
        .secret;
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

crate::on_both_engines!(a_repeated_query_parameter_gets_the_error_shape);
