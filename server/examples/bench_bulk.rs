//! Benchmark for bulk recovery (issue 10, point 3, "Speed").
//!
//! Starts the built `server` binary on SQLite (or, with `--postgres`, on a
//! fresh PostgreSQL database) with the default bulk settings, an HTTPS
//! receiver on loopback, one destination with 100,000 failed deliveries
//! (written straight into the database, as earlier failures would have left
//! them) and five other destinations with a rule for new alerts. Then, in
//! the same run:
//! - idle: new alerts to the five destinations at a steady rate, and the
//!   ingest-to-receipt latency of their first attempts;
//! - during the job: the same load while a bulk redelivery queues the
//!   100,000 again (and the engine sends them);
//! - prints p50/p99 of both, the ratio of the p99s (goal: at most 2x), how long
//!   the job took to queue everything, and how long the engine took to send it.
//!
//! Run: `cargo build --release -p server --bin server --example bench_bulk &&
//! target/release/examples/bench_bulk [--postgres]`.
mod support;
use support::{percentile, postgres_url};

use serde_json::{json, Value};
use server::receiver::tls::make_local_tls;
use server::receiver::{Behaviour, OnReceive, Received, Receiver};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const FAILED: i64 = 100_000;
const OTHERS: usize = 5;
/// One new alert (five first attempts) every this often.
const EVERY: Duration = Duration::from_millis(20);
const PHASE: Duration = Duration::from_secs(15);

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Default)]
struct Clock {
    posted: HashMap<String, Instant>,
    /// Each first attempt to the other destinations: its alert and when it arrived (it
    /// may arrive before the answer to its post is read, so latencies are worked out after).
    arrived: Vec<(String, Instant)>,
    /// Bulk deliveries received.
    bulk: u64,
}

fn alert_id(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("\"id\":\"alert_")? + 6;
    let end = start + text[start..].find('"')?;
    Some(text[start..end].to_owned())
}

fn server_binary() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("server"))
        .unwrap_or_default()
}

fn command(dir: &std::path::Path, database_url: &str, ca: &std::path::Path) -> Command {
    let mut cmd = Command::new(server_binary());
    cmd.env("DATABASE_URL", database_url)
        .env("ALERTWIRE_SECRET_KEY_FILE", dir.join("secret.key"))
        .env("ALERTWIRE_LISTEN", "127.0.0.1:0")
        .env("ALERTWIRE_EXTRA_CA_CERTS", ca)
        .env("ALERTWIRE_ALLOWED_TARGETS", "127.0.0.0/8")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    cmd
}

struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Error> {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let value: Value = response.json().await?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {value}").into());
        }
        Ok(value)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, Error> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

/// Posts one schema alert every `EVERY` for `PHASE`; returns the first-attempt latencies.
async fn steady_load(
    api: Arc<Api>,
    clock: Arc<Mutex<Clock>>,
    tag: &str,
) -> Result<Vec<f64>, Error> {
    clock.lock().map_err(|_| "poisoned")?.arrived.clear();
    let n = (PHASE.as_millis() / EVERY.as_millis()) as usize;
    let mut tick = tokio::time::interval(EVERY);
    let mut requests = Vec::new();
    for i in 0..n {
        tick.tick().await;
        let (api, clock, tag) = (api.clone(), clock.clone(), tag.to_owned());
        requests.push(tokio::spawn(async move {
            let sent = Instant::now();
            let event = json!({"type": "schema_change", "asset": {"qualified_name": format!("bench.{tag}.t{i}"), "asset_type": "table"}});
            let answer = api.post("/events", event).await?;
            let mut c = clock.lock().map_err(|_| "poisoned")?;
            for alert in answer["alerts"].as_array().into_iter().flatten() {
                if let Some(id) = alert["id"].as_str() {
                    c.posted.insert(id.to_owned(), sent);
                }
            }
            Ok::<_, Error>(())
        }));
    }
    for r in requests {
        r.await??;
    }
    let expected = n * OTHERS;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = clock.lock().map_err(|_| "poisoned")?.arrived.len();
        if got >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut latencies: Vec<f64> = {
        let c = clock.lock().map_err(|_| "poisoned")?;
        c.arrived
            .iter()
            .filter_map(|(id, at)| {
                c.posted
                    .get(id)
                    .map(|p| at.duration_since(*p).as_secs_f64() * 1000.0)
            })
            .collect()
    };
    if latencies.len() < expected {
        return Err(format!(
            "{tag}: only {} of {expected} first attempts arrived",
            latencies.len()
        )
        .into());
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

/// 100,000 failed deliveries of `destination` for one of its alerts, created a minute ago.
async fn seed(database_url: &str, destination: i64, postgres: bool) -> Result<(), Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let at = now - 60_000;
    let insert = format!(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {FAILED}), \
         t AS (SELECT alert_id, rule_id, event_type, asset_name FROM deliveries \
           WHERE destination_id = {destination} ORDER BY id DESC LIMIT 1) \
         INSERT INTO deliveries (alert_id, destination_id, msg_id, status, attempts, failures, retry, \
           next_attempt_at, last_status, created_at, updated_at, rule_id, event_type, asset_name) \
         SELECT t.alert_id, {destination}, 'msg_bulk_' || CAST(x AS TEXT), 'failed', 5, 5, TRUE, NULL, 500, \
           {at}, {at}, t.rule_id, t.event_type, t.asset_name FROM n, t"
    );
    if postgres {
        let pool = sqlx::PgPool::connect(database_url).await?;
        sqlx::query(&insert).execute(&pool).await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(database_url).await?;
        sqlx::query(&insert).execute(&pool).await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}

fn summary(name: &str, l: &[f64]) -> String {
    format!(
        "{name}: n={} first-attempt latency p50={:.1}ms p99={:.1}ms max={:.1}ms",
        l.len(),
        percentile(l, 0.5),
        percentile(l, 0.99),
        l.last().copied().unwrap_or(f64::NAN)
    )
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let postgres = std::env::args().any(|a| a == "--postgres");
    let dir = std::env::temp_dir().join(format!("alertwire_bench_bulk_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let tls = make_local_tls()?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem)?;
    let database_url = if postgres {
        postgres_url("alertwire_bench_bulk").await?
    } else {
        format!("sqlite://{}", dir.join("bench.db").display())
    };

    let clock = Arc::new(Mutex::new(Clock::default()));
    let on_receive: OnReceive = {
        let clock = clock.clone();
        Arc::new(move |r: &Received| {
            let now = Instant::now();
            if let Ok(mut c) = clock.lock() {
                if r.path == "/bulk" {
                    c.bulk += 1;
                } else if let Some(id) = alert_id(&r.body) {
                    c.arrived.push((id, now));
                }
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let behaviour = Behaviour {
        record: false,
        ..Behaviour::default()
    };
    let rx = Receiver::start(
        listener,
        tls.server_config.clone(),
        behaviour,
        Some(on_receive),
    )?;

    let out = command(&dir, &database_url, &ca)
        .args(["create-api-key", "--name", "bench"])
        .output()
        .await?;
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let mut child = command(&dir, &database_url, &ca)
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let line = lines.next_line().await?.ok_or("the server did not start")?;
    let base = line.trim_start_matches("listening on ").trim().to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let api = Arc::new(Api {
        client: reqwest::Client::new(),
        base,
        key,
    });

    let port = rx.addr.port();
    let bulk = api
        .post(
            "/destinations",
            json!({"name": "Bulk", "url": format!("https://localhost:{port}/bulk")}),
        )
        .await?["destination"]["id"]
        .as_i64()
        .ok_or("no id")?;
    let mut others = Vec::new();
    for i in 0..OTHERS {
        let created = api
            .post("/destinations", json!({"name": format!("Other {i}"), "url": format!("https://localhost:{port}/o{i}")}))
            .await?;
        others.push(created["destination"]["id"].as_i64().ok_or("no id")?);
    }
    api.post(
        "/rules",
        json!({"name": "New alerts", "alert_type": "schema", "destination_ids": others}),
    )
    .await?;
    api.post(
        "/rules",
        json!({"name": "Bulk", "alert_type": "freshness", "destination_ids": [bulk]}),
    )
    .await?;
    // One real alert for the bulk destination, whose body the 100,000 share.
    api.post("/events", json!({"type": "freshness_violation", "asset": {"qualified_name": "bench.bulk", "asset_type": "table"}}))
        .await?;
    while clock.lock().map_err(|_| "poisoned")?.bulk < 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seed(&database_url, bulk, postgres).await?;
    println!(
        "Alertwire bulk recovery benchmark on {}: {FAILED} failed deliveries on one destination, \
         new alerts to {OTHERS} others (one every {}ms), default --bulk-batch 200 --bulk-pause 200ms",
        if postgres { "PostgreSQL" } else { "SQLite" },
        EVERY.as_millis()
    );

    let idle = steady_load(api.clone(), clock.clone(), "idle").await?;
    println!("{}", summary("idle", &idle));

    let since = app::format::rfc3339(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64
            - 3_600_000,
    );
    let started = Instant::now();
    let job = api
        .post(
            "/deliveries/redeliver",
            json!({"destination_id": bulk, "since": since}),
        )
        .await?;
    let id = job["job"]["id"].as_i64().ok_or("no job")?;
    let watcher = {
        let api = api.clone();
        tokio::spawn(async move {
            loop {
                let j = api
                    .call(reqwest::Method::GET, &format!("/jobs/{id}"), None)
                    .await?;
                if j["job"]["state"] != "running" && j["job"]["state"] != "queued" {
                    return Ok::<_, Error>((started.elapsed(), j["job"].clone()));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let during = steady_load(api.clone(), clock.clone(), "during").await?;
    let bulk_during = clock.lock().map_err(|_| "poisoned")?.bulk;
    println!("{}", summary("during the job", &during));
    let (p_idle, p_during) = (percentile(&idle, 0.99), percentile(&during, 0.99));
    println!(
        "p99 during / idle = {:.2}x (goal: at most 2x); p50 {:.2}x",
        p_during / p_idle,
        percentile(&during, 0.5) / percentile(&idle, 0.5)
    );
    let (queued_in, job) = watcher.await??;
    println!(
        "job: {} of {} queued again in {:.1}s ({}); the engine had sent {} of them by the end of the load",
        job["done"], job["total"], queued_in.as_secs_f64(), job["state"], bulk_during.saturating_sub(1)
    );
    let deadline = Instant::now() + Duration::from_secs(600);
    while clock.lock().map_err(|_| "poisoned")?.bulk < FAILED as u64 + 1
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = clock.lock().map_err(|_| "poisoned")?.bulk - 1;
    println!(
        "all {sent} redelivered deliveries received {:.1}s after the job started ({:.0}/s)",
        started.elapsed().as_secs_f64(),
        sent as f64 / started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
