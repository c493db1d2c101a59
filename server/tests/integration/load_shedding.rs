//! Load shedding (RELIABILITY.md, section 5): past `--max-queued` queued
//! deliveries ingest answers 429 with `Retry-After` in the error shape and
//! stores nothing; what was accepted before is all delivered; once the queue
//! drains, ingest answers 202 again.

use crate::destinations::Env;
use crate::helpers::Engine;
use crate::pipeline::event;
use crate::receivers::{receiver, url};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::receiver::Behaviour;
use server::services::Actor;
use std::collections::HashSet;
use std::time::{Duration, Instant};

pub struct Shedding {
    env: Env,
    key: String,
}

impl Shedding {
    async fn new(engine: Engine) -> Option<Shedding> {
        let env = Env::with(engine, |s| {
            s.max_queued = "3".into();
            s.retry_schedule = "0ms".into();
        })
        .await?;
        let key = env
            .app
            .services
            .create_api_key("shedding", "ingest", &Actor::command_line())
            .await
            .unwrap()
            .secret;
        Some(Shedding { env, key })
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Option<String>, Value) {
        let response = reqwest::Client::new()
            .post(self.env.app.url(&format!("/api/v1{path}")))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, retry_after, response.json().await.unwrap())
    }

    async fn count(&self, table: &str) -> String {
        self.env
            .app
            .texts(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
            .await
            .remove(0)
    }
}

async fn past_the_bound_ingest_answers_429_and_drops_nothing(s: &Shedding) {
    // Each delivery stays queued (in flight) for 1.5 s.
    let rx = receiver(
        &s.env.ca.tls,
        Behaviour {
            delay: Duration::from_millis(1500),
            ..Behaviour::default()
        },
    )
    .await;
    let created =
        crate::destinations::create(&s.env, "Queue", &url(&rx, "localhost", "/q"), &[]).await;
    let editor = reqwest::Client::new();
    let admin_key = s
        .env
        .app
        .services
        .create_api_key("rules", "admin", &Actor::command_line())
        .await
        .unwrap()
        .secret;
    let rule = editor
        .post(s.env.app.url("/api/v1/rules"))
        .bearer_auth(admin_key)
        .json(
            &json!({"name": "queued", "alert_type": "schema", "asset_pattern": "queued.*",
                      "destination_ids": [created.destination.id]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(rule.status(), StatusCode::CREATED);

    for n in 0..3 {
        let (status, _, body) = s.post("/events", event(&format!("queued.{n}"))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let (status, retry_after, body) = s.post("/events", event("queued.3")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_eq!(body["error"]["code"], "queue_full");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("queue is full"));
    // A batch is refused whole; an event that raises no delivery still passes.
    let (status, _, _) = s
        .post("/events", json!([event("queued.4"), event("queued.5")]))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = s.post("/events", event("unrouted.1")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        s.count("events").await,
        "4",
        "refused events are not stored"
    );
    assert_eq!(s.count("deliveries").await, "3");

    // Everything accepted is delivered, once each.
    let got = rx.wait_for(3, Duration::from_secs(20)).await;
    let ids: HashSet<_> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3, "three deliveries, three webhook ids");

    // Below the bound again: within a refresh or two, ingest takes events again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _, body) = s.post("/events", event("queued.after")).await;
        if status == StatusCode::ACCEPTED {
            break;
        }
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(Instant::now() < deadline, "ingest never took events again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(rx.wait_for(4, Duration::from_secs(20)).await.len(), 4);
}

crate::on_both_engines!(with crate::load_shedding::Shedding::new;
    past_the_bound_ingest_answers_429_and_drops_nothing);
