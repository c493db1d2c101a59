//! Benchmark for the delivery engine (issues "alerts pipeline" and 11, "Speed").
//!
//! Starts the built `server` binary on SQLite (or, with `--postgres`, on a
//! fresh PostgreSQL database), a fast HTTPS receiver on loopback, 10
//! destinations and one rule sending to all of them, then prints, each
//! throughput beside the raw HTTPS ceiling measured just before it:
//! - throughput with events posted 100 a request, then one a request over 16
//!   connections (and that run's single-event ingest rate), and single-event
//!   ingest alone (destinations disabled, so nothing is delivered meanwhile);
//! - on PostgreSQL, throughput with 1, 2 and 4 server processes on one database;
//! - ingest-to-receipt latency at a steady 1,000 deliveries/s;
//! - how late retries start with 100,000 more retries scheduled;
//! - first attempts to healthy destinations while 100,000 retries of a dead one are due;
//! - the server's CPU per delivery and peak RSS.
//!
//! Run: `make bench` (or `make bench ARGS=--postgres`).
mod ceiling;
mod process;
mod queue;
#[path = "../support/mod.rs"]
mod support;
pub use support::percentile;

use process::Server;
use serde_json::{json, Value};
use server::receiver::tls::make_local_tls;
use server::receiver::{Behaviour, OnReceive, Received, Receiver};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const DESTINATIONS: usize = 10;
const THROUGHPUT_EVENTS: usize = 3_000; // x10 destinations = 30,000 deliveries
const BATCH: usize = 100;
const SINGLE_CONNECTIONS: usize = 16;
const STEADY_SECONDS: u64 = 10;
const DEAD_RETRIES: usize = 100_000;
const DEAD_SECONDS: u64 = 5;
/// The engine's default `--max-in-flight-per-destination`: its connections to the receiver at most.
const ENGINE_CONNECTIONS: usize = DESTINATIONS * 8;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// When each alert was posted, and when each of its deliveries arrived.
#[derive(Default)]
pub struct Clock {
    posted: HashMap<String, Instant>,
    /// When the POST that raised each alert was answered.
    answered: HashMap<String, Instant>,
    arrived: Vec<(String, Instant)>,
    pub probes: HashMap<String, Instant>,
}

fn alert_id(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("\"id\":\"alert_")? + 6;
    let end = start + text[start..].find('"')?;
    Some(text[start..end].to_owned())
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
        support::api_post(&self.client, &self.base, &self.key, path, body).await
    }

    /// Posts events (an array, or one event alone) and notes when each alert was posted.
    async fn post_events(&self, events: Vec<Value>, clock: &Mutex<Clock>) -> Result<(), Error> {
        let sent = Instant::now();
        let body = match <[Value; 1]>::try_from(events) {
            Ok([one]) => one,
            Err(events) => Value::Array(events),
        };
        let answer = self.post("/events", body).await?;
        let answered = Instant::now();
        let mut clock = clock.lock().map_err(|_| "poisoned")?;
        for alert in answer["alerts"].as_array().into_iter().flatten() {
            if let Some(id) = alert["id"].as_str() {
                clock.posted.insert(id.to_owned(), sent);
                clock.answered.insert(id.to_owned(), answered);
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

/// What the run shares.
struct Bench {
    postgres: bool,
    dir: std::path::PathBuf,
    database_url: String,
    ca: std::path::PathBuf,
    ca_pem: String,
    rx: Receiver,
    clock: Arc<Mutex<Clock>>,
    /// A delivery's body as the receiver got it: what the ceiling posts.
    sample: Arc<OnceLock<Vec<u8>>>,
    key: String,
}

impl Bench {
    fn api(&self, server: &Server) -> Arc<Api> {
        Arc::new(Api {
            client: reqwest::Client::new(),
            base: server.base.clone(),
            key: self.key.clone(),
        })
    }

    /// The raw ceiling over the engine's connections and over 16, 30,000 requests each.
    async fn ceiling(&self) -> Result<(f64, f64), Error> {
        let body = self.sample.get().cloned().ok_or("no delivery seen yet")?;
        let engine = ceiling::measure(
            self.rx.addr,
            &self.ca_pem,
            body.clone(),
            ENGINE_CONNECTIONS,
            30_000,
        );
        let engine = engine.await?;
        let sixteen = ceiling::measure(self.rx.addr, &self.ca_pem, body, 16, 30_000).await?;
        Ok((engine, sixteen))
    }

    /// Posts 3,000 events, `per_request` a request over `posters` connections
    /// (request i to server i % n), and times them until the last delivery
    /// arrives. Returns (deliveries/s, events/s of the posts alone).
    async fn throughput(
        &self,
        apis: &[Arc<Api>],
        per_request: usize,
        posters: usize,
    ) -> Result<(f64, f64), Error> {
        let total = (THROUGHPUT_EVENTS * DESTINATIONS) as u32;
        let target = self.rx.count() + total;
        let requests: Vec<Vec<usize>> = (0..THROUGHPUT_EVENTS)
            .collect::<Vec<_>>()
            .chunks(per_request)
            .map(|c| c.to_vec())
            .collect();
        let requests = Arc::new(Mutex::new(requests.into_iter().enumerate()));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..posters {
            let (apis, clock, requests) = (apis.to_vec(), self.clock.clone(), requests.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let next = requests.lock().map_err(|_| "poisoned")?.next();
                    let Some((n, events)) = next else { break };
                    let api = &apis[n % apis.len()];
                    api.post_events(events.iter().map(|i| event(*i)).collect(), &clock)
                        .await?;
                }
                Ok::<_, Error>(())
            }));
        }
        for task in tasks {
            task.await??;
        }
        let ingested = started.elapsed();
        if !wait_for(&self.rx, target, Duration::from_secs(600)).await {
            return Err(format!("only {} of {target} deliveries arrived", self.rx.count()).into());
        }
        let took = started.elapsed();
        self.clock.lock().map_err(|_| "poisoned")?.arrived.clear();
        Ok((
            f64::from(total) / took.as_secs_f64(),
            THROUGHPUT_EVENTS as f64 / ingested.as_secs_f64(),
        ))
    }

    /// One event (10 deliveries) every 10 ms for `seconds`: each delivery's
    /// time from its POST to its arrival, and where that time went.
    async fn steady(&self, api: &Arc<Api>, seconds: u64, first: usize) -> Result<Steady, Error> {
        self.clock.lock().map_err(|_| "poisoned")?.arrived.clear();
        let before = self.rx.count();
        let events = (seconds * 100) as usize;
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let mut in_flight = Vec::new();
        for i in 0..events {
            tick.tick().await;
            let (api, clock) = (api.clone(), self.clock.clone());
            in_flight.push(tokio::spawn(async move {
                api.post_events(vec![event(first + i)], &clock).await
            }));
        }
        for request in in_flight {
            request.await??;
        }
        let expected = before + (events * DESTINATIONS) as u32;
        wait_for(&self.rx, expected, Duration::from_secs(60)).await;
        let c = self.clock.lock().map_err(|_| "poisoned")?;
        Ok(Steady::of(&c))
    }
}

/// The steady phase's times in ms, each sorted: every delivery's POST to
/// arrival; and per event, its POST to the 202, to its first delivery's
/// arrival and to its last.
struct Steady {
    latencies: Vec<f64>,
    answer: Vec<f64>,
    first: Vec<f64>,
    last: Vec<f64>,
}

impl Steady {
    fn of(c: &Clock) -> Self {
        let ms = |from: Instant, to: Instant| to.duration_since(from).as_secs_f64() * 1000.0;
        let mut per_alert: HashMap<&str, (f64, f64)> = HashMap::new();
        let mut latencies = Vec::new();
        for (id, at) in &c.arrived {
            let Some(posted) = c.posted.get(id) else {
                continue;
            };
            let took = ms(*posted, *at);
            latencies.push(took);
            let span = per_alert.entry(id).or_insert((took, took));
            *span = (span.0.min(took), span.1.max(took));
        }
        let answer = per_alert
            .keys()
            .filter_map(|id| Some(ms(*c.posted.get(*id)?, *c.answered.get(*id)?)))
            .collect();
        let (first, last) = per_alert.values().copied().unzip();
        let sorted = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v
        };
        Steady {
            latencies: sorted(latencies),
            answer: sorted(answer),
            first: sorted(first),
            last: sorted(last),
        }
    }
}

fn receiver_callback(clock: Arc<Mutex<Clock>>, sample: Arc<OnceLock<Vec<u8>>>) -> OnReceive {
    Arc::new(move |r: &Received| {
        if r.path == "/ceiling" {
            return;
        }
        let now = Instant::now();
        if let Ok(mut c) = clock.lock() {
            if let Some(msg) = r
                .header("webhook-id")
                .filter(|m| m.starts_with("msg_probe"))
            {
                c.probes.insert(msg.to_owned(), now);
            } else if let Some(id) = alert_id(&r.body) {
                let _ = sample.set(r.body.clone());
                c.arrived.push((id, now));
            }
        }
    })
}

fn ratio(rate: f64, ceiling: (f64, f64)) -> String {
    format!(
        "{:.1}% of the ceiling over {ENGINE_CONNECTIONS} connections ({:.0}/s), {:.1}% of it over 16 ({:.0}/s)",
        100.0 * rate / ceiling.0,
        ceiling.0,
        100.0 * rate / ceiling.1,
        ceiling.1
    )
}

fn summary(name: &str, sorted: &[f64]) -> String {
    format!(
        "{name}: n={} p50={:.1}ms p99={:.1}ms max={:.1}ms",
        sorted.len(),
        percentile(sorted, 0.5),
        percentile(sorted, 0.99),
        sorted.last().copied().unwrap_or(f64::NAN)
    )
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
        support::postgres_url("alertwire_bench").await?
    } else {
        format!("sqlite://{}", dir.join("bench.db").display())
    };
    let clock = Arc::new(Mutex::new(Clock::default()));
    let sample = Arc::new(OnceLock::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let behaviour = Behaviour {
        record: false,
        ..Behaviour::default()
    };
    let on_receive = receiver_callback(clock.clone(), sample.clone());
    let rx = Receiver::start(
        listener,
        tls.server_config.clone(),
        behaviour,
        Some(on_receive),
    )?;
    let key = process::api_key(&dir, &database_url, &ca).await?;
    let server = Server::start(&dir, &database_url, &ca).await?;
    let bench = Bench {
        postgres,
        dir,
        database_url,
        ca,
        ca_pem: tls.ca_pem.clone(),
        rx,
        clock,
        sample,
        key,
    };
    let result = run(&bench, &server).await;
    let _ = std::fs::remove_dir_all(&bench.dir);
    result
}

async fn run(bench: &Bench, server: &Server) -> Result<(), Error> {
    let api = bench.api(server);
    let mut destination_ids = Vec::new();
    for i in 0..DESTINATIONS {
        let url = format!("https://localhost:{}/d{i}", bench.rx.addr.port());
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
        "Alertwire delivery benchmark on {}: {DESTINATIONS} destinations, ~1 KB bodies, HTTPS receiver on loopback; the raw ceiling is measured just before each throughput",
        if bench.postgres { "PostgreSQL" } else { "SQLite" }
    );
    // One event first: a body for the ceiling to post.
    api.post_events(vec![event(0)], &bench.clock).await?;
    wait_for(&bench.rx, DESTINATIONS as u32, Duration::from_secs(30)).await;

    // 1. Throughput, events 100 a request (2 posters), then one a request over 16 connections.
    let ceiling = bench.ceiling().await?;
    let cpu = server.usage().cpu;
    let (rate, ingest) = bench
        .throughput(std::slice::from_ref(&api), BATCH, 2)
        .await?;
    let per = (server.usage().cpu - cpu) * 1000.0 / (THROUGHPUT_EVENTS * DESTINATIONS) as f64;
    println!("throughput, events 100 a request: {rate:.0} deliveries/s = {}; server CPU {per:.3} ms a delivery; ingest {ingest:.0} events/s", ratio(rate, ceiling));
    let ceiling = bench.ceiling().await?;
    let cpu = server.usage().cpu;
    let (rate, ingest) = bench
        .throughput(std::slice::from_ref(&api), 1, SINGLE_CONNECTIONS)
        .await?;
    let per = (server.usage().cpu - cpu) * 1000.0 / (THROUGHPUT_EVENTS * DESTINATIONS) as f64;
    println!("throughput, events one a request over {SINGLE_CONNECTIONS} connections: {rate:.0} deliveries/s = {}; server CPU {per:.3} ms a delivery", ratio(rate, ceiling));
    println!("single-event ingest over {SINGLE_CONNECTIONS} connections (during that run): {ingest:.0} events/s accepted");
    let alone = ingest_alone(&api, &destination_ids).await?;
    println!("single-event ingest alone over {SINGLE_CONNECTIONS} connections (destinations disabled: events and alerts stored, nothing to deliver): {alone:.0} events/s accepted");
    if bench.postgres {
        processes(bench, server).await?;
    }

    // 2. Latency at a steady 1,000 deliveries/s.
    let steady = bench.steady(&api, STEADY_SECONDS, 1_000_000).await?;
    println!(
        "{}",
        summary(
            "latency at 1,000 deliveries/s, ingest-to-receipt",
            &steady.latencies
        )
    );
    println!(
        "  of which, per event: {}; {}; {}",
        summary("POST to its 202", &steady.answer),
        summary("to the first of its 10 deliveries", &steady.first),
        summary("to the last", &steady.last)
    );

    // 3. Retry punctuality with 100,000 retries scheduled an hour out.
    println!(
        "{}",
        queue::retry_punctuality(&bench.database_url, &bench.clock).await?
    );

    // 4. First attempts while a dead destination's 100,000 retries are due.
    dead_destination(bench, &api).await?;

    let usage = server.usage();
    println!(
        "server: {:.1} CPU seconds in all, peak RSS {:.1} MiB",
        usage.cpu, usage.peak_mib
    );
    Ok(())
}

/// Single-event ingest with the engine idle: every destination disabled, so
/// events raise their alerts and nothing is queued. 3,000 POSTs over 16
/// connections; events accepted/s, first POST to last answer.
async fn ingest_alone(api: &Arc<Api>, destinations: &[i64]) -> Result<f64, Error> {
    let toggle = |enabled: bool| async move {
        for id in destinations {
            let url = format!("{}/api/v1/destinations/{id}", api.base);
            let answer = api
                .client
                .patch(url)
                .bearer_auth(&api.key)
                .json(&json!({ "enabled": enabled }))
                .send()
                .await?;
            if !answer.status().is_success() {
                return Err(format!("PATCH destination {id}: {}", answer.status()).into());
            }
        }
        Ok::<_, Error>(())
    };
    toggle(false).await?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..SINGLE_CONNECTIONS {
        let (api, next) = (api.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= THROUGHPUT_EVENTS {
                    break;
                }
                api.post("/events", event(2_000_000 + i)).await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = THROUGHPUT_EVENTS as f64 / started.elapsed().as_secs_f64();
    toggle(true).await?;
    Ok(rate)
}

/// PostgreSQL: the batch throughput with 1, 2 and 4 server processes on the one database.
async fn processes(bench: &Bench, first: &Server) -> Result<(), Error> {
    let mut line = String::from(
        "throughput with server processes on one database (4 posters, 100 events a request):",
    );
    for n in [1, 2, 4] {
        let mut extra = Vec::new();
        for _ in 1..n {
            extra.push(Server::start(&bench.dir, &bench.database_url, &bench.ca).await?);
        }
        let apis: Vec<Arc<Api>> = std::iter::once(first)
            .chain(extra.iter())
            .map(|s| bench.api(s))
            .collect();
        let ceiling = bench.ceiling().await?;
        let (rate, _) = bench.throughput(&apis, BATCH, 4).await?;
        line.push_str(&format!(
            " {n}: {rate:.0}/s ({:.1}% of {:.0}/s);",
            100.0 * rate / ceiling.0,
            ceiling.0
        ));
    }
    println!("{}", line.trim_end_matches(';'));
    Ok(())
}

/// A destination that refuses connections with 100,000 retries due, and a
/// healthy load beside it: one event (10 deliveries) every 10 ms for 5 s.
async fn dead_destination(bench: &Bench, api: &Arc<Api>) -> Result<(), Error> {
    let port = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
        closed.local_addr()?.port()
    };
    let created = api
        .post(
            "/destinations",
            json!({"name": "Dead", "url": format!("https://localhost:{port}/dead")}),
        )
        .await?;
    let dead = created["destination"]["id"].as_i64().ok_or("no id")?;
    let written = Instant::now();
    queue::dead_retries(&bench.database_url, dead, DEAD_RETRIES).await?;
    let insert = written.elapsed().as_secs_f64();
    let steady = bench.steady(api, DEAD_SECONDS, 2_000_000).await?;
    println!(
        "{} (the {DEAD_RETRIES} retries took {insert:.1}s to write)",
        summary(
            "first attempts to healthy destinations while 100,000 retries of a dead one are due",
            &steady.latencies
        )
    );
    Ok(())
}
