//! Rules and destinations are kept in memory between events (issue 11) and
//! read again when the configuration generation moves: every edit reaches the
//! very next event, in the process that made it and in any other.

use crate::helpers::Engine;
use crate::pipeline::{event, Pipeline};
use crate::processes::Site;
use crate::receivers::{receiver, url};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::receiver::{Behaviour, Receiver};
use std::time::Duration;

crate::on_both_engines!(with crate::pipeline::Pipeline::new;
    every_edit_reaches_the_next_event,
    a_previous_secret_stops_signing_when_its_grace_ends,
);

const WAIT: Duration = Duration::from_secs(10);

async fn call(p: &Pipeline, method: Method, path: &str, body: Value) -> Value {
    let response = p.api(method, path, Some(body)).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// Posts one event and returns how many alerts it raised.
async fn alerts_for(p: &Pipeline, asset: &str) -> usize {
    let response = p.post_events(event(asset)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer: Value = response.json().await.unwrap();
    answer["alerts"].as_array().unwrap().len()
}

fn paths(rx: &Receiver) -> Vec<String> {
    rx.received().into_iter().map(|r| r.path).collect()
}

async fn every_edit_reaches_the_next_event(p: &Pipeline) {
    let first = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let second = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let created = call(
        p,
        Method::POST,
        "/destinations",
        json!({"name": "Moving", "url": url(&first, "localhost", "/first")}),
    )
    .await;
    let dest = created["destination"]["id"].as_i64().unwrap();
    let rule = call(
        p,
        Method::POST,
        "/rules",
        json!({"name": "Prod", "alert_type": "schema",
        "asset_pattern": "prod.*", "destination_ids": [dest]}),
    )
    .await;
    let rule = format!("/rules/{}", rule["id"].as_i64().unwrap());

    assert_eq!(alerts_for(p, "prod.orders").await, 1);
    first.wait_for(1, WAIT).await;

    // A new URL: the next delivery goes there, the old receiver gets nothing more.
    call(
        p,
        Method::PATCH,
        &format!("/destinations/{dest}"),
        json!({"url": url(&second, "localhost", "/second")}),
    )
    .await;
    assert_eq!(alerts_for(p, "prod.orders").await, 1);
    second.wait_for(1, WAIT).await;
    assert_eq!(paths(&second), ["/second"]);

    // A new pattern: the old assets no longer match, the new ones do.
    call(
        p,
        Method::PATCH,
        &rule,
        json!({"asset_pattern": "staging.*"}),
    )
    .await;
    assert_eq!(alerts_for(p, "prod.orders").await, 0);
    assert_eq!(alerts_for(p, "staging.orders").await, 1);
    second.wait_for(2, WAIT).await;

    // A disabled destination: the rule's alerts are raised with nothing to deliver.
    call(
        p,
        Method::PATCH,
        &format!("/destinations/{dest}"),
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(alerts_for(p, "staging.orders").await, 1);
    call(
        p,
        Method::PATCH,
        &format!("/destinations/{dest}"),
        json!({"enabled": true}),
    )
    .await;

    // A disabled rule raises nothing.
    call(p, Method::PATCH, &rule, json!({"enabled": false})).await;
    assert_eq!(alerts_for(p, "staging.orders").await, 0);
    call(p, Method::PATCH, &rule, json!({"enabled": true})).await;
    assert_eq!(alerts_for(p, "staging.orders").await, 1);
    second.wait_for(3, WAIT).await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        first.count(),
        1,
        "nothing went to the old URL after the edit"
    );
    assert_eq!(second.count(), 3, "{:?}", paths(&second));
    let deliveries = p.deliveries(dest).await;
    assert_eq!(
        deliveries.len(),
        4,
        "the alert raised while disabled got none: {deliveries:?}"
    );
}

/// The signing secrets are kept too: the previous one must stop signing when
/// its grace period ends, though no edit moved the generation.
async fn a_previous_secret_stops_signing_when_its_grace_ends(p: &Pipeline) {
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (dest, _) = p.route("Rotating", &rx, "prod.*").await;
    let signatures = |n: usize| {
        let got = rx.received();
        got[n - 1]
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count()
    };
    assert_eq!(alerts_for(p, "prod.a").await, 1);
    rx.wait_for(1, WAIT).await;
    assert_eq!(signatures(1), 1);

    let rotated = call(
        p,
        Method::POST,
        &format!("/destinations/{dest}/rotate-secret"),
        json!({"grace_seconds": 4}),
    )
    .await;
    let ends = crate::helpers::epoch_ms(&rotated["destination"]["previous_secret_expires_at"]);
    assert_eq!(alerts_for(p, "prod.b").await, 1);
    rx.wait_for(2, WAIT).await;
    assert_eq!(
        signatures(2),
        2,
        "signed with the new and the previous secret"
    );

    let left = ends - server::clock::now_ms();
    tokio::time::sleep(Duration::from_millis(
        u64::try_from(left.max(0)).unwrap() + 100,
    ))
    .await;
    assert_eq!(alerts_for(p, "prod.c").await, 1);
    rx.wait_for(3, WAIT).await;
    assert_eq!(
        signatures(3),
        1,
        "the previous secret's grace period is over"
    );
}

/// Two processes on one PostgreSQL database: an edit made through one is
/// seen by the other's next event, although the other kept the old rows.
#[test]
fn an_edit_in_one_process_reaches_the_next_event_in_another() {
    crate::helpers::runtime().block_on(async {
        let Some(site) = Site::new(Engine::Postgres).await else {
            return;
        };
        let rx = receiver(&site.ca.tls, Behaviour::default()).await;
        let (a, b) = (site.start().await, site.start().await);
        site.routes(&a.base, &rx, 1).await;
        site.post_events(&b.base, 1).await;
        rx.wait_for(1, WAIT).await;

        let dest = site.api(&a.base, Method::GET, "/destinations", None).await;
        let dest = dest["items"][0]["id"].as_i64().unwrap();
        let moved = format!("https://localhost:{}/moved", rx.addr.port());
        site.api(
            &a.base,
            Method::PATCH,
            &format!("/destinations/{dest}"),
            Some(json!({"url": moved})),
        )
        .await;
        site.post_events(&b.base, 1).await;
        rx.wait_for(2, WAIT).await;
        assert_eq!(paths(&rx), ["/d0", "/moved"]);

        let rules = site.api(&a.base, Method::GET, "/rules", None).await;
        let rule = rules["items"][0]["id"].as_i64().unwrap();
        site.api(
            &a.base,
            Method::PATCH,
            &format!("/rules/{rule}"),
            Some(json!({"enabled": false})),
        )
        .await;
        let answer = site
            .api(&b.base, Method::POST, "/events", Some(event("db.t0")))
            .await;
        assert_eq!(
            answer["alerts"],
            json!([]),
            "the rule disabled in the other process"
        );
    });
}
