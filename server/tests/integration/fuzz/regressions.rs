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

/// Found by a 100,000-case HTTP run: server functions answered 500 with an
/// empty body to a form holding one huge value (a 70,000-character id, a
/// JSON object of thousands of keys, a 2,000-character field name).
async fn server_functions_refuse_huge_form_values_without_a_500(app: &TestApp) {
    let admin = app.signed_in("ada@example.com", "admin").await;
    let long = "x".repeat(70_000);
    // Its error echoes it past the 1 MiB the error re-read allows.
    let huge = "x".repeat(1_200_000);
    let keys: String = (0..5_000).map(|i| format!("\"k{i}\":{i},")).collect();
    let object = format!("{{{}}}", keys.trim_end_matches(','));
    let sigma = "\u{3a3}".repeat(2_000);
    let cases: [(&str, Vec<(&str, &str)>); 5] = [
        (
            "start_redelivery",
            vec![("destination_id", long.as_str()), ("range", "24h")],
        ),
        (
            "start_redelivery",
            vec![("since", "Rru"), ("until", object.as_str())],
        ),
        (
            "redelivery_preview",
            vec![(sigma.as_str(), "1"), ("range", "24h")],
        ),
        (
            "save_notification_settings",
            vec![("destination_ids", object.as_str())],
        ),
        (
            "save_notification_settings",
            vec![("enabled", "[]"), ("destination_ids", long.as_str())],
        ),
    ];
    for (function, form) in cases {
        let response = app.call(&admin, function, &form).await;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            !status.is_server_error(),
            "{function} {:?}: {status} {}",
            form.iter()
                .map(|(k, v)| (k.len(), v.len()))
                .collect::<Vec<_>>(),
            body.chars().take(300).collect::<String>()
        );
    }
    let form = [("destination_id", huge.as_str()), ("range", "24h")];
    let response = app.call(&admin, "redelivery_preview", &form).await;
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    let body = response.text().await.unwrap_or_default();
    assert!(
        body.contains("far too long"),
        "{}",
        &body[..body.len().min(300)]
    );
}

/// Found by the 1,000,000-case HTTP run on PostgreSQL: `/fn/alert` with an
/// id holding a NUL answered 500 (the lookup reached a database that cannot
/// compare such text). No alert or asset name can hold one: "not found".
async fn server_function_lookups_with_a_nul_are_not_found(app: &TestApp) {
    let viewer = app.signed_in("ada@example.com", "viewer").await;
    let cases = [
        ("alert", ("id", "Mz$\u{3a3}/_nxl\\b,\u{7f}w*e\0g")),
        ("alert", ("id", "alert_\0")),
        ("asset_alerts", ("qualified_name", "db.\0table")),
    ];
    for (function, field) in cases {
        let response = app.call(&viewer, function, &[field]).await;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            !status.is_server_error(),
            "{function} {field:?}: {status} {body}"
        );
        if function == "alert" {
            assert!(
                body.contains("No such alert"),
                "{function}: {status} {body}"
            );
        }
    }
}

crate::on_both_engines!(
    a_repeated_query_parameter_gets_the_error_shape,
    server_function_lookups_with_a_nul_are_not_found,
    an_alert_id_with_a_nul_gets_the_error_shape,
    a_sign_in_email_with_a_nul_is_a_form_error,
    server_functions_refuse_huge_form_values_without_a_500
);
