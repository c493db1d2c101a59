//! `/api/v1/destinations` with an API key.

use crate::destinations::Env;
use crate::receivers::{one, receiver, url, verify_with_python};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::receiver::Behaviour;

crate::on_both_engines!(with crate::destinations::Env::new; destinations_over_the_api, api_bad_input_gets_the_error_shape);

/// An admin key's client for `/api/v1`.
pub struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    pub async fn new(env: &Env) -> Api {
        let key = env
            .app
            .services
            .create_api_key("tests", "admin", &server::services::Actor::command_line())
            .await
            .unwrap()
            .secret;
        Api {
            client: reqwest::Client::new(),
            base: env.app.url("/api/v1"),
            key,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Posts a raw body, as an attacker may write any number the JSON grammar allows.
    pub async fn post_raw(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path} with {body}: no answer ({e})"));
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

async fn destinations_over_the_api(env: &Env) {
    let api = Api::new(env).await;
    let rx = receiver(&env.ca.tls, Behaviour::default()).await;
    let body = json!({
        "name": "Ops webhook",
        "url": url(&rx, "localhost", "/api"),
        "auth": {"type": "api_key", "header": "X-Ops-Key", "key": "ops-secret"},
        "headers": [{"name": "X-Env", "value": "prod"}],
    });
    let (status, created) = api
        .send(reqwest::Method::POST, "/destinations", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["signing_secret"].as_str().unwrap().to_string();
    let id = created["destination"]["id"].as_i64().unwrap();
    assert_eq!(
        created["destination"]["auth"],
        json!({"type": "api_key", "header": "x-ops-key"})
    );

    let (status, list) = api.send(reqwest::Method::GET, "/destinations", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["next_cursor"], serde_json::Value::Null);
    assert!(
        !list.to_string().contains("ops-secret"),
        "secrets are never returned"
    );
    assert!(!list.to_string().contains(&secret));

    let (status, tested) = api
        .send(
            reqwest::Method::POST,
            &format!("/destinations/{id}/test"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tested["test"]["ok"], true, "{tested}");
    let got = one(&rx).await;
    assert_eq!(got.header("x-ops-key"), Some("ops-secret"));
    assert_eq!(got.header("x-env"), Some("prod"));
    assert_eq!(verify_with_python(&secret, &got), (true, true));

    let (status, patched) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/destinations/{id}"),
            Some(json!({"enabled": false, "name": "Ops"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["enabled"], false);
    assert_eq!(patched["name"], "Ops");
    assert_eq!(
        patched["auth"]["type"], "api_key",
        "auth kept when not given"
    );

    let (status, rotated) = api
        .send(
            reqwest::Method::POST,
            &format!("/destinations/{id}/rotate-secret"),
            Some(json!({"grace_seconds": 60})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(rotated["signing_secret"].as_str().unwrap(), secret);

    let (status, _) = api
        .send(
            reqwest::Method::DELETE,
            &format!("/destinations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = api
        .send(reqwest::Method::GET, &format!("/destinations/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(gone["error"]["code"], "not_found");
}

async fn api_bad_input_gets_the_error_shape(env: &Env) {
    let api = Api::new(env).await;
    let (status, err) = api
        .send(
            reqwest::Method::POST,
            "/destinations",
            Some(json!({"name": "x", "url": "http://plain.example.com/"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["code"], "invalid");
    assert_eq!(err["error"]["field"], "url");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Webhook URLs must be HTTPS"));

    let (status, err) = api
        .send(
            reqwest::Method::POST,
            "/destinations",
            Some(json!({"name": "x", "url": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["message"].is_string());

    let raw = api
        .client
        .post(format!("{}/destinations", api.base))
        .bearer_auth(&api.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let err: Value = raw.json().await.unwrap();
    assert_eq!(err["error"]["code"], "invalid_json");
    assert!(
        env.app
            .services
            .list_destinations()
            .await
            .unwrap()
            .is_empty(),
        "nothing created"
    );
}
