//! Real server processes: killed with SIGKILL mid-delivery, stopped with
//! SIGTERM, and two of them sharing one Postgres queue.

use crate::helpers::{create_pg_database, drop_pg_database, unique_name, Engine};
use crate::receivers::{receiver, trusted_ca, Trusted};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::receiver::{Behaviour, Receiver};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// One database (and key file) that several processes share.
pub struct Site {
    dir: PathBuf,
    database_url: String,
    pub(crate) ca: Trusted,
    key: String,
    pg_database: Option<String>,
}

pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Site {
    /// `None` only when Postgres is unreachable outside CI (the test is skipped).
    pub(crate) async fn new(engine: Engine) -> Option<Site> {
        let name = unique_name();
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let (database_url, pg_database) = match engine {
            Engine::Sqlite => (format!("sqlite://{}", dir.join("a.db").display()), None),
            Engine::Postgres => (create_pg_database(&name).await?, Some(name)),
        };
        Some(Site::open(dir, database_url, pg_database).await)
    }

    /// A site on a database someone else made (a private cluster, a small
    /// filesystem); `pg_database` is dropped with the site when given.
    pub(crate) async fn open(
        dir: PathBuf,
        database_url: String,
        pg_database: Option<String>,
    ) -> Site {
        let ca = trusted_ca(&dir);
        let mut site = Site {
            dir,
            database_url,
            ca,
            key: String::new(),
            pg_database,
        };
        let out = site
            .command()
            .args(["create-api-key", "--name", "processes"])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        site.key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        site
    }

    pub(crate) fn engine_name(&self) -> &'static str {
        if self.database_url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        }
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        for (key, _) in std::env::vars() {
            if key.starts_with("ALERTWIRE_") || key == "DATABASE_URL" {
                cmd.env_remove(key);
            }
        }
        cmd.env("DATABASE_URL", &self.database_url)
            .env("ALERTWIRE_SECRET_KEY_FILE", self.dir.join("secret.key"))
            .env("ALERTWIRE_LISTEN", "127.0.0.1:0")
            .env("ALERTWIRE_EXTRA_CA_CERTS", &self.ca.ca_file)
            .env("ALERTWIRE_ALLOWED_TARGETS", "127.0.0.0/8")
            .env("ALERTWIRE_REQUEST_TIMEOUT", "2s")
            .env("ALERTWIRE_DELIVERY_LEASE", "3s")
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        cmd
    }

    /// Starts `server serve` and waits for its "listening on" line.
    pub(crate) async fn start(&self) -> Process {
        self.start_with_env(&[]).await
    }

    /// Like `start`, with more environment variables set for the process.
    pub(crate) async fn start_with_env(&self, env: &[(&str, &str)]) -> Process {
        let mut command = self.command();
        command.envs(env.iter().copied());
        let mut child = command
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the server starts")
            .unwrap()
            .expect("a listening line");
        let base = line.trim_start_matches("listening on ").trim().to_owned();
        // Keep reading so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Process { child, base }
    }

    pub(crate) async fn api(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut request = client()
            .request(method, format!("{base}/api/v1{path}"))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        if response.status() == StatusCode::NO_CONTENT {
            return Value::Null;
        }
        response.json().await.unwrap()
    }

    /// `n` destinations at the receiver and one rule sending schema alerts to all of them.
    pub(crate) async fn routes(&self, base: &str, rx: &Receiver, n: usize) {
        let mut ids = Vec::new();
        for i in 0..n {
            let url = format!("https://localhost:{}/d{i}", rx.addr.port());
            let created = self
                .api(
                    base,
                    reqwest::Method::POST,
                    "/destinations",
                    Some(json!({"name": format!("D{i}"), "url": url})),
                )
                .await;
            ids.push(created["destination"]["id"].as_i64().unwrap());
        }
        self.api(
            base,
            reqwest::Method::POST,
            "/rules",
            Some(json!({"name": "All", "alert_type": "schema", "destination_ids": ids})),
        )
        .await;
    }

    pub(crate) async fn post_events(&self, base: &str, n: usize) {
        let events: Vec<Value> = (0..n)
            .map(|i| json!({"type": "schema_change", "asset": {"qualified_name": format!("db.t{i}"), "asset_type": "table"}}))
            .collect();
        self.api(
            base,
            reqwest::Method::POST,
            "/events",
            Some(Value::Array(events)),
        )
        .await;
    }

    /// Counts deliveries by status through the API, following cursors.
    pub(crate) async fn statuses(&self, base: &str) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        let mut cursor = String::new();
        loop {
            let page = self
                .api(
                    base,
                    reqwest::Method::GET,
                    &format!("/deliveries?cursor={cursor}"),
                    None,
                )
                .await;
            for item in page["items"].as_array().unwrap() {
                *counts
                    .entry(item["status"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => return counts,
            }
        }
    }

    async fn all_delivered(&self, base: &str, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let counts = self.statuses(base).await;
            if counts.get("delivered") == Some(&n) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not all {n} delivered: {counts:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// One client for every call: building one reads the system's CA bundle,
/// which takes long enough in a debug build to dominate a check of thousands.
fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(name) = self.pg_database.take() {
            drop_pg_database(name);
        }
    }
}

/// webhook-id -> how many times the receiver saw it.
fn seen(rx: &Receiver) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for r in rx.received() {
        *seen
            .entry(r.header("webhook-id").unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    seen
}

pub(crate) async fn kill(process: &Process, signal: &str) {
    let pid = process.child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args([signal, &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

crate::on_both_engines!(with crate::processes::Site::new;
    sigkill_mid_delivery_loses_nothing,
    sigterm_finishes_attempts_in_flight_and_exits,
);

async fn sigkill_mid_delivery_loses_nothing(site: &Site) {
    let rx = receiver(
        &site.ca.tls,
        Behaviour {
            delay: Duration::from_millis(300),
            ..Behaviour::default()
        },
    )
    .await;
    let mut first = site.start().await;
    site.routes(&first.base, &rx, 2).await;
    site.post_events(&first.base, 20).await; // 40 deliveries, 8 at a time per destination
    rx.wait_for(5, Duration::from_secs(20)).await;
    first.child.start_kill().unwrap();
    first.child.wait().await.unwrap();
    let before = rx.count();
    assert!(
        before < 40,
        "killed while deliveries were pending ({before} received)"
    );

    let second = site.start().await;
    site.all_delivered(&second.base, 40, Duration::from_secs(60))
        .await;
    let seen = seen(&rx);
    assert_eq!(seen.len(), 40, "every delivery reached the receiver");
    // Only the attempts in flight at the kill may arrive twice (at least once).
    let twice = seen.values().filter(|n| **n > 1).count();
    assert!(twice <= 16, "{twice} arrived twice");
}

async fn sigterm_finishes_attempts_in_flight_and_exits(site: &Site) {
    let rx = receiver(
        &site.ca.tls,
        Behaviour {
            delay: Duration::from_millis(1500),
            ..Behaviour::default()
        },
    )
    .await;
    let mut process = site.start().await;
    site.routes(&process.base, &rx, 1).await;
    site.post_events(&process.base, 3).await;
    rx.wait_for(3, Duration::from_secs(10)).await;
    let asked = Instant::now();
    kill(&process, "-TERM").await;
    let status = tokio::time::timeout(Duration::from_secs(15), process.child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "stopped in {:?}",
        asked.elapsed()
    );
    // The three attempts in flight were finished and recorded before the exit.
    let restarted = site.start().await;
    let counts = site.statuses(&restarted.base).await;
    assert_eq!(counts.get("delivered"), Some(&3), "{counts:?}");
    assert_eq!(rx.count(), 3);
}

#[test]
fn two_processes_share_one_postgres_queue() {
    crate::helpers::runtime().block_on(async {
        let Some(site) = Site::new(Engine::Postgres).await else {
            return;
        };
        let rx = receiver(
            &site.ca.tls,
            Behaviour {
                delay: Duration::from_millis(10),
                ..Behaviour::default()
            },
        )
        .await;
        // A lease and a request timeout long enough that a loaded machine cannot
        // run out of either: a second attempt would then be at-least-once working
        // (a lease expired, or an answer that came after the 2 s timeout while the
        // receiver had already counted it), not two processes sharing a row.
        let lease = [
            ("ALERTWIRE_DELIVERY_LEASE", "20s"),
            ("ALERTWIRE_REQUEST_TIMEOUT", "15s"),
        ];
        let a = site.start_with_env(&lease).await;
        let b = site.start_with_env(&lease).await;
        site.routes(&a.base, &rx, 10).await;
        site.post_events(&a.base, 100).await; // 1,000 deliveries, posted to one process
        site.all_delivered(&b.base, 1000, Duration::from_secs(120))
            .await;
        let seen = seen(&rx);
        assert_eq!(seen.len(), 1000);
        assert!(
            seen.values().all(|n| *n == 1),
            "no delivery was made twice (no lease expired)"
        );
        let delivered = |base: String| async move {
            let text = reqwest::get(format!("{base}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("alertwire_deliveries_total{outcome=\"delivered\"} "))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap()
        };
        let (from_a, from_b) = (
            delivered(a.base.clone()).await,
            delivered(b.base.clone()).await,
        );
        assert_eq!(from_a + from_b, 1000);
        assert!(
            from_a > 0 && from_b > 0,
            "both processes delivered: {from_a} and {from_b}"
        );
    });
}

/// A bulk redelivery survives a SIGKILL of its process: the next start
/// resumes it from its cursor, and every delivery is queued again once.
mod bulk_job {
    use super::*;

    crate::on_both_engines!(with crate::processes::Site::new;
        a_bulk_job_resumes_after_sigkill,
    );

    async fn job(site: &Site, base: &str, id: i64) -> Value {
        site.api(base, reqwest::Method::GET, &format!("/jobs/{id}"), None)
            .await["job"]
            .clone()
    }

    async fn a_bulk_job_resumes_after_sigkill(site: &Site) {
        let failing = receiver(
            &site.ca.tls,
            Behaviour {
                status: 500,
                ..Behaviour::default()
            },
        )
        .await;
        let paced = [
            ("ALERTWIRE_RETRY_SCHEDULE", "0s"),
            ("ALERTWIRE_BULK_BATCH", "5"),
            ("ALERTWIRE_BULK_PAUSE", "300ms"),
        ];
        let mut first = site.start_with_env(&paced).await;
        site.routes(&first.base, &failing, 1).await;
        site.post_events(&first.base, 60).await;
        // One attempt each: all 60 end failed.
        let deadline = Instant::now() + Duration::from_secs(30);
        while site.statuses(&first.base).await.get("failed") != Some(&60) {
            assert!(Instant::now() < deadline, "the deliveries never failed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Disabled, so what the job queues again stays queued for the count.
        let d = site
            .api(&first.base, reqwest::Method::GET, "/destinations", None)
            .await;
        let destination = d["items"][0]["id"].as_i64().unwrap();
        site.api(
            &first.base,
            reqwest::Method::PATCH,
            &format!("/destinations/{destination}"),
            Some(json!({"enabled": false})),
        )
        .await;
        let since = app::format::rfc3339(server::clock::now_ms() - 3_600_000);
        let started = site
            .api(
                &first.base,
                reqwest::Method::POST,
                "/deliveries/redeliver",
                Some(json!({"destination_id": destination, "since": since})),
            )
            .await;
        let id = started["job"]["id"].as_i64().unwrap();
        assert_eq!(started["job"]["total"], 60);
        let deadline = Instant::now() + Duration::from_secs(30);
        let before = loop {
            let j = job(site, &first.base, id).await;
            if j["done"].as_i64().unwrap() >= 10 {
                break j["done"].as_i64().unwrap();
            }
            assert!(Instant::now() < deadline, "no progress: {j}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        first.child.start_kill().unwrap();
        first.child.wait().await.unwrap();
        assert!(before < 60, "killed mid-job ({before} done)");

        let second = site.start_with_env(&paced).await;
        let killed = job(site, &second.base, id).await;
        assert!(
            killed["done"].as_i64().unwrap() >= before,
            "progress kept: {killed}"
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        let finished = loop {
            let j = job(site, &second.base, id).await;
            if j["state"] == "done" {
                break j;
            }
            assert_eq!(j["state"], "running", "{j}");
            assert!(Instant::now() < deadline, "the job never resumed: {j}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(finished["done"], 60, "{finished}");
        let counts = site.statuses(&second.base).await;
        assert_eq!(counts.get("pending"), Some(&60), "{counts:?}");
        // Each was sent once before the job, and not again (its destination is disabled).
        assert!(seen(&failing).values().all(|n| *n == 1));
    }
}
