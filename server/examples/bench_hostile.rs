//! Hostile receivers (RELIABILITY.md, section 4): how a healthy destination
//! fares while 1,000 endpoints misbehave.
//!
//! Starts the built `server` binary (SQLite, or `--postgres`) with a 10 s
//! request timeout and one attempt per delivery, a healthy HTTPS receiver and
//! `--endpoints N` (1,000) hostile endpoints, each its own destination (on a
//! runtime of their own: `hostile_runtime`). It
//! probes the healthy destination with 20 events a second and prints:
//! - its ingest-to-receipt p99 idle;
//! - for each hostile behaviour in turn (every endpoint misbehaving the same
//!   way, 2 deliveries each): the attempts' outcome and longest time, and the
//!   healthy p99 beside it with its ratio to idle;
//! - the same with the behaviours mixed and 8 deliveries per endpoint (the
//!   per-destination limit), the server's peak RSS and its growth per hanging
//!   attempt.
//!
//! `--hostile-nice N` runs the hostile endpoints' threads at nice N (0, as
//! the server's, unless given): they stand for other machines, which would
//! take none of the server's CPU; at 19 they only get what the server, the
//! healthy receiver and the probes leave.
//!
//! Run: `cargo build --release -p server --bin server --example bench_hostile &&
//! target/release/examples/bench_hostile [--postgres] [--endpoints N] [--hostile-nice N]`.
mod support;
use support::{percentile, postgres_url, ChildServer};

use serde_json::{json, Value};
use server::receiver::hostile::{Hostile, HostileServer, HostileTls};
use server::receiver::tls::make_local_tls;
use server::receiver::{Behaviour, OnReceive, Received, Receiver};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

const TIMEOUT_S: u64 = 10;
const PROBE_EVERY: Duration = Duration::from_millis(50);
const PROBE_FOR: Duration = Duration::from_secs(8);
/// Deliveries per endpoint in each behaviour's phase.
const PHASE_EVENTS: usize = 2;
/// Deliveries per endpoint in the mixed phase: the per-destination limit.
const MIXED_EVENTS: usize = 8;

/// When each probe was posted and when it arrived, by alert id.
#[derive(Default)]
struct Probes {
    posted: HashMap<String, Instant>,
    arrived: HashMap<String, Instant>,
}

/// One probing run: latencies in ms, sorted, and the slowest three described.
struct Probed {
    ms: Vec<f64>,
    slowest: String,
}

struct Bench {
    client: reqwest::Client,
    base: String,
    key: String,
    probes: Arc<Mutex<Probes>>,
    db: Db,
    healthy: i64,
}

enum Db {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

fn alert_id(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("\"id\":\"alert_")? + 6;
    let end = start + text[start..].find('"')?;
    Some(text[start..end].to_owned())
}

impl Bench {
    async fn post(&self, path: &str, body: Value) -> Result<Value, Error> {
        support::api_post(&self.client, &self.base, &self.key, path, body).await
    }

    async fn event(&self, asset: &str) -> Result<Value, Error> {
        self.post(
            "/events",
            json!({"type": "schema_change", "change_type": "column_removed",
                   "asset": {"qualified_name": asset, "asset_type": "table"}}),
        )
        .await
    }

    /// Destinations at `urls` and rules (50 destinations each) for assets matching `pattern`.
    async fn route(&self, urls: &[String], pattern: &str) -> Result<Vec<i64>, Error> {
        let mut ids = Vec::new();
        for (n, url) in urls.iter().enumerate() {
            let created = self
                .post(
                    "/destinations",
                    json!({"name": format!("{pattern} {n}"), "url": url}),
                )
                .await?;
            ids.push(created["destination"]["id"].as_i64().ok_or("no id")?);
        }
        for (n, chunk) in ids.chunks(50).enumerate() {
            self.post(
                "/rules",
                json!({"name": format!("{pattern} rule {n}"), "alert_type": "schema",
                       "asset_pattern": pattern, "destination_ids": chunk}),
            )
            .await?;
        }
        Ok(ids)
    }

    /// Probes the healthy destination for `PROBE_FOR`; its latencies in ms,
    /// sorted, and the slowest three with when they were posted.
    async fn probe(&self, server: &ChildServer, peak: &mut f64) -> Result<Probed, Error> {
        let mut tick = tokio::time::interval(PROBE_EVERY);
        let start = Instant::now();
        let until = start + PROBE_FOR;
        let mut ids = Vec::new();
        let mut n = 0;
        while Instant::now() < until {
            tick.tick().await;
            n += 1;
            let sent = Instant::now();
            let answer = self.event(&format!("healthy.{n}")).await?;
            let id = answer["alerts"][0]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            self.probes
                .lock()
                .map_err(|_| "poisoned")?
                .posted
                .insert(id.clone(), sent);
            ids.push(id);
            *peak = peak.max(server.memory_mib().0);
        }
        let deadline = Instant::now() + Duration::from_secs(TIMEOUT_S * 3);
        loop {
            // The guard lives only in this block: it must not be held across the sleep.
            let done = {
                let probes = self.probes.lock().map_err(|_| "poisoned")?;
                if ids.iter().all(|id| probes.arrived.contains_key(id)) || Instant::now() > deadline
                {
                    let mut timed: Vec<(f64, f64)> = ids
                        .iter()
                        .filter_map(|id| Some((probes.posted.get(id)?, probes.arrived.get(id)?)))
                        .map(|(p, a)| {
                            let ms = a.duration_since(*p).as_secs_f64() * 1000.0;
                            (ms, p.duration_since(start).as_secs_f64())
                        })
                        .collect();
                    timed.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Some(timed)
                } else {
                    None
                }
            };
            if let Some(timed) = done {
                if timed.len() < ids.len() {
                    println!(
                        "  ! {} of {} probes never arrived",
                        ids.len() - timed.len(),
                        ids.len()
                    );
                }
                let slowest = timed
                    .iter()
                    .rev()
                    .take(3)
                    .map(|(ms, at)| format!("{ms:.0}ms at +{at:.1}s"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let ms = timed.into_iter().map(|(ms, _)| ms).collect();
                return Ok(Probed { ms, slowest });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The hostile attempts started since `since_ms`: (outcome, count, longest ms).
    async fn outcomes(&self, since_ms: i64) -> Result<Vec<(String, i64, i64)>, Error> {
        let sql = "SELECT COALESCE(a.error_kind, 'delivered'), COUNT(*), COALESCE(MAX(a.duration_ms), 0) \
                   FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
                   WHERE a.started_at >= $1 AND d.destination_id <> $2 GROUP BY 1 ORDER BY 1";
        Ok(match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_as(sql)
                    .bind(since_ms)
                    .bind(self.healthy)
                    .fetch_all(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_as(sql)
                    .bind(since_ms)
                    .bind(self.healthy)
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    /// Waits until `each` attempts per endpoint since `since_ms` are recorded.
    /// A failing endpoint gets one at a time (the engine's circuit breaker), so
    /// that can be `each` timeouts in a row.
    async fn settle(
        &self,
        since_ms: i64,
        endpoints: usize,
        each: usize,
    ) -> Result<Vec<(String, i64, i64)>, Error> {
        let n = (endpoints * each) as i64;
        let deadline = Instant::now() + Duration::from_secs(TIMEOUT_S * (each as u64 + 2));
        loop {
            let rows = self.outcomes(since_ms).await?;
            if rows.iter().map(|r| r.1).sum::<i64>() >= n || Instant::now() > deadline {
                return Ok(rows);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// A runtime of its own for the hostile endpoints. They stand for other
/// machines: here they still take their share of the same 2 cores, but their
/// thousands of TLS handshakes must not queue the healthy receiver's and the
/// probe client's tasks behind them on one runtime, which measured the
/// benchmark's own scheduling instead of the server's. Kept until the process ends.
fn hostile_runtime(nice: i32) -> Result<tokio::runtime::Handle, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hostile")
        .on_thread_start(move || {
            if nice != 0 {
                let tid = rustix::thread::gettid();
                if let Err(err) = rustix::process::setpriority_process(Some(tid), nice) {
                    eprintln!("cannot set the hostile endpoints' nice value: {err}");
                }
            }
        })
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    std::thread::spawn(move || runtime.block_on(std::future::pending::<()>()));
    Ok(handle)
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(0))
        .unwrap_or(0)
}

fn summary(rows: &[(String, i64, i64)]) -> String {
    rows.iter()
        .map(|(kind, n, max)| format!("{kind} x{n} (longest {:.1}s)", *max as f64 / 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let postgres = args.iter().any(|a| a == "--postgres");
    let endpoints: usize = args
        .iter()
        .position(|a| a == "--endpoints")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1000);
    let hostile_nice: i32 = args
        .iter()
        .position(|a| a == "--hostile-nice")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("alertwire_bench_hostile_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let hostile_tls = Arc::new(HostileTls::new()?);
    let healthy_tls = make_local_tls()?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, format!("{}{}", hostile_tls.ca_pem, healthy_tls.ca_pem))?;
    let database_url = if postgres {
        postgres_url("alertwire_bench_hostile").await?
    } else {
        format!("sqlite://{}", dir.join("bench.db").display())
    };

    let probes = Arc::new(Mutex::new(Probes::default()));
    let on_receive: OnReceive = {
        let probes = probes.clone();
        Arc::new(move |r: &Received| {
            let now = Instant::now();
            if let (Some(id), Ok(mut p)) = (alert_id(&r.body), probes.lock()) {
                p.arrived.insert(id, now);
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let healthy_rx = Receiver::start(
        listener,
        healthy_tls.server_config.clone(),
        Behaviour {
            record: false,
            ..Behaviour::default()
        },
        Some(on_receive),
    )?;
    let timeout = format!("{TIMEOUT_S}s");
    let ca_path = ca.display().to_string();
    let (server, key) = ChildServer::start(
        &database_url,
        &dir,
        &[
            ("ALERTWIRE_EXTRA_CA_CERTS", ca_path.as_str()),
            ("ALERTWIRE_ALLOWED_TARGETS", "127.0.0.0/8"),
            ("ALERTWIRE_REQUEST_TIMEOUT", timeout.as_str()),
            ("ALERTWIRE_RETRY_SCHEDULE", "0s"),
        ],
    )
    .await?;
    let db = if postgres {
        Db::Postgres(sqlx::PgPool::connect(&database_url).await?)
    } else {
        Db::Sqlite(sqlx::SqlitePool::connect(&database_url).await?)
    };
    let mut bench = Bench {
        client: reqwest::Client::new(),
        base: server.base.clone(),
        key,
        probes,
        db,
        healthy: 0,
    };
    let healthy_url = format!("https://localhost:{}/healthy", healthy_rx.addr.port());
    bench.healthy = bench.route(&[healthy_url], "healthy.*").await?[0];
    let mut hostile = Vec::new();
    let elsewhere = hostile_runtime(hostile_nice)?;
    for _ in 0..endpoints {
        let tls = hostile_tls.clone();
        let start =
            elsewhere.spawn(async move { HostileServer::start(Hostile::Silent, &tls).await });
        hostile.push(start.await??);
    }
    let urls: Vec<String> = hostile.iter().map(HostileServer::url).collect();
    bench.route(&urls, "hostile.*").await?;
    println!(
        "Alertwire hostile-receiver benchmark on {}: {endpoints} hostile endpoints (nice {hostile_nice}), request timeout {TIMEOUT_S}s, \
         one attempt per delivery; healthy probes every {}ms for {}s per phase",
        if postgres { "PostgreSQL" } else { "SQLite" },
        PROBE_EVERY.as_millis(),
        PROBE_FOR.as_secs()
    );

    let mut peak = 0.0;
    let Probed { ms: idle, slowest } = bench.probe(&server, &mut peak).await?;
    let idle_p99 = percentile(&idle, 0.99);
    let (idle_rss, _) = server.memory_mib();
    println!(
        "idle: healthy p50={:.1}ms p99={idle_p99:.1}ms (n={}; slowest {slowest}), server RSS {idle_rss:.0} MiB",
        percentile(&idle, 0.5),
        idle.len()
    );

    for behaviour in Hostile::ALL {
        for endpoint in &hostile {
            endpoint.set(behaviour);
        }
        let since = epoch_ms();
        for k in 0..PHASE_EVENTS {
            bench
                .event(&format!(
                    "hostile.{}.{k}",
                    behaviour.name().replace(' ', "_")
                ))
                .await?;
        }
        let mut phase_peak = 0.0;
        let Probed {
            ms: healthy,
            slowest,
        } = bench.probe(&server, &mut phase_peak).await?;
        let rows = bench.settle(since, endpoints, PHASE_EVENTS).await?;
        let p99 = percentile(&healthy, 0.99);
        println!(
            "{:<30} attempts: {} | healthy p99={p99:.1}ms ({:.2}x idle; slowest {slowest}) | RSS peak {phase_peak:.0} MiB (+{:.1} KiB per attempt)",
            behaviour.name(),
            summary(&rows),
            p99 / idle_p99,
            (phase_peak - idle_rss) * 1024.0 / (endpoints * PHASE_EVENTS) as f64
        );
    }

    for (n, endpoint) in hostile.iter().enumerate() {
        endpoint.set(Hostile::ALL[n % Hostile::ALL.len()]);
    }
    let since = epoch_ms();
    for k in 0..MIXED_EVENTS {
        bench.event(&format!("hostile.mixed.{k}")).await?;
    }
    let mut mixed_peak = 0.0;
    let Probed { ms: mixed, slowest } = bench.probe(&server, &mut mixed_peak).await?;
    let rows = bench.settle(since, endpoints, MIXED_EVENTS).await?;
    let p99 = percentile(&mixed, 0.99);
    let (_, hwm) = server.memory_mib();
    println!(
        "mixed ({endpoints} endpoints x {MIXED_EVENTS} deliveries): {} | healthy p50={:.1}ms p99={p99:.1}ms = {:.2}x idle (ceiling 2x; slowest {slowest}) | RSS peak {mixed_peak:.0} MiB, VmHWM {hwm:.0} MiB",
        summary(&rows),
        percentile(&mixed, 0.5),
        p99 / idle_p99
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
