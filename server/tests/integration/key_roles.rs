//! Scoped API keys: a key made for a monitor that posts events can do nothing
//! else. Each case is the call an attacker holding that key would make.

use crate::helpers::{error_json, TestApp};
use app::domain::KeyRole;
use app::model::NewApiKey;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

crate::on_both_engines!(
    each_key_role_reaches_only_its_routes,
    keys_made_before_roles_are_admins,
    the_keys_page_creates_an_ingest_key_by_default
);

struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
    needs: KeyRole,
}

fn call(method: Method, path: impl Into<String>, body: Option<Value>, needs: KeyRole) -> Call {
    Call {
        method,
        path: path.into(),
        body,
        needs,
    }
}

/// Every route with the role it needs, against a destination, a rule and a delivery that exist.
fn routes(destination: i64, rule: i64, delivery: i64) -> Vec<Call> {
    let d = format!("/api/v1/destinations/{destination}");
    let r = format!("/api/v1/rules/{rule}");
    let event = json!({"type": "schema_change", "asset": {"qualified_name": "db.public.t", "asset_type": "table"}});
    vec![
        call(Method::POST, "/api/v1/events", Some(event), KeyRole::Ingest),
        call(Method::GET, "/api/v1/destinations", None, KeyRole::Viewer),
        call(Method::GET, d.clone(), None, KeyRole::Viewer),
        call(Method::GET, format!("{d}/health"), None, KeyRole::Viewer),
        call(Method::GET, "/api/v1/rules", None, KeyRole::Viewer),
        call(Method::GET, r.clone(), None, KeyRole::Viewer),
        call(Method::GET, "/api/v1/deliveries", None, KeyRole::Viewer),
        call(
            Method::GET,
            format!("/api/v1/deliveries/{delivery}"),
            None,
            KeyRole::Viewer,
        ),
        call(
            Method::PATCH,
            d.clone(),
            Some(json!({"name": "Renamed"})),
            KeyRole::Editor,
        ),
        call(Method::POST, format!("{d}/test"), None, KeyRole::Editor),
        call(
            Method::POST,
            format!("{d}/rotate-secret"),
            None,
            KeyRole::Editor,
        ),
        call(
            Method::PATCH,
            r.clone(),
            Some(json!({"enabled": true})),
            KeyRole::Editor,
        ),
        call(
            Method::POST,
            "/api/v1/rules",
            Some(
                json!({"name": "Another", "alert_type": "schema", "destination_ids": [destination]}),
            ),
            KeyRole::Editor,
        ),
        call(
            Method::POST,
            "/api/v1/destinations",
            Some(json!({"name": "Another", "url": "https://hooks.example.com/x"})),
            KeyRole::Editor,
        ),
        call(
            Method::POST,
            format!("/api/v1/deliveries/{delivery}/redeliver"),
            None,
            KeyRole::Admin,
        ),
        // Bulk recovery: a job on a filter with nothing failed in it, then reading and cancelling one.
        call(
            Method::POST,
            "/api/v1/deliveries/redeliver",
            Some(json!({"since": "2020-01-01T00:00:00Z", "until": "2020-01-02T00:00:00Z"})),
            KeyRole::Admin,
        ),
        call(Method::GET, "/api/v1/jobs/999999", None, KeyRole::Admin),
        call(
            Method::POST,
            "/api/v1/jobs/999999/cancel",
            None,
            KeyRole::Admin,
        ),
        call(Method::GET, "/api/v1/users", None, KeyRole::Admin),
        call(Method::GET, "/api/v1/api-keys", None, KeyRole::Admin),
        call(Method::GET, "/api/v1/alerts", None, KeyRole::Viewer),
        call(Method::DELETE, r, None, KeyRole::Editor),
    ]
}

async fn key(app: &TestApp, role: KeyRole) -> String {
    let name = format!("{role} key");
    app.services
        .create_api_key(
            &name,
            role.as_str(),
            &server::services::Actor::command_line(),
        )
        .await
        .unwrap()
        .secret
}

async fn send(app: &TestApp, key: &str, c: &Call) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(c.method.clone(), app.url(&c.path))
        .bearer_auth(key);
    if let Some(body) = &c.body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

/// A destination, a rule sending to it, and one failed delivery (the URL does not resolve).
async fn fixtures(app: &TestApp, admin_key: &str) -> (i64, i64, i64) {
    let api = reqwest::Client::new();
    let created: Value = api
        .post(app.url("/api/v1/destinations"))
        .bearer_auth(admin_key)
        .json(&json!({"name": "Ops", "url": "https://alertwire-test.invalid/hook"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let destination = created["destination"]["id"].as_i64().unwrap();
    let rule: Value = api
        .post(app.url("/api/v1/rules"))
        .bearer_auth(admin_key)
        .json(&json!({"name": "All schema", "alert_type": "schema", "destination_ids": [destination], "enabled": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rule = rule["id"].as_i64().unwrap();
    let r = api
        .post(app.url("/api/v1/events"))
        .bearer_auth(admin_key)
        .json(&json!({"type": "schema_change", "asset": {"qualified_name": "db.public.orders", "asset_type": "table"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let page = app
        .services
        .deliveries(&app::model::DeliveryFilter::default())
        .await
        .unwrap();
    (destination, rule, page.items[0].id)
}

async fn each_key_role_reaches_only_its_routes(app: &TestApp) {
    let admin = key(app, KeyRole::Admin).await;
    let ids = fixtures(app, &admin).await;
    for role in [KeyRole::Ingest, KeyRole::Viewer] {
        check_role(app, role, &key(app, role).await, ids).await;
    }
    // Nothing the refused calls asked for happened.
    let d = app.services.destination(ids.0).await.unwrap();
    assert_eq!(d.name, "Ops", "a refused rename changed nothing");
    assert_eq!(app.services.list_rules().await.unwrap().len(), 1);
    check_role(app, KeyRole::Editor, &key(app, KeyRole::Editor).await, ids).await;
    check_role(app, KeyRole::Admin, &admin, ids).await;
}

/// Every route: allowed ones get past the scope check, the others get 403 with the error shape.
async fn check_role(app: &TestApp, role: KeyRole, secret: &str, (d, r, delivery): (i64, i64, i64)) {
    for c in routes(d, r, delivery) {
        let response = send(app, secret, &c).await;
        let status = response.status();
        if role.allows(c.needs) {
            assert!(
                status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                "{role} key on {} {}: {status}",
                c.method,
                c.path
            );
            continue;
        }
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{role} key on {} {}",
            c.method,
            c.path
        );
        let body = error_json(response).await;
        assert_eq!(body["error"]["code"], "forbidden");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(role.as_str()));
    }
}

async fn keys_made_before_roles_are_admins(app: &TestApp) {
    // A key row as the schema held it before roles: no role given.
    let secret = "aw_legacykeylegacykeylegacykeylegacykeylegacyke";
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(secret.as_bytes()))
    };
    let sql = "INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES ('old', 'aw_legacyk', $1, 0)";
    app.exec(sql, &hash).await;
    let keys = app.services.list_api_keys().await.unwrap();
    assert_eq!(keys[0].role, KeyRole::Admin);
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/deliveries/999999/redeliver"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "allowed, and there is no such delivery"
    );
}

async fn the_keys_page_creates_an_ingest_key_by_default(app: &TestApp) {
    let admin = app.signed_in("root@example.com", "admin").await;
    let html = app
        .get(&admin, "/settings/api-keys")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<option value="ingest" selected"#),
        "ingest is proposed"
    );
    let created: NewApiKey = app
        .call(&admin, "create_api_key", &[("name", "Monitor")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created.key.role, KeyRole::Ingest);
    let viewer: NewApiKey = app
        .call(
            &admin,
            "create_api_key",
            &[("name", "Dashboard"), ("role", "viewer")],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(viewer.key.role, KeyRole::Viewer);
    let r = app
        .call(
            &admin,
            "create_api_key",
            &[("name", "Bad"), ("role", "root")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = app
        .get(&admin, "/settings/api-keys")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(">Ingest<") && html.contains(">Viewer<"),
        "roles are listed"
    );
}
