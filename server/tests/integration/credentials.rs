//! Stored credentials stay with the endpoint they were given for, and secret
//! custom headers are sealed, write-only and masked. Each test first runs the
//! attack as an attacker with an editor's rights (or any API key) would.

use crate::destinations::{create, Env};
use crate::receivers::{one, receiver, url};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::receiver::{Behaviour, Receiver};

crate::on_both_engines!(with crate::destinations::Env::new;
    a_new_url_over_the_api_takes_no_stored_credential_along,
    send_test_alert_to_a_new_url_asks_for_the_token_again,
    secret_headers_are_sealed_write_only_and_masked,
);

async fn api(env: &Env, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let key = env
        .app
        .services
        .create_api_key(
            "attacker",
            "editor",
            &server::services::Actor::command_line(),
        )
        .await
        .unwrap()
        .secret;
    let mut request = reqwest::Client::new()
        .request(method, env.app.url(&format!("/api/v1{path}")))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every header value the receiver ever got, for "did this secret leak" checks.
fn seen(rx: &Receiver) -> String {
    rx.received()
        .iter()
        .flat_map(|r| r.headers.iter().map(|(k, v)| format!("{k}: {v}\n")))
        .collect()
}

async fn a_new_url_over_the_api_takes_no_stored_credential_along(env: &Env) {
    let owner = receiver(&env.ca.tls, Behaviour::default()).await;
    let other = receiver(&env.ca.tls, Behaviour::default()).await;
    let (status, created) = api(
        env,
        Method::POST,
        "/destinations",
        Some(json!({
            "name": "Ops",
            "url": url(&owner, "localhost", "/hook"),
            "auth": {"type": "bearer", "token": "owner-token-123"},
            "headers": [{"name": "Cookie", "value": "session=owner-cookie"}, {"name": "X-Team", "value": "data"}],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["destination"]["id"].as_i64().unwrap();

    // The attack: only the URL changes, to another host, then a test is sent.
    let moved = url(&other, "127.0.0.1", "/collect");
    let (status, body) = api(
        env,
        Method::PATCH,
        &format!("/destinations/{id}"),
        Some(json!({"url": moved})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "bearer_token");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("again"),
        "{body}"
    );
    let (_, stored) = api(env, Method::GET, &format!("/destinations/{id}"), None).await;
    assert_eq!(
        stored["url"],
        url(&owner, "localhost", "/hook"),
        "nothing was saved"
    );
    let (status, _) = api(env, Method::POST, &format!("/destinations/{id}/test"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(other.count(), 0, "the other host got nothing");
    let got = one(&owner).await;
    assert_eq!(got.header("authorization"), Some("Bearer owner-token-123"));

    // Given again for the new host, the credentials are the new ones; the old never travel.
    let (status, body) = api(
        env,
        Method::PATCH,
        &format!("/destinations/{id}"),
        Some(json!({
            "url": moved,
            "auth": {"type": "bearer", "token": "new-host-token"},
            "headers": [{"name": "Cookie", "value": "session=new"}, {"name": "X-Team", "value": "data"}],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = api(env, Method::POST, &format!("/destinations/{id}/test"), None).await;
    assert_eq!(status, StatusCode::OK);
    let got = one(&other).await;
    assert_eq!(got.header("authorization"), Some("Bearer new-host-token"));
    let leaked = seen(&other);
    assert!(
        !leaked.contains("owner-token-123") && !leaked.contains("owner-cookie"),
        "{leaked}"
    );
}

async fn send_test_alert_to_a_new_url_asks_for_the_token_again(env: &Env) {
    let owner = receiver(&env.ca.tls, Behaviour::default()).await;
    let other = receiver(&env.ca.tls, Behaviour::default()).await;
    let stored_url = url(&owner, "localhost", "/hook");
    let created = create(
        env,
        "Ops",
        &stored_url,
        &[
            ("form[auth_type]", "bearer"),
            ("form[bearer_token]", "owner-token-123"),
        ],
    )
    .await;
    let id = created.destination.id.to_string();
    // The attack: the editor types another URL and clicks Send Test Alert, nothing saved.
    let moved = url(&other, "127.0.0.1", "/collect");
    let fields = [
        ("form[name]", "Ops"),
        ("form[url]", moved.as_str()),
        ("form[auth_type]", "bearer"),
        ("form[bearer_token]", ""),
        ("intent", "test"),
        ("id", id.as_str()),
    ];
    let r = env
        .app
        .call(&env.editor, "submit_destination", &fields)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let err: app::error::AppError = r.json().await.unwrap();
    let message = err
        .form()
        .and_then(|f| f.message_for("bearer_token"))
        .unwrap();
    assert!(message.contains("again"), "{message}");
    // Without JavaScript the page says the same next to the Token field.
    let page = format!("/alerts/destinations/{id}");
    let r = env
        .app
        .post_form(&env.editor, &page, "submit_destination", &fields)
        .await;
    assert!(r.status().is_redirection());
    let back = crate::helpers::location(&r);
    let html = env.app.client_get(&env.editor, &back).await;
    assert!(
        html.contains("Enter the bearer token again"),
        "the field error is on the page"
    );
    assert_eq!(other.count(), 0, "the other host got nothing");
    // The same origin, another path: the stored token is used, as before.
    let same_origin = url(&owner, "localhost", "/other-path");
    let fields = [
        ("form[name]", "Ops"),
        ("form[url]", same_origin.as_str()),
        ("form[auth_type]", "bearer"),
        ("intent", "test"),
        ("id", id.as_str()),
    ];
    let r = env
        .app
        .call(&env.editor, "submit_destination", &fields)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        one(&owner).await.header("authorization"),
        Some("Bearer owner-token-123")
    );
}

async fn secret_headers_are_sealed_write_only_and_masked(env: &Env) {
    let rx = receiver(&env.ca.tls, Behaviour::default()).await;
    let (status, created) = api(
        env,
        Method::POST,
        "/destinations",
        Some(json!({
            "name": "Ops",
            "url": url(&rx, "localhost", "/hook"),
            "headers": [
                {"name": "X-Session", "value": "hush-123", "secret": true},
                {"name": "Cookie", "value": "c=cookie-456"},
                {"name": "X-Team", "value": "data"},
            ],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["destination"]["id"].as_i64().unwrap();
    // Write-only: answers name secret headers without their values.
    let (_, shown) = api(env, Method::GET, &format!("/destinations/{id}"), None).await;
    assert_eq!(
        shown["headers"],
        json!([
            {"name": "x-session", "secret": true},
            {"name": "cookie", "secret": true},
            {"name": "x-team", "value": "data", "secret": false},
        ])
    );
    // Sealed at rest.
    let column = env
        .app
        .texts("SELECT headers FROM destinations")
        .await
        .remove(0);
    assert!(
        !column.contains("hush-123") && !column.contains("cookie-456"),
        "{column}"
    );
    // Viewers never get the value, in the page or in the data it hydrates from.
    let viewer = env.app.signed_in("viewer@example.com", "viewer").await;
    let html = env
        .app
        .get(&viewer, &format!("/alerts/destinations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("hush-123") && !html.contains("cookie-456"));
    assert!(html.contains("x-session (secret)"));
    // Sent as is, masked in what is shown; an edit that leaves it empty keeps it.
    let (status, body) = api(
        env,
        Method::PATCH,
        &format!("/destinations/{id}"),
        Some(json!({"name": "Ops 2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, report) = api(env, Method::POST, &format!("/destinations/{id}/test"), None).await;
    let got = one(&rx).await;
    assert_eq!(got.header("x-session"), Some("hush-123"));
    assert_eq!(got.header("cookie"), Some("c=cookie-456"));
    let shown = report.to_string();
    assert!(
        !shown.contains("hush-123") && !shown.contains("cookie-456"),
        "{shown}"
    );
    // Attempt records mask them too.
    let rule =
        json!({"name": "All", "alert_type": "schema", "destination_ids": [id], "enabled": true});
    assert_eq!(
        api(env, Method::POST, "/rules", Some(rule)).await.0,
        StatusCode::CREATED
    );
    let event = json!({"type": "schema_change", "asset": {"qualified_name": "db.t", "asset_type": "table"}});
    assert_eq!(
        api(env, Method::POST, "/events", Some(event)).await.0,
        StatusCode::ACCEPTED
    );
    let delivered = rx.wait_for(2, std::time::Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 2);
    let mut attempts = Vec::new();
    for _ in 0..100 {
        let page = env
            .app
            .services
            .deliveries(&Default::default())
            .await
            .unwrap();
        let detail = env.app.services.delivery(page.items[0].id).await.unwrap();
        if !detail.attempts.is_empty() {
            attempts = detail.attempts;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let recorded = format!("{:?}", attempts[0].request_headers);
    assert!(
        recorded.contains("x-session") && !recorded.contains("hush-123"),
        "{recorded}"
    );
    assert!(!recorded.contains("cookie-456"), "{recorded}");
}
