//! `GET /api/v1/alerts` and `/api/v1/alerts/{id}`: cursor pages, RFC 3339
//! times, and each alert's delivery status.

use crate::destinations::Env;
use crate::helpers::error_json;
use crate::receivers::{receiver, url};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::receiver::Behaviour;
use std::time::{Duration, Instant};

crate::on_both_engines!(with crate::alerts_api::short_retries;
    alerts_are_listed_by_cursor_with_their_delivery_status,
);

/// Two attempts 50 ms apart, so a failing destination's delivery ends quickly.
pub async fn short_retries(engine: crate::helpers::Engine) -> Option<Env> {
    Env::with(engine, |s| s.retry_schedule = "0s,50ms".into()).await
}

async fn get(env: &Env, key: &str, path: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(env.app.url(&format!("/api/v1{path}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(env: &Env, key: &str, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(env.app.url(&format!("/api/v1{path}")))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn alerts_are_listed_by_cursor_with_their_delivery_status(env: &Env) {
    let key = env
        .app
        .services
        .create_api_key("k", "admin", &server::services::Actor::command_line())
        .await
        .unwrap()
        .secret;
    let ok = receiver(&env.ca.tls, Behaviour::default()).await;
    let failing = receiver(
        &env.ca.tls,
        Behaviour {
            status: 500,
            ..Behaviour::default()
        },
    )
    .await;
    let mut ids = Vec::new();
    for (name, rx) in [("Good", &ok), ("Bad", &failing)] {
        let created = post(
            env,
            &key,
            "/destinations",
            json!({"name": name, "url": url(rx, "localhost", "/h")}),
        )
        .await;
        ids.push(created["destination"]["id"].as_i64().unwrap());
    }
    post(
        env,
        &key,
        "/rules",
        json!({"name": "Both", "alert_type": "schema", "destination_ids": ids, "enabled": true}),
    )
    .await;
    post(env, &key, "/rules", json!({"name": "Good only", "alert_type": "freshness", "destination_ids": [ids[0]], "enabled": true})).await;
    let event = |kind: &str| json!({"type": kind, "asset": {"qualified_name": "db.public.orders", "asset_type": "table"}});
    post(env, &key, "/events", event("schema_change")).await;
    post(env, &key, "/events", event("freshness_violation")).await;

    // Wait until every delivery has ended (the failing one after its 2 attempts).
    let deadline = Instant::now() + Duration::from_secs(15);
    let page = loop {
        let (status, page) = get(env, &key, "/alerts").await;
        assert_eq!(status, StatusCode::OK);
        if page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["delivery_status"] != "pending")
        {
            break page;
        }
        assert!(Instant::now() < deadline, "deliveries never ended: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(page["next_cursor"], Value::Null);
    // Newest first: the freshness alert went to the good destination only.
    assert_eq!(items[0]["rule_name"], "Good only");
    assert_eq!(items[0]["delivery_status"], "delivered");
    assert_eq!(items[1]["delivery_status"], "partly_failed");
    let created_at = crate::helpers::epoch_ms(&items[0]["created_at"]);
    assert!(
        (server::clock::now_ms() - created_at).abs() < 60_000,
        "RFC 3339, and now"
    );

    // One at a time, by cursor.
    let (_, first) = get(env, &key, "/alerts?limit=1").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = get(env, &key, &format!("/alerts?limit=1&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["id"], items[1]["id"]);

    // One alert by its public id.
    let id = items[1]["id"].as_str().unwrap();
    assert!(id.starts_with("alert_"));
    let (status, one) = get(env, &key, &format!("/alerts/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["deliveries"].as_array().unwrap().len(), 2);

    // Bad input gets the error shape; an ingest key may not read.
    for (path, status, field) in [
        ("/alerts?limit=0", StatusCode::BAD_REQUEST, Some("limit")),
        ("/alerts?limit=abc", StatusCode::BAD_REQUEST, Some("limit")),
        (
            "/alerts?cursor=zzz",
            StatusCode::BAD_REQUEST,
            Some("cursor"),
        ),
        ("/alerts/alert_nope", StatusCode::NOT_FOUND, None),
    ] {
        let (got, body) = get(env, &key, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"]["field"].as_str(), field, "{path}");
    }
    let ingest = env
        .app
        .services
        .create_api_key("m", "ingest", &server::services::Actor::command_line())
        .await
        .unwrap()
        .secret;
    let r = reqwest::Client::new()
        .get(env.app.url("/api/v1/alerts"))
        .bearer_auth(ingest)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_json(r).await["error"]["code"], "forbidden");
}
