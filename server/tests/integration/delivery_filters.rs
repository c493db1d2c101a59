//! The Deliveries tab's questions over the API: filters by status (with
//! retrying), destination, rule, event type, time range and search; bad
//! filters refused with every field named; a delivery's attempts explained;
//! cancelling a delivery's retries.

use crate::destinations::Env;
use crate::receivers::{receiver, url};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::receiver::Behaviour;
use std::time::{Duration, Instant};

crate::on_both_engines!(with crate::alerts_api::short_retries;
    deliveries_answer_each_filter,
    bad_filters_are_refused_with_each_field_named,
);

mod retrying {
    use super::*;
    crate::on_both_engines!(with crate::delivery_filters::hour_long_retries;
        a_retrying_delivery_is_explained_and_can_be_cancelled,
    );
}

/// A failed first attempt then an hour's wait: the delivery stays retrying.
pub async fn hour_long_retries(engine: crate::helpers::Engine) -> Option<Env> {
    Env::with(engine, |s| s.retry_schedule = "0s,1h".into()).await
}

async fn call(env: &Env, key: &str, method: reqwest::Method, path: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .request(method, env.app.url(&format!("/api/v1{path}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(env: &Env, key: &str, path: &str) -> (StatusCode, Value) {
    call(env, key, reqwest::Method::GET, path).await
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

async fn key(env: &Env, role: &str) -> String {
    env.app
        .services
        .create_api_key(role, role, &server::services::Actor::command_line())
        .await
        .unwrap()
        .secret
}

async fn destination(env: &Env, key: &str, name: &str, rx: &server::receiver::Receiver) -> i64 {
    let created = post(
        env,
        key,
        "/destinations",
        json!({"name": name, "url": url(rx, "localhost", "/h")}),
    )
    .await;
    created["destination"]["id"].as_i64().unwrap()
}

/// The ids of the deliveries a query lists.
async fn ids(env: &Env, key: &str, query: &str) -> Vec<i64> {
    let (status, page) = get(env, key, &format!("/deliveries?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect()
}

fn enc(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

async fn deliveries_answer_each_filter(env: &Env) {
    let key = key(env, "admin").await;
    let ok = receiver(&env.ca.tls, Behaviour::default()).await;
    let bad = receiver(
        &env.ca.tls,
        Behaviour {
            status: 500,
            ..Behaviour::default()
        },
    )
    .await;
    let good_id = destination(env, &key, "Good", &ok).await;
    let bad_id = destination(env, &key, "Bad", &bad).await;
    let both = post(env, &key, "/rules", json!({"name": "Both", "alert_type": "schema", "destination_ids": [good_id, bad_id], "enabled": true})).await;
    let both_id = both["id"].as_i64().unwrap();
    post(env, &key, "/rules", json!({"name": "Good only", "alert_type": "freshness", "destination_ids": [good_id], "enabled": true})).await;
    let event = |kind: &str, name: &str| json!({"type": kind, "asset": {"qualified_name": name, "asset_type": "table"}});
    let schema = post(
        env,
        &key,
        "/events",
        event("schema_change", "db.public.orders"),
    )
    .await;
    post(
        env,
        &key,
        "/events",
        event("freshness_violation", "db.sales.invoices"),
    )
    .await;
    let schema_alert = schema["alerts"][0]["id"].as_str().unwrap().to_owned();

    // Every delivery ends: two delivered, the failing destination's one failed.
    let deadline = Instant::now() + Duration::from_secs(15);
    let all = loop {
        let (_, page) = get(env, &key, "/deliveries").await;
        let items = page["items"].as_array().unwrap().clone();
        if items.len() == 3 && items.iter().all(|d| d["status"] != "pending") {
            break items;
        }
        assert!(Instant::now() < deadline, "deliveries never ended: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let find = |dest: i64, kind: &str| {
        all.iter()
            .find(|d| d["destination_id"] == dest && d["event_type"] == kind)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (good_schema, bad_schema, good_fresh) = (
        find(good_id, "schema_change"),
        find(bad_id, "schema_change"),
        find(good_id, "freshness_violation"),
    );
    let row = all.iter().find(|d| d["id"] == bad_schema).unwrap();
    assert_eq!(row["state"], "failed");
    assert_eq!(row["qualified_name"], "db.public.orders");
    let msg_id = row["msg_id"].as_str().unwrap().to_owned();

    let newest_first = |mut v: Vec<i64>| {
        v.sort_unstable_by(|a, b| b.cmp(a));
        v
    };
    for (query, expected) in [
        ("status=failed".to_owned(), vec![bad_schema]),
        ("status=delivered".to_owned(), vec![good_schema, good_fresh]),
        ("status=pending".to_owned(), vec![]),
        ("status=retrying".to_owned(), vec![]),
        (
            format!("destination_id={good_id}"),
            vec![good_schema, good_fresh],
        ),
        (format!("rule_id={both_id}"), vec![good_schema, bad_schema]),
        (
            "event_type=freshness_violation".to_owned(),
            vec![good_fresh],
        ),
        (
            "status=delivered&event_type=schema_change".to_owned(),
            vec![good_schema],
        ),
        ("q=db.public".to_owned(), vec![good_schema, bad_schema]),
        ("q=db.sales.invoices".to_owned(), vec![good_fresh]),
        (
            "q=db.".to_owned(),
            vec![good_schema, bad_schema, good_fresh],
        ),
        // Prefix, not substring, and case-sensitive as names are stored.
        ("q=public".to_owned(), vec![]),
        ("q=DB.public".to_owned(), vec![]),
        (format!("q={schema_alert}"), vec![good_schema, bad_schema]),
        (format!("q={msg_id}"), vec![bad_schema]),
        (format!("destination_id={bad_id}&q=db.sales"), vec![]),
        // Combinations, read from the copies kept on each delivery.
        (
            format!("rule_id={both_id}&event_type=freshness_violation&status=failed"),
            vec![],
        ),
        (
            format!("rule_id={both_id}&event_type=schema_change"),
            vec![good_schema, bad_schema],
        ),
        (
            format!("rule_id={both_id}&destination_id={good_id}"),
            vec![good_schema],
        ),
        (
            format!("rule_id={both_id}&status=failed"),
            vec![bad_schema],
        ),
        // A search with other filters (those then kept off their indexes).
        ("status=failed&q=db.public".to_owned(), vec![bad_schema]),
        (
            format!("status=delivered&destination_id={good_id}&rule_id={both_id}&event_type=schema_change&q=db.public.orders"),
            vec![good_schema],
        ),
        (format!("status=failed&q={schema_alert}"), vec![bad_schema]),
        (format!("destination_id={good_id}&q={msg_id}"), vec![]),
        (format!("status=retrying&q={msg_id}"), vec![]),
    ] {
        assert_eq!(
            ids(env, &key, &query).await,
            newest_first(expected),
            "{query}"
        );
    }
    // links.asset_url leads to the asset's page: its alerts and their delivery status.
    let sent: Value = serde_json::from_slice(&ok.received()[0].body).unwrap();
    let asset_url = sent["links"]["asset_url"].as_str().unwrap().to_owned();
    let page = env.editor.get(&asset_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{asset_url}");
    let html = page.text().await.unwrap();
    let listed = if sent["event"]["type"] == "schema_change" {
        (&schema_alert, "Partly failed")
    } else {
        (&String::new(), "Delivered")
    };
    assert!(
        html.contains(listed.0.as_str()) && html.contains(listed.1),
        "{asset_url}: {html}"
    );
    let other = env
        .editor
        .get(env.app.url("/assets/no.such.asset"))
        .send()
        .await
        .unwrap();
    assert!(other
        .text()
        .await
        .unwrap()
        .contains("No alerts for this asset"));

    let now = time::OffsetDateTime::now_utc();
    let at = |offset: time::Duration| {
        (now + offset)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let hour = time::Duration::hours(1);
    assert_eq!(
        ids(env, &key, &format!("since={}", enc(&at(hour)))).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(env, &key, &format!("until={}", enc(&at(-hour)))).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(
            env,
            &key,
            &format!(
                "since={}&until={}&status=failed",
                enc(&at(-hour)),
                enc(&at(hour))
            )
        )
        .await,
        vec![bad_schema]
    );
    assert_eq!(
        ids(env, &key, &format!("since={}&q=db.sales", enc(&at(-hour)))).await,
        vec![good_fresh]
    );
    // A deleted rule's deliveries lose it, as its alerts do.
    let (status, _) = call(
        env,
        &key,
        reqwest::Method::DELETE,
        &format!("/rules/{both_id}"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        ids(env, &key, &format!("rule_id={both_id}")).await,
        Vec::<i64>::new()
    );
    assert_eq!(ids(env, &key, "q=db.public").await.len(), 2);
}

async fn bad_filters_are_refused_with_each_field_named(env: &Env) {
    let key = key(env, "viewer").await;
    for (query, field) in [
        ("status=lost", "status"),
        ("status=pending&destination_id=x", "destination_id"),
        ("rule_id=0", "rule_id"),
        ("event_type=boom", "event_type"),
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
        ("cursor=abc", "cursor"),
        ("q=a%07b", "q"),
    ] {
        let (status, body) = get(env, &key, &format!("/deliveries?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid", "{body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    // An inverted range.
    let (status, body) = get(
        env,
        &key,
        "/deliveries?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "until", "{body}");
}

async fn a_retrying_delivery_is_explained_and_can_be_cancelled(env: &Env) {
    let admin = key(env, "admin").await;
    let editor = key(env, "editor").await;
    let viewer = key(env, "viewer").await;
    // Slower than the test app's 2 s request timeout.
    let slow = receiver(
        &env.ca.tls,
        Behaviour {
            delay: Duration::from_secs(4),
            ..Behaviour::default()
        },
    )
    .await;
    let dest = destination(env, &admin, "Slow", &slow).await;
    post(
        env,
        &admin,
        "/rules",
        json!({"name": "All", "alert_type": "schema", "destination_ids": [dest], "enabled": true}),
    )
    .await;
    post(
        env,
        &admin,
        "/events",
        json!({"type": "schema_change", "asset": {"qualified_name": "a.b", "asset_type": "table"}}),
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let id = loop {
        let found = ids(env, &viewer, "status=retrying").await;
        if let Some(id) = found.first() {
            break *id;
        }
        assert!(Instant::now() < deadline, "never retrying");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ids(env, &viewer, "status=pending").await, Vec::<i64>::new());
    let (_, detail) = get(env, &viewer, &format!("/deliveries/{id}")).await;
    assert_eq!(detail["delivery"]["state"], "retrying");
    assert_eq!(detail["delivery"]["status"], "pending");
    let failure = &detail["attempts"][0]["failure"];
    assert_eq!(failure["kind"], "timeout", "{detail}");
    let fixes: Vec<&str> = failure["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        fixes.contains(&"Ensure the endpoint responds within 2 seconds"),
        "the configured timeout, not 30 s: {fixes:?}"
    );

    let cancel = format!("/deliveries/{id}/cancel");
    let (status, _) = call(env, &viewer, reqwest::Method::POST, &cancel).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(env, &editor, reqwest::Method::POST, &cancel).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["delivery"]["status"], "failed");
    assert_eq!(body["delivery"]["next_attempt_at"], Value::Null);
    assert_eq!(
        body["delivery"]["last_error"],
        "Retries cancelled by API key editor"
    );
    let (status, body) = call(env, &editor, reqwest::Method::POST, &cancel).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = call(
        env,
        &editor,
        reqwest::Method::POST,
        "/deliveries/999999/cancel",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(ids(env, &viewer, "status=failed").await, vec![id]);
}
