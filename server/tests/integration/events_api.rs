//! `POST /api/v1/events` with bad input, batches, and `/api/v1/rules`.

use crate::pipeline::{event, Pipeline};
use crate::receivers::receiver;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::receiver::Behaviour;

crate::on_both_engines!(with crate::pipeline::Pipeline::new;
    bad_events_are_refused_and_create_nothing,
    a_batch_is_all_or_nothing,
    rules_are_managed_through_the_api,
);

async fn nothing_stored(p: &Pipeline) {
    let (alerts, _) = p.env.app.services.recent_alerts(None, 50).await.unwrap();
    assert!(alerts.is_empty(), "no alert was created: {alerts:?}");
    let page = p
        .env
        .app
        .services
        .deliveries(&Default::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

async fn raw(p: &Pipeline, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(p.env.app.url("/api/v1/events"))
        .bearer_auth(&p.key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn expect_error(
    response: reqwest::Response,
    status: StatusCode,
    field: Option<&str>,
) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert!(
        error["code"].is_string() && error["message"].is_string(),
        "{body}"
    );
    if let Some(field) = field {
        assert_eq!(error["field"], field, "{body}");
    }
    body
}

async fn bad_events_are_refused_and_create_nothing(p: &Pipeline) {
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    p.route("Catch all", &rx, "").await;

    let mut unknown = event("a.b");
    unknown["type"] = json!("table_dropped");
    let body = expect_error(
        p.post_events(unknown).await,
        StatusCode::BAD_REQUEST,
        Some("type"),
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("schema_change"));

    let mut missing = event("a.b");
    missing.as_object_mut().unwrap().remove("asset");
    expect_error(
        p.post_events(missing).await,
        StatusCode::BAD_REQUEST,
        Some("asset"),
    )
    .await;

    let mut wrong = event("a.b");
    wrong["asset"]["qualified_name"] = json!(42);
    expect_error(
        p.post_events(wrong).await,
        StatusCode::BAD_REQUEST,
        Some("asset.qualified_name"),
    )
    .await;
    let mut wrong = event("a.b");
    wrong["details"] = json!("text");
    expect_error(
        p.post_events(wrong).await,
        StatusCode::BAD_REQUEST,
        Some("details"),
    )
    .await;

    let mut big = event("a.b");
    big["details"] = json!({"blob": "x".repeat(70 * 1024)});
    expect_error(
        p.post_events(big).await,
        StatusCode::BAD_REQUEST,
        Some("details"),
    )
    .await;

    let body = expect_error(
        raw(p, b"{not json".to_vec()).await,
        StatusCode::BAD_REQUEST,
        None,
    )
    .await;
    assert_eq!(body["error"]["code"], "invalid_json");

    let (status, body) = p
        .env
        .app
        .post_oversized("/api/v1/events", &p.key, 10 * 1024 * 1024)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "too_large");

    let unauthenticated = reqwest::Client::new()
        .post(p.env.app.url("/api/v1/events"))
        .json(&event("a.b"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    nothing_stored(p).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(rx.count(), 0);
}

async fn a_batch_is_all_or_nothing(p: &Pipeline) {
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (dest, _) = p.route("Batch", &rx, "").await;
    let mut bad = event("c");
    bad["occurred_at"] = json!("last tuesday");
    let refused = p.post_events(json!([event("a"), event("b"), bad])).await;
    let body = expect_error(
        refused,
        StatusCode::BAD_REQUEST,
        Some("events[2].occurred_at"),
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Event at index 2"));
    nothing_stored(p).await;

    let too_many: Vec<Value> = (0..1001).map(|i| event(&format!("t{i}"))).collect();
    expect_error(
        p.post_events(Value::Array(too_many)).await,
        StatusCode::BAD_REQUEST,
        None,
    )
    .await;
    nothing_stored(p).await;

    let batch: Vec<Value> = (0..250).map(|i| event(&format!("t{i}"))).collect();
    let response = p.post_events(Value::Array(batch)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["events"].as_array().unwrap().len(), 250);
    assert_eq!(body["alerts"].as_array().unwrap().len(), 250);
    p.settled(dest, 50, "delivered", std::time::Duration::from_secs(20))
        .await;
    assert_eq!(
        rx.wait_for(250, std::time::Duration::from_secs(20))
            .await
            .len(),
        250
    );
}

async fn rules_are_managed_through_the_api(p: &Pipeline) {
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (dest, _) = p.route("Rules", &rx, "production.*").await;
    let list: Value = p
        .api(Method::GET, "/rules", None)
        .await
        .json()
        .await
        .unwrap();
    let rule = &list["items"][0];
    let id = rule["id"].as_i64().unwrap();
    assert_eq!(rule["name"], "Rules rule");
    assert_eq!(rule["asset_pattern"], "production.*");
    assert_eq!(rule["destinations"][0]["id"], dest);
    assert_eq!(rule["enabled"], true);

    let patched: Value = p
        .api(
            Method::PATCH,
            &format!("/rules/{id}"),
            Some(json!({"alert_type": "freshness", "asset_pattern": null})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patched["alert_type"], "freshness");
    assert!(patched["asset_pattern"].is_null());
    assert_eq!(patched["name"], "Rules rule", "unnamed fields stay");

    let bad = p
        .api(
            Method::POST,
            "/rules",
            Some(json!({"name": "x", "alert_type": "weather", "destination_ids": [dest]})),
        )
        .await;
    expect_error(bad, StatusCode::BAD_REQUEST, Some("alert_type")).await;
    let bad = p
        .api(
            Method::POST,
            "/rules",
            Some(json!({"name": "x", "alert_type": "schema", "destination_ids": [9999]})),
        )
        .await;
    expect_error(bad, StatusCode::BAD_REQUEST, Some("destination_ids")).await;
    let bad = p
        .api(
            Method::POST,
            "/rules",
            Some(json!({"name": "Rules rule", "alert_type": "schema", "destination_ids": [dest]})),
        )
        .await;
    expect_error(bad, StatusCode::BAD_REQUEST, Some("name")).await;
    let bad = p.api(Method::POST, "/rules", Some(json!({"name": "y", "alert_type": "schema", "destination_ids": [dest], "colour": 1}))).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A disabled rule raises nothing.
    let off = p
        .api(
            Method::PATCH,
            &format!("/rules/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    let mut fresh = event("production.x");
    fresh["type"] = json!("freshness_violation");
    let answer: Value = p.post_events(fresh.clone()).await.json().await.unwrap();
    assert_eq!(answer["alerts"], json!([]));
    p.api(
        Method::PATCH,
        &format!("/rules/{id}"),
        Some(json!({"enabled": true})),
    )
    .await;
    let answer: Value = p.post_events(fresh).await.json().await.unwrap();
    assert_eq!(answer["alerts"][0]["alert_type"], "freshness");

    assert_eq!(
        p.api(Method::DELETE, &format!("/rules/{id}"), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        p.api(Method::GET, &format!("/rules/{id}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
