//! Load shedding (RELIABILITY.md, section 5): the pages under the full
//! delivery load of `bench_deliveries`, and what `--max-queued` refuses.
//!
//! Starts the built `server` binary (SQLite, or `--postgres`) with
//! `ALERTWIRE_MAX_QUEUED` = `--max-queued N` (20,000), a fast HTTPS receiver,
//! 10 destinations and one rule sending to all of them. Then:
//! 1. the pages' p99 idle (a signed-in admin reading the Rules, Destinations,
//!    Deliveries tabs and a destination's page);
//! 2. four posters send batches of 100 events (1,000 deliveries) as fast as
//!    the API takes them, honouring `Retry-After` on 429, for `--seconds S`
//!    (30); meanwhile the same pages are read and a fresh client signs in
//!    every second: p99 against the 50 ms ceiling, and every sign-in's result;
//! 3. the bound: the most deliveries seen queued, how many requests were
//!    refused, and, once the queue has drained, how many accepted deliveries
//!    never arrived (must be 0).
//!
//! Run: `cargo build --release -p server --bin server --example bench_shedding &&
//! target/release/examples/bench_shedding [--postgres] [--max-queued N] [--seconds S]`.
mod support;
use support::{percentile, postgres_url, server_command, ChildServer};

use serde_json::{json, Value};
use server::receiver::tls::make_local_tls;
use server::receiver::{Behaviour, OnReceive, Received, Receiver};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

const DESTINATIONS: usize = 10;
const BATCH: usize = 100;
const POSTERS: usize = 4;
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "benchmark password";
const CEILING_MS: f64 = 50.0;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

fn event(i: u64) -> Value {
    json!({
        "type": "schema_change",
        "asset": {"qualified_name": format!("production.public.table_{i}"), "asset_type": "table"},
        "change_type": "column_removed",
        "details": {"column_name": "shipping_status", "note": "x".repeat(520), "sequence": i}
    })
}

/// What the posters did.
#[derive(Default)]
struct Posted {
    accepted_deliveries: AtomicU64,
    refused_requests: AtomicU64,
}

async fn post_events(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    first: u64,
) -> Result<(reqwest::StatusCode, u64, Value), Error> {
    let events: Vec<Value> = (first..first + BATCH as u64).map(event).collect();
    let response = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(key)
        .json(&events)
        .send()
        .await?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(1);
    Ok((status, retry_after, response.json().await?))
}

/// Posts batches until `stop`; counts accepted deliveries and refusals.
async fn poster(
    n: u64,
    base: String,
    key: String,
    posted: Arc<Posted>,
    stop: Arc<AtomicBool>,
) -> Result<(), Error> {
    let client = reqwest::Client::new();
    let mut next = n * 1_000_000_000;
    while !stop.load(Ordering::Relaxed) {
        let (status, retry_after, body) = post_events(&client, &base, &key, next).await?;
        next += BATCH as u64;
        match status.as_u16() {
            202 => {
                let alerts = body["alerts"].as_array().map_or(0, Vec::len) as u64;
                posted
                    .accepted_deliveries
                    .fetch_add(alerts * DESTINATIONS as u64, Ordering::Relaxed);
            }
            429 if body["error"]["code"] == "queue_full" => {
                posted.refused_requests.fetch_add(1, Ordering::Relaxed);
                // The bench honours Retry-After loosely, so the bound is hit again and again.
                tokio::time::sleep(Duration::from_millis(200 * retry_after.min(5))).await;
            }
            other => return Err(format!("ingest answered {other}: {body}").into()),
        }
    }
    Ok(())
}

async fn signed_in(base: &str) -> Result<(reqwest::Client, Duration), Error> {
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let started = Instant::now();
    client
        .post(format!("{base}/fn/login"))
        .header("origin", base)
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await?
        .error_for_status()?;
    Ok((client, started.elapsed()))
}

/// Reads the pages until `stop` (or `rounds` times); their times in ms, sorted.
async fn read_pages(
    client: &reqwest::Client,
    base: &str,
    pages: &[String],
    stop: Option<&AtomicBool>,
    rounds: usize,
) -> Result<Vec<f64>, Error> {
    let mut times = Vec::new();
    for _ in 0..rounds {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            break;
        }
        for page in pages {
            if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                break;
            }
            let started = Instant::now();
            let response = client
                .get(format!("{base}{page}"))
                .header("accept", "text/html")
                .send()
                .await?;
            if !response.status().is_success() {
                return Err(format!("{page}: {}", response.status()).into());
            }
            response.bytes().await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let postgres = args.iter().any(|a| a == "--postgres");
    let max_queued = arg(&args, "--max-queued", 20_000);
    let seconds = arg(&args, "--seconds", 30);
    let dir = std::env::temp_dir().join(format!("alertwire_bench_shedding_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let tls = make_local_tls()?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem)?;
    let database_url = if postgres {
        postgres_url("alertwire_bench_shedding").await?
    } else {
        format!("sqlite://{}", dir.join("bench.db").display())
    };
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let on_receive: OnReceive = {
        let seen = seen.clone();
        Arc::new(move |r: &Received| {
            if let (Some(id), Ok(mut s)) = (r.header("webhook-id"), seen.lock()) {
                s.insert(id.to_owned());
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let rx = Receiver::start(
        listener,
        tls.server_config.clone(),
        Behaviour {
            record: false,
            ..Behaviour::default()
        },
        Some(on_receive),
    )?;
    let (ca_path, max) = (ca.display().to_string(), max_queued.to_string());
    let env = [
        ("ALERTWIRE_EXTRA_CA_CERTS", ca_path.as_str()),
        ("ALERTWIRE_ALLOWED_TARGETS", "127.0.0.0/8"),
        ("ALERTWIRE_MAX_QUEUED", max.as_str()),
        ("ALERTWIRE_PASSWORD", PASSWORD),
    ];
    let (server, key) = ChildServer::start(&database_url, &dir, &env).await?;
    let base = server.base.clone();
    let made = server_command(&database_url, &dir, &env)
        .args(["create-user", "--email", EMAIL, "--role", "admin"])
        .status()
        .await?;
    if !made.success() {
        return Err("create-user failed".into());
    }
    let api = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..DESTINATIONS {
        let url = format!("https://localhost:{}/d{i}", rx.addr.port());
        let created: Value = api
            .post(format!("{base}/api/v1/destinations"))
            .bearer_auth(&key)
            .json(&json!({"name": format!("Bench {i}"), "url": url}))
            .send()
            .await?
            .json()
            .await?;
        ids.push(created["destination"]["id"].as_i64().ok_or("no id")?);
    }
    api.post(format!("{base}/api/v1/rules"))
        .bearer_auth(&key)
        .json(&json!({"name": "Everything", "alert_type": "schema", "destination_ids": ids}))
        .send()
        .await?
        .error_for_status()?;
    let pages: Vec<String> = [
        "/alerts/rules".to_owned(),
        "/alerts/destinations".to_owned(),
        "/alerts/deliveries".to_owned(),
        format!("/alerts/destinations/{}", ids[0]),
    ]
    .into();
    println!(
        "Alertwire load-shedding benchmark on {}: max-queued {max_queued}, {DESTINATIONS} destinations, \
         {POSTERS} posters of {BATCH}-event batches for {seconds}s",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );

    let (reader, _) = signed_in(&base).await?;
    let idle = read_pages(&reader, &base, &pages, None, 25).await?;
    println!(
        "pages idle: p50={:.1}ms p99={:.1}ms (n={})",
        percentile(&idle, 0.5),
        percentile(&idle, 0.99),
        idle.len()
    );

    let posted = Arc::new(Posted::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut posters = Vec::new();
    for n in 0..POSTERS as u64 {
        let task = poster(
            n + 1,
            base.clone(),
            key.clone(),
            posted.clone(),
            stop.clone(),
        );
        posters.push(tokio::spawn(task));
    }
    let queued_peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, peak, url) = (stop.clone(), queued_peak.clone(), database_url.clone());
        tokio::spawn(async move { sample_queue(&url, postgres, &stop, &peak).await })
    };
    let signer = {
        let (stop, base) = (stop.clone(), base.clone());
        tokio::spawn(async move {
            let mut results = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                results.push(
                    signed_in(&base)
                        .await
                        .map(|(_, t)| t.as_secs_f64() * 1000.0),
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            results
        })
    };
    let started = Instant::now();
    let delivered_before = seen.lock().map_err(|_| "poisoned")?.len();
    let timer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let loaded = read_pages(&reader, &base, &pages, Some(&stop), usize::MAX).await?;
    let _ = timer.await;
    let delivered_during = seen.lock().map_err(|_| "poisoned")?.len() - delivered_before;
    for p in posters {
        p.await??;
    }
    let _ = sampler.await;
    let sign_ins = signer.await?;
    let elapsed = started.elapsed().as_secs_f64();
    report_load(&loaded, &sign_ins, delivered_during as f64 / elapsed);

    let accepted = posted.accepted_deliveries.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(600);
    while (seen.lock().map_err(|_| "poisoned")?.len() as u64) < accepted
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let arrived = seen.lock().map_err(|_| "poisoned")?.len() as u64;
    println!(
        "shedding: bound {max_queued}, most seen queued {}, {} requests refused with 429 (queue_full), \
         {accepted} deliveries accepted, {arrived} arrived, dropped {}",
        queued_peak.load(Ordering::Relaxed),
        posted.refused_requests.load(Ordering::Relaxed),
        accepted.saturating_sub(arrived)
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn report_load(loaded: &[f64], sign_ins: &[Result<f64, Error>], rate: f64) {
    let p99 = percentile(loaded, 0.99);
    println!(
        "pages under load ({rate:.0} deliveries/s): p50={:.1}ms p99={p99:.1}ms (n={}) = {:.2}x the {CEILING_MS}ms ceiling",
        percentile(loaded, 0.5),
        loaded.len(),
        p99 / CEILING_MS
    );
    let ok: Vec<f64> = sign_ins
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    let longest = ok.iter().copied().fold(0.0, f64::max);
    println!(
        "sign-in under load: {} of {} succeeded, longest {longest:.0}ms",
        ok.len(),
        sign_ins.len()
    );
    for err in sign_ins.iter().filter_map(|r| r.as_ref().err()) {
        println!("  sign-in failed: {err}");
    }
}

/// The most pending deliveries seen, read every 250 ms until `stop`.
async fn sample_queue(url: &str, postgres: bool, stop: &AtomicBool, peak: &AtomicU64) {
    let sql = "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'";
    let (pg, lite) = if postgres {
        (sqlx::PgPool::connect(url).await.ok(), None)
    } else {
        (None, sqlx::SqlitePool::connect(url).await.ok())
    };
    while !stop.load(Ordering::Relaxed) {
        let n: Option<i64> = match (&pg, &lite) {
            (Some(pool), _) => sqlx::query_scalar(sql).fetch_one(pool).await.ok(),
            (_, Some(pool)) => sqlx::query_scalar(sql).fetch_one(pool).await.ok(),
            _ => None,
        };
        if let Some(n) = n.and_then(|n| u64::try_from(n).ok()) {
            peak.fetch_max(n, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
