//! Benchmark for the delivery engine (issue: alerts pipeline, "Speed").
//!
//! Starts the built `server` binary on SQLite (or, with `--postgres`, on a
//! fresh PostgreSQL database), a fast HTTPS receiver on loopback, 10
//! destinations and one rule sending to all of them, then prints:
//! - throughput: events posted as fast as the API takes them, deliveries/s;
//! - ingest-to-receipt latency at a steady 1,000 deliveries/s;
//! - how late retries start with 100,000 more retries scheduled;
//! - the server's CPU seconds and peak RSS.
//!
//! Run: `make bench` (or `make bench ARGS=--postgres`).
mod support;
use support::postgres_url;

use serde_json::{json, Value};
use server::receiver::tls::make_local_tls;
use server::receiver::{Behaviour, OnReceive, Received, Receiver};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const DESTINATIONS: usize = 10;
const THROUGHPUT_EVENTS: usize = 3_000; // x10 destinations = 30,000 deliveries
const BATCH: usize = 100;
const STEADY_SECONDS: u64 = 10;
const SCHEDULED: usize = 100_000;
const PROBES: usize = 200;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// When each alert was posted, and when each of its deliveries arrived.
#[derive(Default)]
struct Clock {
    posted: HashMap<String, Instant>,
    arrived: Vec<(String, Instant)>,
    probes: HashMap<String, Instant>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

fn alert_id(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("\"id\":\"alert_")? + 6;
    let end = start + text[start..].find('"')?;
    Some(text[start..end].to_owned())
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// (CPU seconds, peak RSS in MiB) from /proc.
    fn usage(&self) -> (f64, f64) {
        let pid = self.pid();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let cpu = (ticks(11) + ticks(12)) / 100.0; // utime, stime (USER_HZ = 100)
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        (cpu, hwm / 1024.0)
    }
}

fn server_binary() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    // target/release/examples/bench_deliveries -> target/release/server
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

fn event(i: usize) -> Value {
    // About 1 KB of webhook body once wrapped in the alert.
    json!({
        "type": "schema_change",
        "asset": {"qualified_name": format!("production.public.table_{i}"), "asset_type": "table"},
        "change_type": "column_removed",
        "details": {"column_name": "shipping_status", "column_type": "varchar",
                    "note": "x".repeat(520), "sequence": i}
    })
}

struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> Result<Value, Error> {
        let response = self
            .client
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let value: Value = response.json().await?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {value}").into());
        }
        Ok(value)
    }

    /// Posts events and notes when each alert was posted.
    async fn post_events(&self, events: Vec<Value>, clock: &Mutex<Clock>) -> Result<(), Error> {
        let sent = Instant::now();
        let answer = self.post("/events", Value::Array(events)).await?;
        let mut clock = clock.lock().map_err(|_| "poisoned")?;
        for alert in answer["alerts"].as_array().into_iter().flatten() {
            if let Some(id) = alert["id"].as_str() {
                clock.posted.insert(id.to_owned(), sent);
            }
        }
        Ok(())
    }
}

async fn wait_for(rx: &Receiver, n: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while rx.count() < n {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let postgres = std::env::args().any(|a| a == "--postgres");
    let dir =
        std::env::temp_dir().join(format!("alertwire_bench_deliveries_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let tls = make_local_tls()?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem)?;
    let database_url = if postgres {
        postgres_url("alertwire_bench").await?
    } else {
        format!("sqlite://{}", dir.join("bench.db").display())
    };

    let clock = Arc::new(Mutex::new(Clock::default()));
    let on_receive: OnReceive = {
        let clock = clock.clone();
        Arc::new(move |r: &Received| {
            let now = Instant::now();
            if let Ok(mut c) = clock.lock() {
                if let Some(msg) = r
                    .header("webhook-id")
                    .filter(|m| m.starts_with("msg_probe"))
                {
                    c.probes.insert(msg.to_owned(), now);
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
    let server = Server {
        base: line.trim_start_matches("listening on ").trim().to_owned(),
        child,
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let api = Arc::new(Api {
        client: reqwest::Client::new(),
        base: server.base.clone(),
        key,
    });

    let mut destination_ids = Vec::new();
    for i in 0..DESTINATIONS {
        let url = format!("https://localhost:{}/d{i}", rx.addr.port());
        let created = api
            .post(
                "/destinations",
                json!({"name": format!("Bench {i}"), "url": url}),
            )
            .await?;
        destination_ids.push(created["destination"]["id"].as_i64().ok_or("no id")?);
    }
    api.post(
        "/rules",
        json!({"name": "Everything", "alert_type": "schema", "destination_ids": destination_ids}),
    )
    .await?;
    println!(
        "Alertwire delivery benchmark on {}: {DESTINATIONS} destinations, ~1 KB bodies, HTTPS receiver on loopback",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );

    // 1. Throughput: post as fast as the API takes them (2 posters, 100 events = 1,000 deliveries a request).
    let total = (THROUGHPUT_EVENTS * DESTINATIONS) as u32;
    let started = Instant::now();
    let mut posters = Vec::new();
    for p in 0..2 {
        let (api, clock) = (api.clone(), clock.clone());
        posters.push(tokio::spawn(async move {
            for chunk in (0..THROUGHPUT_EVENTS)
                .filter(|i| i % 2 == p)
                .collect::<Vec<_>>()
                .chunks(BATCH)
            {
                api.post_events(chunk.iter().map(|i| event(*i)).collect(), &clock)
                    .await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for poster in posters {
        poster.await??;
    }
    let ingested = started.elapsed();
    if !wait_for(&rx, total, Duration::from_secs(600)).await {
        return Err(format!("only {} of {total} deliveries arrived", rx.count()).into());
    }
    let took = started.elapsed();
    println!(
        "throughput: {total} deliveries in {:.2}s = {:.0} deliveries/s (ingest of {THROUGHPUT_EVENTS} events took {:.2}s = {:.0} events/s)",
        took.as_secs_f64(),
        f64::from(total) / took.as_secs_f64(),
        ingested.as_secs_f64(),
        THROUGHPUT_EVENTS as f64 / ingested.as_secs_f64()
    );
    clock.lock().map_err(|_| "poisoned")?.arrived.clear();

    // 2. Latency at a steady 1,000 deliveries/s: one event (10 deliveries) every 10 ms.
    let before = rx.count();
    let steady_events = (STEADY_SECONDS * 100) as usize;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut in_flight = Vec::new();
    for i in 0..steady_events {
        tick.tick().await;
        let (api, clock) = (api.clone(), clock.clone());
        in_flight.push(tokio::spawn(async move {
            api.post_events(vec![event(1_000_000 + i)], &clock).await
        }));
    }
    for request in in_flight {
        request.await??;
    }
    let expected = before + (steady_events * DESTINATIONS) as u32;
    wait_for(&rx, expected, Duration::from_secs(60)).await;
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
    latencies.sort_by(f64::total_cmp);
    println!(
        "latency at 1,000 deliveries/s: n={} ingest-to-receipt p50={:.1}ms p99={:.1}ms max={:.1}ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );

    // 3. Retry punctuality: 100,000 retries scheduled an hour out, and PROBES due over the next 5 s.
    let punctuality = retry_punctuality(&database_url, &clock).await?;
    println!("{punctuality}");

    let (cpu, rss) = server.usage();
    println!("server: {cpu:.1} CPU seconds in all, peak RSS {rss:.1} MiB");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Writes retries straight into the queue (as earlier failures would have
/// left them) and measures how late each probe arrives after its due time.
async fn retry_punctuality(database_url: &str, clock: &Mutex<Clock>) -> Result<String, Error> {
    let wall = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    };
    let now = wall();
    let begun = Instant::now();
    let mut due: HashMap<String, Instant> = HashMap::new();
    let later = now + 3_600_000;
    let insert = |first: usize, rows: &[(String, i64)]| {
        let mut sql = String::from(
            "INSERT INTO deliveries (alert_id, destination_id, msg_id, status, failures, attempts, next_attempt_at, created_at, updated_at) VALUES ",
        );
        for (i, (msg, at)) in rows.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(1, {}, '{msg}', 'pending', 1, 1, {at}, {now}, {now})",
                1 + (first + i) % DESTINATIONS
            ));
        }
        sql
    };
    let mut statements = Vec::new();
    let scheduled: Vec<(String, i64)> = (0..SCHEDULED)
        .map(|i| (format!("msg_later_{i}"), later + i as i64))
        .collect();
    for (n, chunk) in scheduled.chunks(1000).enumerate() {
        statements.push(insert(n * 1000, chunk));
    }
    // The backlog first, then probes due 2-5 s after it is stored (a slow insert must not make them late).
    execute(database_url, &statements).await?;
    let now = wall();
    let started = Instant::now();
    let probes: Vec<(String, i64)> = (0..PROBES)
        .map(|i| {
            (
                format!("msg_probe_{i}"),
                now + 2_000 + (i as i64 * 3_000 / PROBES as i64),
            )
        })
        .collect();
    for (msg, at) in &probes {
        due.insert(
            msg.clone(),
            started + Duration::from_millis((at - now) as u64),
        );
    }
    execute(database_url, &[insert(0, &probes)]).await?;
    let setup = begun.elapsed();
    tokio::time::sleep(Duration::from_secs(7).saturating_sub(started.elapsed())).await;
    let c = clock.lock().map_err(|_| "poisoned")?;
    let mut late: Vec<f64> = due
        .iter()
        .filter_map(|(msg, at)| {
            c.probes
                .get(msg)
                .map(|got| got.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    late.sort_by(f64::total_cmp);
    Ok(format!(
        "retries with {SCHEDULED} scheduled: {}/{PROBES} probes arrived, start after due time p50={:.0}ms p99={:.0}ms max={:.0}ms (insert took {:.1}s)",
        late.len(),
        percentile(&late, 0.5),
        percentile(&late, 0.99),
        late.last().copied().unwrap_or(f64::NAN),
        setup.as_secs_f64()
    ))
}

async fn execute(database_url: &str, statements: &[String]) -> Result<(), Error> {
    use sqlx::Connection;
    if database_url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await?;
        let mut tx = conn.begin().await?;
        for s in statements {
            sqlx::query(s).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    } else {
        let mut conn = sqlx::PgConnection::connect(database_url).await?;
        let mut tx = conn.begin().await?;
        for s in statements {
            sqlx::query(s).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
