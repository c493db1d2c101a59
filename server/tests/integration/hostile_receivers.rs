//! Hostile receivers (RELIABILITY.md, section 4): endpoints that hang,
//! trickle, flood, reset or present bad certificates. Each attempt ends with
//! the right kind and the documented advice within the request timeout, and
//! a crowd of hanging endpoints does not hold back a destination that answers.

use crate::helpers::{unique_name, Engine, TestApp};
use crate::pipeline::event;
use crate::receivers::{one, receiver};
use app::model::{AttemptView, DeliveryFilter};
use serde_json::{json, Value};
use server::receiver::hostile::{Hostile, HostileServer, HostileTls};
use server::receiver::tls::{make_local_tls, LocalTls};
use server::receiver::Behaviour;
use server::services::Actor;
use std::time::{Duration, Instant};

/// The request timeout of the behaviour test.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Room for scheduling on a loaded machine: a correctness bound (the attempt
/// ended because of the timeout, not long after it), not a speed goal.
const MARGIN: Duration = Duration::from_millis(1500);

/// An app that trusts both the hostile endpoints' CA and a healthy receiver's.
pub struct Hostiles {
    pub app: TestApp,
    pub tls: HostileTls,
    pub healthy: LocalTls,
    key: String,
}

impl Hostiles {
    pub async fn spawn(engine: Engine, timeout: &str, schedule: &str) -> Option<Hostiles> {
        let tls = HostileTls::new().unwrap();
        let healthy = make_local_tls().unwrap();
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).unwrap();
        let bundle = dir.join("cas.pem");
        std::fs::write(&bundle, format!("{}{}", tls.ca_pem, healthy.ca_pem)).unwrap();
        let app = TestApp::spawn_with(engine, |s| {
            s.extra_ca_certs = Some(bundle.display().to_string());
            s.allowed_targets = "127.0.0.0/8".into();
            s.request_timeout = timeout.into();
            s.retry_schedule = schedule.into();
        })
        .await?;
        let key = app
            .services
            .create_api_key("hostile", "admin", &Actor::command_line())
            .await
            .unwrap()
            .secret;
        Some(Hostiles {
            app,
            tls,
            healthy,
            key,
        })
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(self.app.url(&format!("/api/v1{path}")))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A destination at `url` and a rule sending `schema` alerts of assets matching `pattern` to it.
    pub async fn route(&self, name: &str, urls: &[String], pattern: &str) -> Vec<i64> {
        let mut ids = Vec::new();
        for (n, url) in urls.iter().enumerate() {
            let created = self
                .post(
                    "/destinations",
                    json!({"name": format!("{name} {n}"), "url": url}),
                )
                .await;
            ids.push(created["destination"]["id"].as_i64().unwrap());
        }
        self.post(
            "/rules",
            json!({"name": format!("{name} rule"), "alert_type": "schema",
                   "asset_pattern": pattern, "destination_ids": ids}),
        )
        .await;
        ids
    }

    /// Waits until the destination's only delivery is no longer pending; its attempts.
    pub async fn finished(&self, destination: i64, within: Duration) -> (String, Vec<AttemptView>) {
        let filter = DeliveryFilter {
            destination_id: Some(destination.to_string()),
            ..DeliveryFilter::default()
        };
        let deadline = Instant::now() + within;
        loop {
            let page = self.app.services.deliveries(&filter).await.unwrap();
            if let Some(d) = page
                .items
                .first()
                .filter(|d| d.status.as_str() != "pending")
            {
                let detail = self.app.services.delivery(d.id).await.unwrap();
                return (d.status.as_str().to_owned(), detail.attempts);
            }
            assert!(
                Instant::now() < deadline,
                "destination {destination} never finished"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn each_hostile_endpoint_fails_in_time_with_its_advice(env: &Hostiles) {
    let mut routed = Vec::new();
    for (n, behaviour) in Hostile::ALL.into_iter().enumerate() {
        let server = HostileServer::start(behaviour, &env.tls).await.unwrap();
        let ids = env
            .route(behaviour.name(), &[server.url()], &format!("hostile.{n}"))
            .await;
        routed.push((server, ids[0]));
    }
    for n in 0..Hostile::ALL.len() {
        env.post("/events", event(&format!("hostile.{n}"))).await;
    }
    let advice = "Ensure the endpoint responds within 2 seconds";
    for (server, destination) in &routed {
        let behaviour = server.behaviour();
        let (status, attempts) = env
            .finished(*destination, TIMEOUT + MARGIN + Duration::from_secs(10))
            .await;
        assert_eq!(
            attempts.len(),
            1,
            "{behaviour:?}: one attempt (schedule 0ms)"
        );
        let attempt = &attempts[0];
        let took = Duration::from_millis(u64::try_from(attempt.duration_ms).unwrap());
        assert!(
            took <= TIMEOUT + MARGIN,
            "{behaviour:?} took {took:?}, past the {TIMEOUT:?} timeout"
        );
        let message = attempt
            .error_message
            .clone()
            .unwrap_or_default()
            .to_lowercase();
        let kind = attempt.error_kind.as_deref();
        let fixes = attempt
            .failure
            .as_ref()
            .map(|f| f.fixes.join(" | "))
            .unwrap_or_default();
        match behaviour {
            Hostile::Silent | Hostile::Trickle | Hostile::StallHandshake => {
                assert_eq!(kind, Some("timeout"), "{behaviour:?}: {message}");
                assert!(
                    took >= TIMEOUT - Duration::from_millis(100),
                    "{behaviour:?}: {took:?}"
                );
                assert!(fixes.contains(advice), "{behaviour:?}: {fixes}");
            }
            Hostile::EndlessBody => {
                // A 2xx is a delivery; the body is kept to its first 64 KiB and the rest never read.
                assert_eq!(status, "delivered", "{message}");
                let body = attempt.response_body.as_deref().unwrap_or_default();
                assert!(
                    body.len() <= 64 * 1024 && !body.is_empty(),
                    "{}",
                    body.len()
                );
            }
            Hostile::HugeHeaders => {
                assert_eq!(kind, Some("connect"), "{message}");
                assert!(message.contains("headers are too large"), "{message}");
                assert!(fixes.contains(advice), "{fixes}");
            }
            Hostile::Reset => {
                assert_eq!(kind, Some("connect"), "{message}");
                assert!(
                    message.contains("reset") || message.contains("closed"),
                    "{message}"
                );
                assert!(fixes.contains(advice), "{fixes}");
            }
            Hostile::ExpiredCertificate | Hostile::WrongHost => {
                assert_eq!(kind, Some("tls"), "{behaviour:?}: {message}");
                let expected = if behaviour == Hostile::WrongHost {
                    "name"
                } else {
                    "expired"
                };
                assert!(message.contains(expected), "{behaviour:?}: {message}");
                assert!(fixes.contains("has not expired"), "{fixes}");
            }
        }
        if behaviour != Hostile::EndlessBody {
            assert_eq!(status, "failed", "{behaviour:?}");
        }
        assert!(server.accepted() >= 1, "{behaviour:?} saw no connection");
    }
}

async fn hanging_endpoints_do_not_hold_back_a_healthy_destination(env: &Hostiles) {
    const HANGING: usize = 50;
    const EVENTS: usize = 8; // the per-destination limit: 400 attempts hang, more than 256
    let mut servers = Vec::new();
    for _ in 0..HANGING {
        servers.push(
            HostileServer::start(Hostile::Silent, &env.tls)
                .await
                .unwrap(),
        );
    }
    let urls: Vec<String> = servers.iter().map(HostileServer::url).collect();
    let hanging = env.route("hanging", &urls, "hanging.*").await;
    let rx = receiver(&env.healthy, Behaviour::default()).await;
    let healthy = env
        .route(
            "healthy",
            &[crate::receivers::url(&rx, "localhost", "/hook")],
            "healthy.*",
        )
        .await[0];
    for n in 0..EVENTS {
        env.post("/events", event(&format!("hanging.{n}"))).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while servers.iter().map(HostileServer::accepted).sum::<usize>() < HANGING * EVENTS {
        assert!(
            Instant::now() < deadline,
            "the hanging attempts never all started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    env.post("/events", event("healthy.1")).await;
    // The hanging attempts hold their connections for the 30 s timeout; the
    // healthy delivery must not wait for them.
    let (status, _) = env.finished(healthy, Duration::from_secs(10)).await;
    assert_eq!(status, "delivered");
    one(&rx).await;
    let attempted: Vec<String> = env
        .app
        .texts(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE d.destination_id IN ({})",
            hanging.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ))
        .await;
    assert_eq!(attempted, ["0"], "the hanging attempts were still hanging");
}

async fn behaviours(engine: Engine) -> Option<Hostiles> {
    Hostiles::spawn(engine, "2s", "0ms").await
}

async fn crowd(engine: Engine) -> Option<Hostiles> {
    Hostiles::spawn(engine, "30s", "0ms,1h").await
}

mod each {
    use super::each_hostile_endpoint_fails_in_time_with_its_advice;
    crate::on_both_engines!(with crate::hostile_receivers::behaviours;
        each_hostile_endpoint_fails_in_time_with_its_advice);
}

mod starvation {
    use super::hanging_endpoints_do_not_hold_back_a_healthy_destination;
    crate::on_both_engines!(with crate::hostile_receivers::crowd;
        hanging_endpoints_do_not_hold_back_a_healthy_destination);
}
