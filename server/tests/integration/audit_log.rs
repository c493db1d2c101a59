//! The audit log: every kind of change, test, reveal, redelivery, user and
//! key change, failed sign-in and lockout is recorded with who (a user or an
//! API key), what, which object, when and from where; never a secret value.
//! `GET /api/v1/audit-log` and Settings -> Audit log filter it by actor,
//! object and time, in cursor pages; only admins see it.

use crate::destinations::Env;
use crate::helpers::{epoch_ms, error_json, Engine, TestApp, PASSWORD};
use crate::receivers::{receiver, url};
use app::model::{DestinationOutcome, DestinationWithSecret, NewApiKey};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use server::receiver::{Behaviour, Receiver};
use std::time::Duration;

/// Secret values the scenario types or is shown; none may reach the log.
const BEARER_API: &str = "api-bearer-token-5f1c";
const BEARER_PAGE: &str = "page-bearer-token-9d2e";
const HEADER_SECRET: &str = "header-secret-value-77aa";
const API_KEY_VALUE: &str = "destination-api-key-3c3c";
const NEW_PASSWORD: &str = "a brand new passphrase";
const WRONG_PASSWORD: &str = "not the password at all";
const OTHER_PASSWORD: &str = "another user's passphrase";

pub struct World {
    env: Env,
    rx: Receiver,
    admin: Client,
    admin_id: i64,
    key: String,
    key_id: i64,
    /// The key's secret and the admin's password.
    secrets: Vec<String>,
    /// The last entry the setup wrote (users and the key made from the command line).
    baseline: i64,
}

impl World {
    async fn new(engine: Engine) -> Option<World> {
        let env = Env::new(engine).await?;
        let rx = receiver(&env.ca.tls, Behaviour::default()).await;
        let admin = env.app.signed_in("admin@example.com", "admin").await;
        let admin_id = env
            .app
            .services
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.email == "admin@example.com")
            .unwrap()
            .id;
        let created = env
            .app
            .services
            .create_api_key("Ops key", "admin", &server::services::Actor::command_line())
            .await
            .unwrap();
        let baseline = last_id(&env.app).await;
        Some(World {
            env,
            rx,
            admin,
            admin_id,
            key: created.secret.clone(),
            key_id: created.key.id,
            secrets: vec![created.secret, PASSWORD.into()],
            baseline,
        })
    }

    fn app(&self) -> &TestApp {
        &self.env.app
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        self.api_as(&self.key, method, path, body).await
    }

    async fn api_as(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = Client::new()
            .request(method, self.app().url(&format!("/api/v1{path}")))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.api(method.clone(), path, body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A server function called by the signed-in admin; must succeed.
    async fn call(&self, function: &str, form: &[(&str, &str)]) -> String {
        let r = self.app().call(&self.admin, function, form).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{function}: {status} {text}");
        text
    }

    /// The entries written since the setup, newest first, through the API.
    async fn since_setup(&self) -> Vec<Value> {
        let mut all = self.entries("").await;
        all.retain(|e| e["id"].as_i64().unwrap() > self.baseline);
        all
    }

    /// Every entry, newest first, through the API.
    async fn entries(&self, query: &str) -> Vec<Value> {
        let page = self
            .ok(Method::GET, &format!("/audit-log?limit=200&{query}"), None)
            .await;
        assert!(page["next_cursor"].is_null(), "one page holds them all");
        page["items"].as_array().unwrap().clone()
    }
}

crate::on_both_engines!(with crate::audit_log::World::new;
    every_kind_of_action_is_recorded_with_who_and_where,
    the_log_filters_by_actor_object_and_time_in_cursor_pages,
    bad_filters_and_other_roles_are_refused,
    the_settings_page_lists_and_filters_without_javascript,
    cancelled_retries_are_recorded,
);

async fn last_id(app: &TestApp) -> i64 {
    app.texts("SELECT CAST(COALESCE(MAX(id), 0) AS TEXT) FROM audit_log")
        .await[0]
        .parse()
        .unwrap()
}

/// What `scenario` made, and every secret it typed or was shown.
struct Made {
    api_destination: i64,
    api_rule: i64,
    page_destination: i64,
    user: i64,
    secrets: Vec<String>,
}

/// Runs every audited action once: the API key through the REST API, the
/// admin through the pages, and failed sign-ins.
async fn scenario(w: &World) -> Made {
    let mut secrets = w.secrets.clone();
    let hook = url(&w.rx, "localhost", "/hook");
    // The API key: a destination's whole life, a rule's, a redelivery.
    let created = w
        .ok(
            Method::POST,
            "/destinations",
            Some(json!({"name": "Api dest", "url": hook,
                "auth": {"type": "bearer", "token": BEARER_API},
                "headers": [{"name": "X-Auth-Token", "value": HEADER_SECRET}]})),
        )
        .await;
    let api_destination = created["destination"]["id"].as_i64().unwrap();
    secrets.push(created["signing_secret"].as_str().unwrap().into());
    let d = format!("/destinations/{api_destination}");
    w.ok(
        Method::PATCH,
        &d,
        Some(json!({"name": "Api dest 2",
        "auth": {"type": "api_key", "header": "X-Key", "key": API_KEY_VALUE}})),
    )
    .await;
    w.ok(Method::PATCH, &d, Some(json!({"enabled": false})))
        .await;
    w.ok(Method::PATCH, &d, Some(json!({"enabled": true})))
        .await;
    w.ok(Method::POST, &format!("{d}/test"), None).await;
    let rotated = w
        .ok(Method::POST, &format!("{d}/rotate-secret"), None)
        .await;
    secrets.push(rotated["signing_secret"].as_str().unwrap().into());
    let rule = w
        .ok(
            Method::POST,
            "/rules",
            Some(json!({"name": "Api rule", "alert_type": "schema",
                "asset_pattern": "api.*", "destination_ids": [api_destination]})),
        )
        .await;
    let api_rule = rule["id"].as_i64().unwrap();
    let rule_path = format!("/rules/{api_rule}");
    w.ok(
        Method::PATCH,
        &rule_path,
        Some(json!({"name": "Api rule 2"})),
    )
    .await;
    let posted = w
        .ok(
            Method::POST,
            "/events",
            Some(json!({"type": "schema_change",
                "asset": {"qualified_name": "api.orders", "asset_type": "table"}})),
        )
        .await;
    assert_eq!(posted["alerts"].as_array().unwrap().len(), 1);
    let delivery = delivered(w, api_destination).await;
    w.ok(
        Method::POST,
        &format!("/deliveries/{delivery}/redeliver"),
        None,
    )
    .await;
    w.ok(Method::DELETE, &rule_path, None).await;

    // The admin in the browser: the same, and users, keys and passwords.
    let saved = w
        .call(
            "submit_destination",
            &[
                ("form[name]", "Page dest"),
                ("form[url]", &hook),
                ("form[auth_type]", "bearer"),
                ("form[bearer_token]", BEARER_PAGE),
                ("form[headers][0][name]", "Authorization-Extra"),
                ("form[headers][0][value]", HEADER_SECRET),
                ("intent", "save"),
            ],
        )
        .await;
    let DestinationOutcome::Created(DestinationWithSecret {
        destination,
        signing_secret,
    }) = serde_json::from_str(&saved).unwrap()
    else {
        panic!("{saved}")
    };
    secrets.push(signing_secret);
    let page_destination = destination.id;
    let id = page_destination.to_string();
    w.call(
        "submit_destination",
        &[
            ("form[name]", "Page dest 2"),
            ("form[url]", &hook),
            ("form[auth_type]", "bearer"),
            ("intent", "save"),
            ("id", &id),
        ],
    )
    .await;
    w.call(
        "submit_destination",
        &[
            ("form[name]", "Page dest 2"),
            ("form[url]", &hook),
            ("form[auth_type]", "bearer"),
            ("intent", "test"),
            ("id", &id),
        ],
    )
    .await;
    // Send Test Alert before saving: no id yet.
    w.call(
        "submit_destination",
        &[
            ("form[name]", "Unsaved dest"),
            ("form[url]", &hook),
            ("form[auth_type]", "bearer"),
            ("form[bearer_token]", BEARER_PAGE),
            ("intent", "test"),
        ],
    )
    .await;
    w.call(
        "set_destination_enabled",
        &[("id", &id), ("enabled", "false")],
    )
    .await;
    w.call(
        "set_destination_enabled",
        &[("id", &id), ("enabled", "true")],
    )
    .await;
    let wrong = w
        .app()
        .call(
            &w.admin,
            "reveal_signing_secret",
            &[("id", &id), ("password", WRONG_PASSWORD)],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let revealed: String = serde_json::from_str(
        &w.call(
            "reveal_signing_secret",
            &[("id", &id), ("password", PASSWORD)],
        )
        .await,
    )
    .unwrap();
    secrets.push(revealed);
    let rotated: DestinationWithSecret =
        serde_json::from_str(&w.call("rotate_signing_secret", &[("id", &id)]).await).unwrap();
    secrets.push(rotated.signing_secret);
    let rule: Value = serde_json::from_str(
        &w.call(
            "save_rule",
            &[
                ("form[name]", "Page rule"),
                ("form[alert_type]", "schema"),
                ("form[asset_pattern]", "page.*"),
                ("form[destination_ids][0]", &id),
                ("form[enabled]", "true"),
            ],
        )
        .await,
    )
    .unwrap();
    let rule_id = rule["id"].to_string();
    w.call(
        "save_rule",
        &[
            ("form[name]", "Page rule 2"),
            ("form[alert_type]", "schema"),
            ("form[asset_pattern]", "page.*"),
            ("form[destination_ids][0]", &id),
            ("form[enabled]", "true"),
            ("id", &rule_id),
        ],
    )
    .await;
    w.call(
        "set_rule_enabled",
        &[("id", &rule_id), ("enabled", "false")],
    )
    .await;
    w.call("set_rule_enabled", &[("id", &rule_id), ("enabled", "true")])
        .await;
    w.ok(
        Method::POST,
        "/events",
        Some(json!({"type": "schema_change",
            "asset": {"qualified_name": "page.orders", "asset_type": "table"}})),
    )
    .await;
    let delivery = delivered(w, page_destination).await.to_string();
    w.call("redeliver", &[("id", &delivery)]).await;
    w.call("delete_rule", &[("id", &rule_id)]).await;
    let user: Value = serde_json::from_str(
        &w.call(
            "create_user",
            &[
                ("email", "new.person@example.com"),
                ("password", OTHER_PASSWORD),
                ("password_confirm", OTHER_PASSWORD),
                ("role", "viewer"),
            ],
        )
        .await,
    )
    .unwrap();
    secrets.push(OTHER_PASSWORD.into());
    let user_id = user["id"].as_i64().unwrap();
    let uid = user_id.to_string();
    w.call("set_user_role", &[("user_id", &uid), ("role", "editor")])
        .await;
    w.call("set_user_active", &[("user_id", &uid), ("active", "false")])
        .await;
    w.call("set_user_active", &[("user_id", &uid), ("active", "true")])
        .await;
    let key: NewApiKey = serde_json::from_str(
        &w.call(
            "create_api_key",
            &[("name", "Page key"), ("role", "viewer")],
        )
        .await,
    )
    .unwrap();
    secrets.push(key.secret.clone());
    w.call("revoke_api_key", &[("key_id", &key.key.id.to_string())])
        .await;
    w.call(
        "change_password",
        &[
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("new_password_confirm", NEW_PASSWORD),
        ],
    )
    .await;
    secrets.push(NEW_PASSWORD.into());
    w.call("delete_destination", &[("id", &id)]).await;
    w.ok(Method::DELETE, &d, None).await;

    // Nobody signed in: wrong passwords until the account locks, and an unknown account.
    for _ in 0..5 {
        let r = sign_in(w.app(), "new.person@example.com", WRONG_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = sign_in(w.app(), "new.person@example.com", OTHER_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "locked out");
    let r = sign_in(w.app(), "nobody@example.com", WRONG_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    secrets.push(WRONG_PASSWORD.into());
    Made {
        api_destination,
        api_rule,
        page_destination,
        user: user_id,
        secrets,
    }
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.call(
        &TestApp::browser(),
        "login",
        &[("email", email), ("password", password)],
    )
    .await
}

/// The destination's first delivery once it is delivered.
async fn delivered(w: &World, destination: i64) -> i64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = w
            .ok(
                Method::GET,
                &format!("/deliveries?destination_id={destination}&status=delivered"),
                None,
            )
            .await;
        if let Some(id) = page["items"][0]["id"].as_i64() {
            return id;
        }
        assert!(std::time::Instant::now() < deadline, "never delivered");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `actor kind:id|action|object kind:id|object name`, as one string per entry.
fn line(e: &Value) -> String {
    let actor = match &e["actor"] {
        Value::Null => "nobody".to_owned(),
        a => format!("{}:{}", a["kind"].as_str().unwrap(), a["id"]),
    };
    format!(
        "{actor}|{}|{}:{}|{}",
        e["action"].as_str().unwrap(),
        e["object"]["kind"].as_str().unwrap(),
        e["object"]["id"],
        e["object"]["name"].as_str().unwrap()
    )
}

async fn every_kind_of_action_is_recorded_with_who_and_where(w: &World) {
    let made = scenario(w).await;
    let entries = w.since_setup().await;
    let mut lines: Vec<String> = entries.iter().map(line).collect();
    lines.reverse();
    let key = format!("api_key:{}", w.key_id);
    let admin = format!("user:{}", w.admin_id);
    let (a, p, u) = (made.api_destination, made.page_destination, made.user);
    let expected = [
        format!("{key}|create|destination:{a}|Api dest"),
        format!("{key}|update|destination:{a}|Api dest 2"),
        format!("{key}|disable|destination:{a}|Api dest 2"),
        format!("{key}|enable|destination:{a}|Api dest 2"),
        format!("{key}|test|destination:{a}|Api dest 2"),
        format!("{key}|rotate_secret|destination:{a}|Api dest 2"),
        format!("{key}|create|rule:"),
        format!("{key}|update|rule:"),
        format!("{key}|redeliver|delivery:"),
        format!("{key}|delete|rule:"),
        format!("{admin}|create|destination:{p}|Page dest"),
        format!("{admin}|update|destination:{p}|Page dest 2"),
        format!("{admin}|test|destination:{p}|Page dest 2"),
        format!("{admin}|test|destination:null|Unsaved dest"),
        format!("{admin}|disable|destination:{p}|Page dest 2"),
        format!("{admin}|enable|destination:{p}|Page dest 2"),
        format!(
            "{admin}|password_reentry_failed|user:{}|admin@example.com",
            w.admin_id
        ),
        format!("{admin}|reveal_secret|destination:{p}|Page dest 2"),
        format!("{admin}|rotate_secret|destination:{p}|Page dest 2"),
        format!("{admin}|create|rule:"),
        format!("{admin}|update|rule:"),
        format!("{admin}|disable|rule:"),
        format!("{admin}|enable|rule:"),
        format!("{admin}|redeliver|delivery:"),
        format!("{admin}|delete|rule:"),
        format!("{admin}|create|user:{u}|new.person@example.com"),
        format!("{admin}|change_role|user:{u}|new.person@example.com"),
        format!("{admin}|deactivate|user:{u}|new.person@example.com"),
        format!("{admin}|activate|user:{u}|new.person@example.com"),
        format!("{admin}|create|api_key:"),
        format!("{admin}|revoke|api_key:"),
        format!(
            "{admin}|change_password|user:{}|admin@example.com",
            w.admin_id
        ),
        format!("{admin}|delete|destination:{p}|Page dest 2"),
        format!("{key}|delete|destination:{a}|Api dest 2"),
        format!("nobody|sign_in_failed|user:{u}|new.person@example.com"),
        format!("nobody|sign_in_failed|user:{u}|new.person@example.com"),
        format!("nobody|sign_in_failed|user:{u}|new.person@example.com"),
        format!("nobody|sign_in_failed|user:{u}|new.person@example.com"),
        format!("nobody|sign_in_failed|user:{u}|new.person@example.com"),
        format!("nobody|locked_out|user:{u}|new.person@example.com"),
        "nobody|sign_in_failed|user:null|nobody@example.com".to_owned(),
    ];
    assert_eq!(
        lines.len(),
        expected.len(),
        "one entry per action, oldest first:\n{}",
        lines.join("\n")
    );
    for (got, want) in lines.iter().zip(&expected) {
        assert!(
            got.starts_with(want.as_str()),
            "{got} is not {want}; all:\n{}",
            lines.join("\n")
        );
    }
    // Names as they were: the rules' and keys' names, the deliveries'.
    assert!(lines.contains(&format!("{key}|create|rule:{}|Api rule", made.api_rule)));
    assert!(lines.contains(&format!("{key}|update|rule:{}|Api rule 2", made.api_rule)));
    assert!(lines
        .iter()
        .any(|l| l.starts_with(&format!("{admin}|create|api_key:")) && l.ends_with("|Page key")));
    assert!(lines
        .iter()
        .any(|l| l.contains("|redeliver|delivery:") && l.ends_with(" to Api dest 2")));
    for e in &entries {
        // Every action came over the network, from this machine.
        assert_eq!(e["address"], "127.0.0.1", "{e}");
        assert!(epoch_ms(&e["at"]) > 0);
        if e["actor"]["kind"] == "api_key" {
            assert_eq!(e["actor"]["name"], "Ops key");
        }
        if e["actor"]["kind"] == "user" {
            assert_eq!(e["actor"]["name"], "admin@example.com");
        }
    }

    // No secret value was recorded, in any column of any entry.
    let stored = w
        .app()
        .texts(
            "SELECT COALESCE(actor_kind, '') || '|' || COALESCE(CAST(actor_id AS TEXT), '') || '|' || actor_name \
             || '|' || action || '|' || object_kind || '|' || COALESCE(CAST(object_id AS TEXT), '') || '|' \
             || object_name || '|' || COALESCE(address, '') FROM audit_log",
        )
        .await;
    assert_eq!(stored.len(), entries.len() + w.baseline as usize);
    let all = stored.join("\n");
    for secret in made.secrets.iter().map(String::as_str).chain([
        BEARER_API,
        BEARER_PAGE,
        HEADER_SECRET,
        API_KEY_VALUE,
    ]) {
        assert!(
            !all.contains(secret),
            "{secret} is in the audit log:\n{all}"
        );
    }
    // Nor a fragment of one: a secret's first characters, as an API key's prefix is shown elsewhere.
    for secret in &made.secrets {
        if secret.starts_with("whsec_") || secret.starts_with("aw_") {
            assert!(!all.contains(&secret[..12]), "{secret} prefix in:\n{all}");
        }
    }
}

async fn the_log_filters_by_actor_object_and_time_in_cursor_pages(w: &World) {
    let made = scenario(w).await;
    let all = w.entries("").await;
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|p| p[0] > p[1]), "newest first");

    let by_key = w.entries(&format!("actor=api_key:{}", w.key_id)).await;
    assert_eq!(by_key.len(), 11);
    assert!(by_key
        .iter()
        .all(|e| e["actor"]["kind"] == "api_key" && e["actor"]["id"] == w.key_id));
    let by_admin = w.entries(&format!("actor=user:{}", w.admin_id)).await;
    assert_eq!(by_admin.len(), 23);
    assert!(by_admin.iter().all(|e| e["actor"]["id"] == w.admin_id));
    assert!(w.entries("actor=user:999999").await.is_empty());

    let one = w
        .entries(&format!("object=destination:{}", made.page_destination))
        .await;
    assert_eq!(one.len(), 8);
    assert!(one
        .iter()
        .all(|e| e["object"]["id"] == made.page_destination));
    let rules = w.entries("object=rule").await;
    assert_eq!(rules.len(), 8);
    assert!(rules.iter().all(|e| e["object"]["kind"] == "rule"));
    let both = w
        .entries(&format!(
            "actor=user:{}&object=user:{}",
            w.admin_id, made.user
        ))
        .await;
    assert_eq!(both.len(), 4);

    // Time: a boundary between two entries at different times.
    let times: Vec<i64> = all.iter().map(|e| epoch_ms(&e["at"])).collect();
    let cut = times[times.len() / 2];
    let since = app::format::rfc3339_millis(cut);
    let newer = w.entries(&format!("since={since}")).await;
    let older = w.entries(&format!("until={since}")).await;
    assert_eq!(newer.len() + older.len(), all.len());
    assert!(newer.iter().all(|e| epoch_ms(&e["at"]) >= cut));
    assert!(older.iter().all(|e| epoch_ms(&e["at"]) < cut));
    let window = w
        .entries(&format!(
            "since={}&until={}",
            app::format::rfc3339_millis(times[times.len() - 1]),
            app::format::rfc3339_millis(times[0] + 1)
        ))
        .await;
    assert_eq!(window.len(), all.len());

    // Cursor pages of three walk every entry once, in order.
    let mut walked = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = w
            .ok(
                Method::GET,
                &format!("/audit-log?limit=3&cursor={cursor}"),
                None,
            )
            .await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        walked.extend(items.iter().map(|e| e["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, ids);
    // Filters hold across pages.
    let first = w
        .ok(
            Method::GET,
            &format!("/audit-log?limit=2&actor=api_key:{}", w.key_id),
            None,
        )
        .await;
    let next = first["next_cursor"].as_str().unwrap();
    let second = w
        .ok(
            Method::GET,
            &format!(
                "/audit-log?limit=2&actor=api_key:{}&cursor={next}",
                w.key_id
            ),
            None,
        )
        .await;
    let paged: Vec<&Value> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .collect();
    assert_eq!(paged.len(), 4);
    for (got, want) in paged.iter().zip(&by_key) {
        assert_eq!(got["id"], want["id"]);
    }
}

async fn bad_filters_and_other_roles_are_refused(w: &World) {
    for (query, field) in [
        ("actor=root", "actor"),
        ("actor=user:abc", "actor"),
        ("actor=robot:1", "actor"),
        ("object=widget", "object"),
        ("object=destination:x", "object"),
        ("since=yesterday", "since"),
        ("until=2024-13-40T00:00:00Z", "until"),
        (
            "since=2024-01-15T09:00:00Z&until=2024-01-15T08:00:00Z",
            "until",
        ),
        ("cursor=abc", "cursor"),
        ("cursor=-5", "cursor"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
    ] {
        let r = w
            .api(Method::GET, &format!("/audit-log?{query}"), None)
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        let body = error_json(r).await;
        assert_eq!(body["error"]["code"], "invalid", "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }

    // Keys other than admin keys, and people other than admins, are refused.
    let mut keys = Vec::new();
    for role in ["ingest", "viewer", "editor"] {
        let key = w
            .app()
            .services
            .create_api_key(role, role, &server::services::Actor::command_line())
            .await
            .unwrap()
            .secret;
        keys.push((role, key));
    }
    let viewer = w
        .app()
        .signed_in("viewer.person@example.com", "viewer")
        .await;
    let editor = w
        .app()
        .signed_in("editor.person@example.com", "editor")
        .await;
    let before = last_id(w.app()).await;
    for (role, key) in &keys {
        let r = w.api_as(key, Method::GET, "/audit-log", None).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} key");
        assert_eq!(error_json(r).await["error"]["code"], "forbidden");
    }
    let r = Client::new()
        .get(w.app().url("/api/v1/audit-log"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    for (role, person) in [("viewer", &viewer), ("editor", &editor)] {
        let r = w.app().call(person, "audit_log", &[]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} server function");
        let page = w.app().get(person, "/settings/audit-log").await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "{role} page");
        let html = page.text().await.unwrap();
        assert!(html.contains("You do not have permission"), "{html}");
        assert!(!html.contains("Ops key"));
        assert!(
            !html.contains("href=\"/settings/audit-log\""),
            "no tab for a {role}"
        );
    }
    assert_eq!(
        last_id(w.app()).await,
        before,
        "reads and refusals are not audited"
    );
}

async fn the_settings_page_lists_and_filters_without_javascript(w: &World) {
    let app = w.app();
    // Two actors: the API key and the admin.
    let hook = url(&w.rx, "localhost", "/hook");
    w.ok(
        Method::POST,
        "/destinations",
        Some(json!({"name": "From the key", "url": hook})),
    )
    .await;
    w.call(
        "submit_destination",
        &[
            ("form[name]", "From the admin"),
            ("form[url]", &hook),
            ("intent", "save"),
        ],
    )
    .await;

    let r = app.get(&w.admin, "/settings/audit-log").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("href=\"/settings/audit-log\""),
        "the Settings tab"
    );
    assert!(html.contains("From the key") && html.contains("From the admin"));
    assert!(html.contains("127.0.0.1"));
    // The setup's users and key were made from the command line.
    assert!(html.contains("Command line"));
    // The actor filter offers both, and a GET form carries it.
    assert!(html.contains(&format!("value=\"api_key:{}\"", w.key_id)));
    assert!(html.contains(&format!("value=\"user:{}\"", w.admin_id)));

    let r = app
        .get(
            &w.admin,
            &format!("/settings/audit-log?actor=api_key%3A{}", w.key_id),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("From the key"));
    assert!(!html.contains("From the admin"), "filtered to the key");
    assert_eq!(html.matches("data-action=").count(), 1);
    let r = app
        .get(
            &w.admin,
            &format!("/settings/audit-log?actor=user%3A{}", w.admin_id),
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("From the admin") && !html.contains("From the key"));
    assert_eq!(html.matches("data-action=").count(), 1);

    // A bad filter is named on the page, which still offers the form.
    let r = app
        .get(&w.admin, "/settings/audit-log?since=yesterday")
        .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("since is a time like 2024-01-15T08:00:00Z"),
        "{html}"
    );
    assert!(html.contains("Filter the audit log"));
}

/// Waits for the destination's newest delivery to be pending after one failed attempt.
async fn retrying(w: &World, destination: i64, skip: &[i64]) -> i64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = w
            .ok(
                Method::GET,
                &format!("/deliveries?destination_id={destination}"),
                None,
            )
            .await;
        let found = page["items"].as_array().unwrap().iter().find(|d| {
            !skip.contains(&d["id"].as_i64().unwrap())
                && d["status"] == "pending"
                && d["attempts"] == 1
        });
        if let Some(d) = found {
            return d["id"].as_i64().unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never retrying: {page}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn cancelled_retries_are_recorded(w: &World) {
    let down = receiver(
        &w.env.ca.tls,
        Behaviour {
            status: 500,
            ..Behaviour::default()
        },
    )
    .await;
    let created = w
        .ok(
            Method::POST,
            "/destinations",
            Some(json!({"name": "Down dest", "url": url(&down, "localhost", "/hook")})),
        )
        .await;
    let dest = created["destination"]["id"].as_i64().unwrap();
    w.ok(
        Method::POST,
        "/rules",
        Some(json!({"name": "Down rule", "alert_type": "schema", "destination_ids": [dest]})),
    )
    .await;
    let event = json!({"type": "schema_change",
        "asset": {"qualified_name": "down.orders", "asset_type": "table"}});
    w.ok(Method::POST, "/events", Some(event.clone())).await;
    let first = retrying(w, dest, &[]).await;
    let by_key = w
        .ok(Method::POST, &format!("/deliveries/{first}/cancel"), None)
        .await;
    assert_eq!(
        by_key["delivery"]["last_error"],
        "Retries cancelled by API key Ops key"
    );
    w.ok(Method::POST, "/events", Some(event)).await;
    let second = retrying(w, dest, &[first]).await;
    let by_admin: Value = serde_json::from_str(
        &w.call("cancel_delivery", &[("id", &second.to_string())])
            .await,
    )
    .unwrap();
    assert_eq!(
        by_admin["last_error"],
        "Retries cancelled by admin@example.com"
    );

    let cancels: Vec<String> = w
        .since_setup()
        .await
        .iter()
        .filter(|e| e["action"] == "cancel")
        .map(line)
        .collect();
    assert_eq!(cancels.len(), 2, "{cancels:?}");
    assert!(
        cancels[0].starts_with(&format!(
            "user:{}|cancel|delivery:{second}|alert_",
            w.admin_id
        )),
        "{cancels:?}"
    );
    assert!(
        cancels[1].starts_with(&format!(
            "api_key:{}|cancel|delivery:{first}|alert_",
            w.key_id
        )),
        "{cancels:?}"
    );
    assert!(cancels.iter().all(|l| l.ends_with(" to Down dest")));
}
