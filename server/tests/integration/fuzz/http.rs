//! The live server: generated requests to every `/api/v1` route (with an
//! admin API key, a wrong one and none) and to every page server function
//! under `/fn/*` (form and JSON encodings, signed in as the pages are, with the
//! Origin the CSRF check wants, and signed out). No answer may be a 5xx, every
//! refusal under `/api/v1` has the API's error shape, and `/healthz` answers
//! 200 afterwards.

use super::hostile::{extreme_value, hostile_json, hostile_string, invalid_utf8, near};
use crate::helpers::{Engine, TestApp, PASSWORD};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use reqwest::header::{CONTENT_TYPE, ORIGIN};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

/// Field names of the API's bodies and the server functions' arguments,
/// including the nested form names server functions read (`form[name]`).
const KEYS: [&str; 44] = [
    "name",
    "url",
    "auth_type",
    "bearer_token",
    "api_key_header",
    "api_key",
    "headers",
    "auth",
    "alert_type",
    "asset_pattern",
    "destination_ids",
    "enabled",
    "role",
    "email",
    "password",
    "password_confirm",
    "current_password",
    "new_password",
    "id",
    "user_id",
    "key_id",
    "active",
    "status",
    "destination_id",
    "rule_id",
    "event_type",
    "range",
    "since",
    "until",
    "q",
    "cursor",
    "limit",
    "before",
    "page",
    "window",
    "type",
    "asset",
    "details",
    "occurred_at",
    "dedup_key",
    "form[name]",
    "form[url]",
    "form[headers][0][name]",
    "filter[status]",
];

const VALUES: [&str; 22] = [
    "1",
    "2",
    "0",
    "-1",
    "9223372036854775808",
    "true",
    "admin",
    "viewer",
    "bearer",
    "api_key",
    "https://hooks.example.com/a",
    "https://127.0.0.1/",
    "schema",
    "schema_change",
    "production.*",
    "failed",
    "24h",
    "2024-01-15T08:00:00Z",
    "a@example.com",
    PASSWORD,
    "alert_x",
    "msg_x",
];

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => near(&VALUES).prop_map(Value::from),
        2 => (-2i64..5).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        2 => hostile_json(),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![6 => prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned), 1 => hostile_string(12)]
}

fn as_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[derive(Debug, Clone)]
enum Body {
    Empty,
    Json(Value),
    Form(Vec<(String, String)>),
    Raw(&'static str, Vec<u8>),
}

fn body() -> impl Strategy<Value = Body> {
    let object = prop::collection::btree_map(key(), value(), 0..8)
        .prop_map(|m| Value::Object(m.into_iter().collect()));
    let pairs = prop::collection::vec((key(), value().prop_map(as_text)), 0..8);
    prop_oneof![
        1 => Just(Body::Empty),
        5 => object.prop_map(Body::Json),
        1 => super::events::body().prop_map(|(v, _)| Body::Json(v)),
        2 => hostile_json().prop_map(Body::Json),
        4 => pairs.prop_map(Body::Form),
        1 => invalid_utf8(r#"{"name":"x","url":"https://hooks.example.com/"}"#)
            .prop_map(|b| Body::Raw("application/json", b)),
        1 => invalid_utf8("name=x&url=https%3A%2F%2Fhooks.example.com%2F&email=a%40example.com")
            .prop_map(|b| Body::Raw("application/x-www-form-urlencoded", b)),
        1 => (1usize..200_000).prop_map(|n| Body::Raw("application/json", "[".repeat(n).into_bytes())),
        1 => extreme_value().prop_map(|v| Body::Raw("text/plain", v.to_string().into_bytes())),
    ]
}

/// What a `{id}` in a path is replaced with, percent-encoded where needed.
fn path_param() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => near(&["1", "2", "3", "0", "-1", "9223372036854775808", "alert_1"]).prop_map(|s| encode(s.as_bytes())),
        1 => Just("%FF%FE".to_owned()),
        1 => hostile_string(30).prop_map(|s| encode(s.as_bytes())),
    ]
}

fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Case {
    route: Index,
    param: String,
    query: Vec<(String, String)>,
    body: Body,
    /// 0: the right credentials, 1: none, 2: a wrong API key.
    who: u8,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<Index>(),
        path_param(),
        prop::collection::vec((key(), value().prop_map(as_text)), 0..4),
        body(),
        prop::sample::select(vec![0u8, 0, 0, 1, 2]),
    )
        .prop_map(|(route, param, query, body, who)| Case {
            route,
            param,
            query,
            body,
            who,
        })
}

/// Every route the server describes, and every server function it mounts.
async fn routes(app: &TestApp) -> Vec<(Method, String)> {
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            routes.push((method, format!("/api/v1{path}")));
        }
    }
    routes.push((Method::GET, "/api/v1/openapi.json".into()));
    routes.push((Method::GET, "/api/v1/no-such-route".into()));
    for (path, method) in server_fn::axum::server_fn_paths() {
        routes.push((method, path.to_owned()));
    }
    assert!(
        routes.iter().any(|(_, p)| p.starts_with("/fn/")),
        "no server functions"
    );
    routes
}

/// The signed-in browser and the API key the requests use.
struct Callers {
    browser: Client,
    /// Without cookies, shared: a new client a request left 100,000 closed
    /// connections waiting out TIME_WAIT, and the machine ran out of ports.
    plain: Client,
    key: String,
    sessions: usize,
}

impl Callers {
    async fn new(app: &TestApp) -> Callers {
        let mut callers = Callers {
            browser: Client::new(),
            plain: Client::new(),
            key: String::new(),
            sessions: 0,
        };
        callers.sign_in(app).await;
        callers
    }

    /// A new admin, session and API key: generated calls may sign out, change
    /// the role or revoke the key (401s were 25 % of a 100,000-case run and
    /// 47 % of a million-case one, as if the key was revoked early).
    async fn sign_in(&mut self, app: &TestApp) {
        self.key = app
            .services
            .create_api_key("fuzz", "admin", &server::services::Actor::command_line())
            .await
            .unwrap()
            .secret;
        self.sessions += 1;
        self.browser = app
            .signed_in(&format!("fuzz{}@example.com", self.sessions), "admin")
            .await;
    }
}

/// Past this a closed connection is how a request head is refused.
const MAX_HEAD: usize = 64 * 1024;

/// One request; `Err` describes an answer that breaks a promise.
async fn send(
    app: &TestApp,
    callers: &Callers,
    route: &(Method, String),
    case: &Case,
) -> Result<StatusCode, String> {
    let (method, template) = route;
    let path = template.replace("{id}", &case.param);
    let is_api = path.starts_with("/api/");
    let mut url = reqwest::Url::parse(&app.url(&path)).map_err(|e| format!("{path}: {e}"))?;
    if !case.query.is_empty() {
        url.query_pairs_mut().extend_pairs(case.query.iter());
    }
    let client = if case.who == 0 && !is_api {
        callers.browser.clone()
    } else {
        callers.plain.clone()
    };
    let mut request = client
        .request(method.clone(), url.clone())
        .header(ORIGIN, &app.base);
    if is_api && case.who != 1 {
        let key = if case.who == 0 {
            callers.key.as_str()
        } else {
            "aw_wrong_key"
        };
        request = request.bearer_auth(key);
    }
    request = match &case.body {
        Body::Empty => request,
        Body::Json(v) => request.json(v),
        Body::Form(pairs) => request.form(pairs),
        Body::Raw(kind, bytes) => request.header(CONTENT_TYPE, *kind).body(bytes.clone()),
    };
    // No second try: the server reads what it refuses (`http::unread_body`),
    // so a connection is never closed under an answer.
    let response = match request.send().await {
        Ok(response) => response,
        // hyper refuses a request head past its buffer (about 400 KiB) by closing
        // the connection, which the client reports as an error, not a status.
        Err(_) if url.as_str().len() > MAX_HEAD => return Ok(StatusCode::URI_TOO_LONG),
        // The client refuses to build a URL this long: counted with the refused heads.
        Err(e) if e.is_builder() => return Ok(StatusCode::URI_TOO_LONG),
        // `{e:?}` names the cause's chain (a reset, a broken pipe, a closed connection).
        Err(e) => return Err(format!("no answer {method} {}: {e:?}", short(&url))),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_server_error() {
        return Err(format!(
            "{status} {method} {}: {}\n  sent: {}",
            short(&url),
            short(&text),
            short(&format!("{:?}", case.body))
        ));
    }
    if is_api && status.is_client_error() {
        let shaped = serde_json::from_str::<Value>(&text)
            .is_ok_and(|v| v["error"]["code"].is_string() && v["error"]["message"].is_string());
        if !shaped {
            return Err(format!(
                "{status} without the error shape {method} {}: {}",
                short(&url),
                short(&text)
            ));
        }
    }
    Ok(status)
}

/// The start of a long URL, answer or body, for the failure list.
fn short(text: &impl ToString) -> String {
    text.to_string().chars().take(600).collect()
}

/// Cases per engine: `ALERTWIRE_FUZZ_HTTP_CASES`, else `PROPTEST_CASES`, else 150.
fn http_cases() -> u32 {
    std::env::var("ALERTWIRE_FUZZ_HTTP_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| super::cases(150))
}

async fn live_server_survives_hostile_requests(app: &TestApp) {
    let routes = routes(app).await;
    let mut callers = Callers::new(app).await;
    let strategy = case();
    let mut runner = TestRunner::new(Config {
        rng_seed: super::seed(),
        ..Config::default()
    });
    let (cases, mut failures, mut statuses) =
        (http_cases(), Vec::new(), std::collections::BTreeMap::new());
    let started = std::time::Instant::now();
    for n in 0..cases {
        if n % 200 == 199 {
            callers.sign_in(app).await;
        }
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let route = &routes[case.route.index(routes.len())];
        match send(app, &callers, route, &case).await {
            Ok(status) => *statuses.entry(status.as_u16()).or_insert(0u64) += 1,
            Err(failure) => failures.push(failure),
        }
    }
    let health = reqwest::get(app.url("/healthz")).await.unwrap().status();
    println!(
        "fuzz http ({} routes, {}): {cases} cases, {} failures, {:.1} s, /healthz {health}; statuses {statuses:?}",
        routes.len(),
        if app.services.db().is_postgres() { "postgres" } else { "sqlite" },
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} bad answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(health, StatusCode::OK);
}

/// Outbound sends (Send Test Alert, deliveries) give up quickly.
pub async fn spawn(engine: Engine) -> Option<TestApp> {
    TestApp::spawn_with(engine, |s| s.request_timeout = "1s".into()).await
}

crate::on_both_engines!(with crate::fuzz::http::spawn; live_server_survives_hostile_requests);
