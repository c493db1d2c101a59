//! Settings -> API keys and bearer authentication on /api/v1.

use crate::helpers::{error_json, TestApp};
use app::model::{ApiKeysPage, NewApiKey};
use reqwest::StatusCode;

crate::on_both_engines!(
    api_keys_are_shown_once_and_can_be_revoked,
    api_requires_a_live_key
);

async fn api_keys_are_shown_once_and_can_be_revoked(app: &TestApp) {
    let admin = app.signed_in("root@example.com", "admin").await;
    let r = app.call(&admin, "create_api_key", &[("name", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .call(&admin, "create_api_key", &[("name", "Production monitor")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let created: NewApiKey = r.json().await.unwrap();
    assert!(created.secret.starts_with("aw_"));
    assert!(created.secret.starts_with(&created.key.prefix));
    // The key waits in the session for a reload without JavaScript: sealed, never in clear.
    let records = app.session_records().await;
    assert!(!records.is_empty());
    let secret = created.secret.as_bytes();
    assert!(
        records
            .iter()
            .all(|r| !r.windows(secret.len()).any(|w| w == secret)),
        "a session record holds the new key in clear"
    );

    let page: ApiKeysPage = app
        .call(&admin, "api_keys", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.keys.len(), 1);
    assert_eq!(page.keys[0].name, "Production monitor");
    assert!(page.keys[0].last_used_at.is_none());
    // The key was kept for one page load (the no-JavaScript path), then forgotten.
    assert_eq!(
        page.just_created.as_ref().map(|k| &k.secret),
        Some(&created.secret)
    );
    let again: ApiKeysPage = app
        .call(&admin, "api_keys", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(again.just_created.is_none());
    let html = app
        .get(&admin, "/settings/api-keys")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Production monitor"));
    assert!(
        !html.contains(&created.secret),
        "the secret is never shown again"
    );

    // Only a hash is stored.
    let hash = app.texts("SELECT key_hash FROM api_keys").await.remove(0);
    assert_ne!(hash, created.secret);
    assert!(!hash.contains(&created.secret[3..]));

    let api = reqwest::Client::new();
    let used = api
        .get(app.url("/api/v1/nothing-here"))
        .bearer_auth(&created.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(
        used.status(),
        StatusCode::NOT_FOUND,
        "authenticated, then an unknown endpoint"
    );
    let page: ApiKeysPage = app
        .call(&admin, "api_keys", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(page.keys[0].last_used_at.is_some(), "last use recorded");

    let id = created.key.id.to_string();
    assert_eq!(
        app.call(&admin, "revoke_api_key", &[("key_id", &id)])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call(&admin, "revoke_api_key", &[("key_id", &id)])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let refused = api
        .get(app.url("/api/v1/nothing-here"))
        .bearer_auth(&created.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body = error_json(refused).await;
    assert_eq!(body["error"]["code"], "unauthorized");
}

async fn api_requires_a_live_key(app: &TestApp) {
    let api = reqwest::Client::new();
    let missing = api
        .get(app.url("/api/v1/destinations"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let body = error_json(missing).await;
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Bearer"));

    let unknown = api
        .get(app.url("/api/v1/destinations"))
        .bearer_auth("aw_not-a-real-key")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_json(unknown).await["error"]["code"], "unauthorized");

    let created = app
        .services
        .create_api_key("cli", "admin", &server::services::Actor::command_line())
        .await
        .unwrap();
    let ok = api
        .get(app.url("/api/v1/whatever"))
        .bearer_auth(&created.secret)
        .send()
        .await
        .unwrap();
    assert_ne!(ok.status(), StatusCode::UNAUTHORIZED);
    // A session cookie is no substitute for a key.
    let admin = app.signed_in("root@example.com", "admin").await;
    let r = admin.get(app.url("/api/v1/whatever")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
