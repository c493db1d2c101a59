//! `GET /api/v1/openapi.json`: an OpenAPI 3.1 document that an independent
//! validator accepts and that describes every route the API serves, each with
//! the key roles it accepts and the error shape.

use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

crate::on_both_engines!(the_api_describes_itself);

/// The whole API surface. A route added without a description is not in the
/// document, and one described but not served answers the fallback: both fail here.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/alerts"),
    ("get", "/alerts/{id}"),
    ("get", "/deliveries"),
    ("get", "/deliveries/{id}"),
    ("post", "/deliveries/{id}/redeliver"),
    ("post", "/deliveries/{id}/cancel"),
    ("post", "/deliveries/redeliver"),
    ("get", "/jobs/{id}"),
    ("post", "/jobs/{id}/cancel"),
    ("get", "/destinations"),
    ("post", "/destinations"),
    ("get", "/destinations/{id}"),
    ("patch", "/destinations/{id}"),
    ("delete", "/destinations/{id}"),
    ("post", "/destinations/{id}/rotate-secret"),
    ("post", "/destinations/{id}/test"),
    ("get", "/destinations/{id}/health"),
    ("post", "/events"),
    ("get", "/rules"),
    ("post", "/rules"),
    ("get", "/rules/{id}"),
    ("patch", "/rules/{id}"),
    ("delete", "/rules/{id}"),
    ("get", "/users"),
    ("get", "/api-keys"),
    ("get", "/settings/notifications"),
    ("put", "/settings/notifications"),
    ("get", "/audit-log"),
    // Served without a key, outside the described API.
    ("get", "/openapi.json"),
];

async fn the_api_describes_itself(app: &TestApp) {
    // No key needed for the description itself.
    let r = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], "/api/v1");

    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            described.insert((method.clone(), path.clone()));
            let scopes = &op["security"][0]["api_key"];
            assert!(
                scopes.as_array().is_some_and(|s| !s.is_empty()),
                "{method} {path}: scopes"
            );
            for status in ["401", "403"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path}: {status}"
                );
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .filter(|(_, path)| *path != "/openapi.json")
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        described, expected,
        "the document and the API's routes differ"
    );

    // Every described route is served: with a key it never reaches the fallback.
    let key = app
        .services
        .create_api_key("doc", "admin", &server::services::Actor::command_line())
        .await
        .unwrap()
        .secret;
    for (method, path) in &described {
        let concrete = path.replace(
            "{id}",
            if path.starts_with("/alerts") {
                "alert_none"
            } else {
                "999999"
            },
        );
        let r = reqwest::Client::new()
            .request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                app.url(&format!("/api/v1{concrete}")),
            )
            .bearer_auth(&key)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_ne!(
            body["error"]["message"], "No such API endpoint",
            "{method} {path} is not served"
        );
    }

    // An independent validator accepts it.
    let file = std::env::temp_dir().join(format!(
        "alertwire-openapi-{}.json",
        crate::helpers::unique_name()
    ));
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = std::process::Command::new(crate::helpers::python())
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))",
        ])
        .arg(&file)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document (make test installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
