//! Auto-disable (`ALERTWIRE_AUTO_DISABLE_AFTER`, here seconds): a destination
//! whose deliveries all failed for that long, with at least 5 failed
//! deliveries, is disabled; the destinations chosen in Settings ->
//! Notifications get a signed `destination.disabled` delivery; enabling it
//! again can redeliver what failed meanwhile, each once.

use crate::destinations::{create, Env};
use crate::helpers::{location, Engine, TestApp};
use crate::pipeline::{event, Pipeline};
use crate::receivers::{receiver, url, verify_with_python};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::receiver::Behaviour;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// An app whose deliveries get one more attempt an hour later (so a 500
/// leaves a delivery queued, and a 410 fails it at once), and that disables
/// destinations after `after` of failures.
async fn pipeline(engine: Engine, after: &str) -> Option<Pipeline> {
    let after = after.to_owned();
    let env = Env::with(engine, |s| {
        s.retry_schedule = "0ms,1h".into();
        s.auto_disable_after = after;
    })
    .await?;
    let key = env
        .app
        .services
        .create_api_key("tests", "admin", &server::services::Actor::command_line())
        .await
        .unwrap()
        .secret;
    Some(Pipeline { env, key })
}

async fn two_seconds(engine: Engine) -> Option<Pipeline> {
    pipeline(engine, "2s").await
}

async fn switched_off(engine: Engine) -> Option<Pipeline> {
    pipeline(engine, "0").await
}

crate::on_both_engines!(with crate::auto_disable::two_seconds;
    a_failing_destination_is_disabled_notifies_and_redelivers_on_enable,
    not_before_five_failed_deliveries_and_not_after_a_success,
    disabling_and_enabling_by_hand_set_and_clear_the_reason,
    notification_settings_are_validated,
);

/// With `0`: never disabled.
mod off {
    use super::zero_turns_auto_disable_off;
    crate::on_both_engines!(with crate::auto_disable::switched_off;
        zero_turns_auto_disable_off,
    );
}

fn behaviour(f: impl FnOnce(&mut Behaviour)) -> Behaviour {
    let mut b = Behaviour::default();
    f(&mut b);
    b
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}")),
    )
}

async fn destination(p: &Pipeline, id: i64) -> Value {
    let (status, body) = json_of(
        p.api(Method::GET, &format!("/destinations/{id}"), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Waits until the destination is disabled; panics after `within`.
async fn disabled_within(p: &Pipeline, id: i64, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let d = destination(p, id).await;
        if d["enabled"] == false {
            return d;
        }
        assert!(Instant::now() < deadline, "not disabled in time: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the destination has `n` deliveries in `status`.
async fn count_within(p: &Pipeline, destination: i64, status: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all = p.deliveries(destination).await;
        if all.iter().filter(|d| d.status.as_str() == status).count() >= n {
            return;
        }
        assert!(Instant::now() < deadline, "not {n} {status}: {all:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn failing_since(app: &TestApp, id: i64) -> Option<i64> {
    let sql = format!("SELECT failing_since FROM destinations WHERE id = {id}");
    match app.services.db() {
        server::store::Db::Sqlite(p, _) => sqlx::query_scalar(&sql).fetch_one(p).await,
        server::store::Db::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
    }
    .unwrap()
}

async fn put_notifications(p: &Pipeline, ids: Value) -> (StatusCode, Value) {
    json_of(
        p.api(
            Method::PUT,
            "/settings/notifications",
            Some(json!({ "destination_ids": ids })),
        )
        .await,
    )
    .await
}

fn events(prefix: &str, n: usize) -> Value {
    Value::Array((0..n).map(|i| event(&format!("{prefix}.t{i}"))).collect())
}

async fn a_failing_destination_is_disabled_notifies_and_redelivers_on_enable(p: &Pipeline) {
    let app = &p.env.app;
    let tls = &p.env.ca.tls;
    let ops_rx = receiver(tls, Behaviour::default()).await;
    let ops = create(&p.env, "Ops", &url(&ops_rx, "localhost", "/hook"), &[]).await;
    let ops_id = ops.destination.id;
    // The first request gets 500 (retried in an hour: it stays queued), the others 410 (failed at once).
    let dead_rx = receiver(
        tls,
        behaviour(|b| {
            b.fail_first = 1;
            b.status = 410;
        }),
    )
    .await;
    let (dead, _) = p.route("Dead", &dead_rx, "").await;
    // The dead destination is chosen too: it must not hear of its own disabling.
    let (status, chosen) = put_notifications(p, json!([dead, ops_id])).await;
    assert_eq!(status, StatusCode::OK, "{chosen}");
    assert_eq!(chosen["destination_ids"], json!([ops_id, dead]));

    p.post_events(event("production.public.first")).await;
    count_within(p, dead, "pending", 1).await;
    dead_rx.wait_for(1, Duration::from_secs(10)).await;
    p.post_events(events("production.public", 5)).await;
    count_within(p, dead, "failed", 5).await;
    assert_eq!(
        destination(p, dead).await["enabled"],
        true,
        "not before the threshold"
    );

    let d = disabled_within(p, dead, Duration::from_secs(10)).await;
    assert_eq!(d["disabled_reason"], "auto");
    let disabled_at = crate::helpers::epoch_ms(&d["disabled_at"]);
    let since = failing_since(app, dead).await.expect("failing_since kept");
    assert!(
        disabled_at - since >= 2000,
        "disabled {} ms after it started failing",
        disabled_at - since
    );

    // The notification: one signed delivery to Ops, recorded like any other.
    let got = ops_rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["event_type"], "destination.disabled");
    assert_eq!(body["destination"]["id"], dead);
    assert_eq!(body["destination"]["name"], "Dead");
    assert_eq!(
        body["destination"]["url"],
        url(&dead_rx, "localhost", "/hook")
    );
    assert_eq!(body["reason"], "auto");
    assert_eq!(
        crate::helpers::epoch_ms(&body["failing_since"]),
        since / 1000 * 1000
    );
    assert_eq!(
        crate::helpers::epoch_ms(&body["disabled_at"]),
        disabled_at / 1000 * 1000
    );
    assert_eq!(
        body["links"]["destination_url"],
        format!("{}/alerts/destinations/{dead}", app.base)
    );
    let alert_id = body["alert"]["id"].as_str().unwrap();
    assert!(alert_id.starts_with("alert_"));
    assert_eq!(body["alert"]["rule_name"], "Alertwire");
    assert_eq!(body["alert"]["alert_type"], "operational");
    assert_eq!(
        body["links"]["alert_url"],
        format!("{}/alerts/{alert_id}", app.base)
    );
    let (documented, standard) = verify_with_python(&ops.signing_secret, &got[0]);
    assert!(documented && standard, "both verifiers accept it");
    let notes = p
        .settled(ops_id, 1, "delivered", Duration::from_secs(10))
        .await;
    assert_eq!(notes[0].delivery.alert_type, "operational");
    assert_eq!(notes[0].delivery.rule_name, "Alertwire");
    assert_eq!(
        got[0].header("webhook-id"),
        Some(notes[0].delivery.msg_id.as_str())
    );
    assert_eq!(notes[0].body.as_bytes(), got[0].body.as_slice());
    // The alert page exists (links.alert_url).
    let page = app.get(&p.env.editor, &format!("/alerts/{alert_id}")).await;
    assert_eq!(page.status(), StatusCode::OK);

    // The dead destination kept its queued delivery and got nothing more.
    let kept = p.deliveries(dead).await;
    assert_eq!(kept.len(), 6, "{kept:?}");
    assert!(kept.iter().all(|d| d.alert_type == "schema"));
    assert_eq!(
        kept.iter()
            .filter(|d| d.status.as_str() == "pending")
            .count(),
        1
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(dead_rx.count(), 6);
    assert_eq!(ops_rx.count(), 1, "one notification");

    // The banner, for editors and admins; viewers get none.
    let banner = app
        .call(&p.env.editor, "auto_disabled_destinations", &[])
        .await;
    let (status, list) = json_of(banner).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["id"], dead);
    assert_eq!(list[0]["name"], "Dead");
    let viewer = app.signed_in("viewer@example.com", "viewer").await;
    let refused = app.call(&viewer, "auto_disabled_destinations", &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    for tab in [
        "/alerts/rules",
        "/alerts/destinations",
        "/alerts/deliveries",
    ] {
        let page = app.get(&p.env.editor, tab).await.text().await.unwrap();
        assert!(
            page.contains("disabled automatically")
                && page.contains(&format!("href=\"/alerts/destinations/{dead}\"")),
            "{tab} has the banner"
        );
        let page = app.get(&viewer, tab).await.text().await.unwrap();
        assert!(
            !page.contains("disabled automatically"),
            "{tab}: no banner for viewers"
        );
    }

    // Its page: why, and what enabling may redeliver (the button for admins).
    let admin = app.signed_in("admin@example.com", "admin").await;
    let path = format!("/alerts/destinations/{dead}");
    let page = app.get(&admin, &path).await.text().await.unwrap();
    assert!(page.contains("Disabled automatically on"), "{page}");
    assert!(page.contains("5 deliveries ended failed since"), "{page}");
    assert!(page.contains("Enable and redeliver 5 failed deliveries"));
    let page = app.get(&p.env.editor, &path).await.text().await.unwrap();
    assert!(page.contains("5 deliveries ended failed since"));
    assert!(!page.contains("Enable and redeliver"), "not for editors");
    let id = dead.to_string();
    let refused = app
        .call(
            &p.env.editor,
            "enable_destination",
            &[("id", id.as_str()), ("redeliver", "true")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(destination(p, dead).await["enabled"], false);

    // While disabled it moves to a receiver that answers 200; then enable and redeliver, without JavaScript.
    let ok_rx = receiver(tls, Behaviour::default()).await;
    let moved = p
        .api(
            Method::PATCH,
            &format!("/destinations/{dead}"),
            Some(json!({"url": url(&ok_rx, "localhost", "/hook")})),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let failed: Vec<_> = kept
        .iter()
        .filter(|d| d.status.as_str() == "failed")
        .collect();
    let response = app
        .post_form(
            &admin,
            &path,
            "enable_destination",
            &[("id", id.as_str()), ("redeliver", "true")],
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(location(&response).starts_with(&app.url(&path)));
    let page = app.get(&admin, &path).await.text().await.unwrap();
    assert!(
        page.contains("Destination enabled. 5 failed deliveries are queued again."),
        "{page}"
    );
    let redelivered = ok_rx.wait_for(5, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ok_rx.count(), 5, "exactly the failed ones, once each");
    let sent: BTreeSet<String> = redelivered
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = failed.iter().map(|d| d.msg_id.clone()).collect();
    assert_eq!(sent, expected, "the same webhook-ids");
    for r in &redelivered {
        let d = failed
            .iter()
            .find(|d| Some(d.msg_id.as_str()) == r.header("webhook-id"))
            .unwrap();
        let stored = app.services.delivery(d.id).await.unwrap();
        assert_eq!(stored.body.as_bytes(), r.body.as_slice(), "the same body");
    }
    count_within(p, dead, "delivered", 5).await;
    let after = p.deliveries(dead).await;
    assert_eq!(after.len(), 6);
    assert_eq!(
        after
            .iter()
            .filter(|d| d.status.as_str() == "pending")
            .count(),
        1,
        "the queued one waits for its own retry"
    );

    // Enabled: reason and time are gone; a second press queues nothing.
    let d = destination(p, dead).await;
    assert_eq!(d["enabled"], true);
    assert_eq!(d["disabled_reason"], Value::Null);
    assert_eq!(d["disabled_at"], Value::Null);
    assert_eq!(failing_since(app, dead).await, None);
    let again = app
        .call(
            &admin,
            "enable_destination",
            &[("id", id.as_str()), ("redeliver", "true")],
        )
        .await;
    let (status, answer) = json_of(again).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["redelivered"], 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ok_rx.count(), 5);
    let (status, list) = json_of(
        app.call(&p.env.editor, "auto_disabled_destinations", &[])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([]), "no banner once enabled");
}

async fn not_before_five_failed_deliveries_and_not_after_a_success(p: &Pipeline) {
    let app = &p.env.app;
    let tls = &p.env.ca.tls;
    // A: four failed deliveries, long past the threshold, then a fifth.
    let a_rx = receiver(tls, behaviour(|b| b.status = 410)).await;
    let (a, _) = p.route("Four then five", &a_rx, "a.*").await;
    // B: five failed deliveries, then one delivered.
    let b_rx = receiver(tls, behaviour(|b| b.status = 410)).await;
    let (b, _) = p.route("Recovers", &b_rx, "b.*").await;
    p.post_events(events("a", 4)).await;
    p.post_events(events("b", 5)).await;
    count_within(p, a, "failed", 4).await;
    count_within(p, b, "failed", 5).await;
    let b_ok = receiver(tls, Behaviour::default()).await;
    let moved = p
        .api(
            Method::PATCH,
            &format!("/destinations/{b}"),
            Some(json!({"url": url(&b_ok, "localhost", "/hook")})),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    p.post_events(event("b.recovered")).await;
    count_within(p, b, "delivered", 1).await;
    assert_eq!(failing_since(app, b).await, None, "a success clears it");
    assert!(failing_since(app, a).await.is_some());

    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        destination(p, a).await["enabled"],
        true,
        "4 failed are not enough"
    );
    assert_eq!(destination(p, b).await["enabled"], true, "it recovered");
    assert!(app
        .services
        .auto_disable_failing(Duration::from_secs(2))
        .await
        .unwrap()
        .is_empty());

    p.post_events(event("a.fifth")).await;
    let d = disabled_within(p, a, Duration::from_secs(5)).await;
    assert_eq!(d["disabled_reason"], "auto");
    // Nobody is chosen for notifications: no operational alert was raised.
    let (alerts, _) = app.services.recent_alerts(None, 50).await.unwrap();
    assert!(alerts.iter().all(|a| a.alert_type == "schema"));
    assert_eq!(destination(p, b).await["enabled"], true);

    // Two admins enable it and redeliver at the same moment: each failed delivery is queued once.
    let services = &app.services;
    let (one, two) = tokio::join!(
        services.enable_destination(a, true),
        services.enable_destination(a, true)
    );
    let total = one.unwrap().redelivered + two.unwrap().redelivered;
    assert_eq!(total, 5, "five failed deliveries, queued once each");
    a_rx.wait_for(10, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(a_rx.count(), 10, "each sent once more");
}

async fn zero_turns_auto_disable_off(p: &Pipeline) {
    let app = &p.env.app;
    let rx = receiver(&p.env.ca.tls, behaviour(|b| b.status = 410)).await;
    let (dest, _) = p.route("Never disabled", &rx, "").await;
    p.post_events(events("z", 6)).await;
    count_within(p, dest, "failed", 6).await;
    assert!(failing_since(app, dest).await.is_some(), "still tracked");
    // Checks would run every 250 ms with a threshold of 0: none runs.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let d = destination(p, dest).await;
    assert_eq!(d["enabled"], true);
    assert_eq!(d["disabled_reason"], Value::Null);
}

async fn disabling_and_enabling_by_hand_set_and_clear_the_reason(p: &Pipeline) {
    let app = &p.env.app;
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (dest, _) = p.route("By hand", &rx, "").await;
    let path = format!("/destinations/{dest}");
    let (status, d) = json_of(
        p.api(Method::PATCH, &path, Some(json!({"enabled": false})))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["enabled"], false);
    assert_eq!(d["disabled_reason"], "manual");
    let at = crate::helpers::epoch_ms(&d["disabled_at"]);
    // Disabling again keeps the first time.
    let (_, again) = json_of(
        p.api(Method::PATCH, &path, Some(json!({"enabled": false})))
            .await,
    )
    .await;
    assert_eq!(crate::helpers::epoch_ms(&again["disabled_at"]), at);
    let page = app
        .get(&p.env.editor, &format!("/alerts{path}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Disabled by hand on"), "{page}");
    // No banner: it was not disabled automatically.
    assert!(!page.contains("disabled automatically"));
    let (_, d) = json_of(
        p.api(Method::PATCH, &path, Some(json!({"enabled": true})))
            .await,
    )
    .await;
    assert_eq!(d["enabled"], true);
    assert_eq!(d["disabled_reason"], Value::Null);
    assert_eq!(d["disabled_at"], Value::Null);

    // Created disabled: by hand too.
    let (status, created) = json_of(
        p.api(
            Method::POST,
            "/destinations",
            Some(json!({"name": "Off", "url": url(&rx, "localhost", "/other"), "enabled": false})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["destination"]["disabled_reason"], "manual");
    // The list answers the same fields.
    let (_, list) = json_of(p.api(Method::GET, "/destinations", None).await).await;
    let off = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Off")
        .unwrap();
    assert_eq!(off["disabled_reason"], "manual");
    assert!(off["disabled_at"].as_str().unwrap().ends_with('Z'));
    let on = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "By hand")
        .unwrap();
    assert_eq!(on["disabled_reason"], Value::Null);
}

async fn notification_settings_are_validated(p: &Pipeline) {
    let app = &p.env.app;
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let a = create(&p.env, "Notify A", &url(&rx, "localhost", "/a"), &[])
        .await
        .destination
        .id;
    let b = create(&p.env, "Notify B", &url(&rx, "localhost", "/b"), &[])
        .await
        .destination
        .id;
    let get = || async { json_of(p.api(Method::GET, "/settings/notifications", None).await).await };
    assert_eq!(
        get().await,
        (StatusCode::OK, json!({"destination_ids": []}))
    );
    let (status, body) = put_notifications(p, json!([b, a, a])).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"destination_ids": [a, b]}))
    );

    // Unknown ids: 400 with the error shape, nothing changed.
    let (status, body) = put_notifications(p, json!([a, 999_999])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(body["error"]["field"], "destination_ids");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("999999"));
    assert_eq!(get().await.1, json!({"destination_ids": [a, b]}));
    // Deleted ones: left out when read, refused when written.
    assert_eq!(
        p.api(Method::DELETE, &format!("/destinations/{b}"), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(get().await.1, json!({"destination_ids": [a]}));
    let (status, body) = put_notifications(p, json!([b])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "destination_ids");
    let too_many: Vec<i64> = (1..=1001).collect();
    let (status, body) = put_notifications(p, json!(too_many)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Malformed bodies.
    for bad in [
        json!({}),
        json!({"destination_ids": "1"}),
        json!({"destination_ids": [1.5]}),
        json!({"destination_ids": [a], "other": 1}),
    ] {
        let response = p
            .api(Method::PUT, "/settings/notifications", Some(bad.clone()))
            .await;
        let (status, body) = json_of(response).await;
        assert!(status.is_client_error(), "{bad}: {status}");
        assert!(body["error"]["code"].is_string(), "{bad}: {body}");
    }
    assert_eq!(get().await.1, json!({"destination_ids": [a]}));
    // Admin keys only.
    for role in ["viewer", "editor", "ingest"] {
        let key = app
            .services
            .create_api_key(role, role, &server::services::Actor::command_line())
            .await
            .unwrap()
            .secret;
        for method in [Method::GET, Method::PUT] {
            let response = reqwest::Client::new()
                .request(method.clone(), app.url("/api/v1/settings/notifications"))
                .bearer_auth(&key)
                .json(&json!({"destination_ids": []}))
                .send()
                .await
                .unwrap();
            let (status, body) = json_of(response).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {method}");
            assert_eq!(body["error"]["code"], "forbidden");
        }
    }
    assert_eq!(get().await.1, json!({"destination_ids": [a]}));

    // The page's server functions: admins only, the same checks.
    let a_text = a.to_string();
    let refused = app
        .call(&p.env.editor, "save_notification_settings", &[])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let admin = app.signed_in("admin@example.com", "admin").await;
    let bad = app
        .call(
            &admin,
            "save_notification_settings",
            &[("destination_ids[0]", "999999")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(get().await.1, json!({"destination_ids": [a]}));
    let none = app.call(&admin, "save_notification_settings", &[]).await;
    assert!(none.status().is_success());
    assert_eq!(get().await.1, json!({"destination_ids": []}));
    // Without JavaScript: the form posts, then the page says so.
    let response = app
        .post_form(
            &admin,
            "/settings/notifications",
            "save_notification_settings",
            &[("destination_ids[0]", a_text.as_str())],
        )
        .await;
    assert!(response.status().is_redirection());
    assert_eq!(location(&response), "/settings/notifications?saved=1");
    assert_eq!(get().await.1, json!({"destination_ids": [a]}));
    let page = app
        .get(&admin, "/settings/notifications?saved=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Notification settings saved."));
    assert!(page.contains("Notify A"));
    assert!(
        !page.contains("Notify B"),
        "deleted destinations are not offered"
    );
    let editor_page = app.get(&p.env.editor, "/settings/notifications").await;
    assert_eq!(editor_page.status(), StatusCode::FORBIDDEN);
}
