//! Benchmark for live status (issue 10 point 5, "a live update reaches an
//! open page within 1 s of the attempt").
//!
//! Starts the application in-process on SQLite (or, with `--postgres`, on a
//! fresh PostgreSQL database), a fast HTTPS receiver, 10 destinations and a
//! rule, seeds 1,000,000 old deliveries, signs in, opens live streams over
//! HTTP, and prints:
//! - the poller's query (`store::live::changed_after`), idle and under load;
//! - attempt-to-stream latency: from a delivery's recorded attempt (its
//!   `updated_at`) to the `deliveries` event that says so arriving at a
//!   stream, at a trickle and at a steady 1,000 deliveries/s with 100
//!   streams open;
//! - what the index `deliveries_by_update` costs the engine: deliveries/s
//!   with and without it.
//!
//! Run: `cargo run --release -p server --example bench_live [-- --postgres]`
mod support;
use support::{percentile, postgres_url};

use serde_json::{json, Value};
use server::cli::Settings;
use server::configuration::Config;
use server::receiver::tls::make_local_tls;
use server::receiver::{Behaviour, Receiver};
use server::services::live::MAX_STREAMS;
use server::startup::Application;
use server::store::{live as rows, Db};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HISTORY: i64 = 1_000_000;
const DESTINATIONS: usize = 10;
const PASSWORD: &str = "benchmark password";

type Error = Box<dyn std::error::Error + Send + Sync>;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn report(name: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    println!(
        "{name}: n={} p50={:.1}ms p90={:.1}ms p99={:.1}ms max={:.1}ms",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or(f64::NAN),
    );
}

async fn exec(db: &Db, sql: &str) -> Result<(), Error> {
    match db {
        Db::Sqlite(pool, _) => sqlx::query(sql).execute(pool).await.map(|_| ())?,
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ())?,
    }
    Ok(())
}

async fn count_delivered(db: &Db) -> Result<i64, Error> {
    let sql = "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'";
    Ok(match db {
        Db::Sqlite(pool, _) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
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

    async fn events(&self, from: usize, n: usize) -> Result<(), Error> {
        let events: Vec<Value> = (from..from + n)
            .map(|i| json!({"type": "schema_change",
                "asset": {"qualified_name": format!("production.public.t{i}"), "asset_type": "table"}}))
            .collect();
        self.post("/events", Value::Array(events)).await.map(drop)
    }
}

/// Reads one stream; for each delivery it reports delivered for the first
/// time, the time from its recorded attempt to now.
async fn follow(
    mut response: reqwest::Response,
    latencies: Option<Arc<Mutex<Vec<f64>>>>,
) -> Result<(), Error> {
    let mut buffer = String::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(chunk) = response.chunk().await? {
        buffer.push_str(std::str::from_utf8(&chunk)?);
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(latencies) = &latencies else {
                continue;
            };
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            if !block.contains("event: deliveries") {
                continue;
            }
            let arrived = now_ms();
            let body: Value = serde_json::from_str(data)?;
            for d in body["deliveries"].as_array().into_iter().flatten() {
                if d["status"] != "delivered" || !seen.insert(d["id"].as_i64().unwrap_or(0)) {
                    continue;
                }
                let at = time::OffsetDateTime::parse(
                    d["updated_at"].as_str().unwrap_or(""),
                    &time::format_description::well_known::Rfc3339,
                )?;
                let at = (at.unix_timestamp_nanos() / 1_000_000) as i64;
                if let Ok(mut l) = latencies.lock() {
                    l.push((arrived - at) as f64);
                }
            }
        }
    }
    Ok(())
}

async fn poll_query(db: &Db) -> Result<f64, Error> {
    let started = Instant::now();
    rows::changed_after(db, (now_ms() - 3_000, i64::MIN), 1_000).await?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

/// Deliveries/s for `events` x 10 deliveries posted at once, until all are delivered.
async fn throughput(api: &Api, db: &Db, from: usize, events: usize) -> Result<f64, Error> {
    let before = count_delivered(db).await?;
    let started = Instant::now();
    for chunk in (0..events).step_by(100) {
        api.events(from + chunk, 100.min(events - chunk)).await?;
    }
    let want = before + (events * DESTINATIONS) as i64;
    while count_delivered(db).await? < want {
        if started.elapsed() > Duration::from_secs(600) {
            return Err("deliveries did not finish".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((events * DESTINATIONS) as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let postgres = std::env::args().any(|a| a == "--postgres");
    let dir = std::env::temp_dir().join(format!("alertwire_bench_live_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let tls = make_local_tls()?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem)?;
    let database_url = if postgres {
        postgres_url("alertwire_bench_live").await?
    } else {
        format!("sqlite://{}", dir.join("bench.db").display())
    };
    let settings = Settings {
        database_url,
        listen: "127.0.0.1:0".into(),
        public_url: None,
        secret_key_file: dir.join("secret.key").display().to_string(),
        retry_schedule: "0s,1m,5m,15m,1h".into(),
        request_timeout: "30s".into(),
        allowed_targets: "127.0.0.0/8".into(),
        extra_ca_certs: Some(ca.display().to_string()),
        delivery_lease: "60s".into(),
        max_in_flight_per_destination: "8".into(),
        metrics_token: None,
        retention: "30d".into(),
        bulk_batch: "200".into(),
        bulk_pause: "200ms".into(),
        max_queued: "1000000".into(),
        log_format: "text".into(),
        auto_disable_after: "5d".into(),
    };
    let app = Application::build(Config::from_settings(&settings)?).await?;
    let base = format!("http://{}", app.local_addr());
    let services = app.services().clone();
    let db = services.db().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    println!("engine: {}", if postgres { "PostgreSQL" } else { "SQLite" });

    services
        .create_user(
            &server::services::Actor::command_line(),
            app::backend::NewUserInput {
                email: "bench@example.com".into(),
                password: PASSWORD.into(),
                password_confirm: PASSWORD.into(),
                role: "viewer".into(),
            },
        )
        .await?;
    let browser = reqwest::Client::builder().cookie_store(true).build()?;
    let login = browser
        .post(format!("{base}/fn/login"))
        .header("origin", &base)
        .form(&[("email", "bench@example.com"), ("password", PASSWORD)])
        .send()
        .await?;
    if !login.status().is_success() {
        return Err(format!("sign-in: {}", login.status()).into());
    }
    let key = services
        .create_api_key("bench", "admin", &server::services::Actor::command_line())
        .await?
        .secret;
    let api = Api {
        client: reqwest::Client::new(),
        base: base.clone(),
        key,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let rx = Receiver::start(
        listener,
        tls.server_config.clone(),
        Behaviour::default(),
        None,
    )?;
    let mut ids = Vec::new();
    for i in 0..DESTINATIONS {
        let url = format!("https://localhost:{}/d{i}", rx.addr.port());
        let created = api
            .post(
                "/destinations",
                json!({"name": format!("D{i}"), "url": url}),
            )
            .await?;
        ids.push(created["destination"]["id"].as_i64().unwrap_or(0));
    }
    api.post(
        "/rules",
        json!({"name": "All", "alert_type": "schema", "destination_ids": ids}),
    )
    .await?;

    // What the index costs the engine's writes: deliveries/s with and without it.
    let mut next = 0;
    let mut with = Vec::new();
    let mut without = Vec::new();
    for round in 0..4 {
        let indexed = round % 2 == 0;
        if indexed {
            exec(
                &db,
                "CREATE INDEX IF NOT EXISTS deliveries_by_update ON deliveries (updated_at, id)",
            )
            .await?;
        } else {
            exec(&db, "DROP INDEX IF EXISTS deliveries_by_update").await?;
        }
        let rate = throughput(&api, &db, next, 1_000).await?;
        next += 1_000;
        println!(
            "engine throughput {} the index: {rate:.0} deliveries/s (10,000 deliveries)",
            if indexed { "with" } else { "without" }
        );
        if indexed {
            with.push(rate)
        } else {
            without.push(rate)
        }
    }
    exec(
        &db,
        "CREATE INDEX IF NOT EXISTS deliveries_by_update ON deliveries (updated_at, id)",
    )
    .await?;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "engine throughput: {:.0}/s with the index, {:.0}/s without ({:+.1}%)",
        mean(&with),
        mean(&without),
        (mean(&with) / mean(&without) - 1.0) * 100.0
    );

    // 1,000,000 old deliveries of one alert, for the index and the table to be large.
    let seeded = Instant::now();
    let (alert, dest) = {
        let sql = "SELECT alert_id, destination_id FROM deliveries ORDER BY id LIMIT 1";
        match &db {
            Db::Sqlite(pool, _) => sqlx::query_as::<_, (i64, i64)>(sql).fetch_one(pool).await?,
            Db::Postgres(pool) => sqlx::query_as::<_, (i64, i64)>(sql).fetch_one(pool).await?,
        }
    };
    let old = now_ms() - 86_400_000;
    let seed = if postgres {
        format!(
            "INSERT INTO deliveries (alert_id, destination_id, msg_id, status, attempts, last_status, created_at, updated_at) \
             SELECT {alert}, {dest}, 'msg_seed_' || i, 'delivered', 1, 200, {old} + i / 20, {old} + i / 20 \
             FROM generate_series(1, {HISTORY}) AS i"
        )
    } else {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {HISTORY}) \
             INSERT INTO deliveries (alert_id, destination_id, msg_id, status, attempts, last_status, created_at, updated_at) \
             SELECT {alert}, {dest}, 'msg_seed_' || i, 'delivered', 1, 200, {old} + i / 20, {old} + i / 20 FROM n"
        )
    };
    exec(&db, &seed).await?;
    exec(&db, "ANALYZE").await?;
    println!(
        "seeded {HISTORY} old deliveries in {:.1}s",
        seeded.elapsed().as_secs_f64()
    );

    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(poll_query(&db).await?);
    }
    report("poll query, idle, 1M+ deliveries", idle);

    // A trickle: one event (10 deliveries) every 250 ms, one stream open.
    let trickle = Arc::new(Mutex::new(Vec::new()));
    let stream = browser
        .get(format!("{base}/live/deliveries"))
        .send()
        .await?;
    let reader = tokio::spawn(follow(stream, Some(trickle.clone())));
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..40 {
        api.events(next, 1).await?;
        next += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    reader.abort();
    let samples = trickle.lock().map(|l| l.clone()).unwrap_or_default();
    report("attempt to stream, 40 deliveries/s, 1 stream", samples);

    // Steady 1,000 deliveries/s for 10 s with MAX_STREAMS streams open.
    let steady = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    for i in 0..MAX_STREAMS {
        let stream = browser
            .get(format!("{base}/live/deliveries"))
            .send()
            .await?;
        let sink = (i == 0).then(|| steady.clone());
        readers.push(tokio::spawn(follow(stream, sink)));
    }
    println!("open streams: {}", services.live().open_streams());
    let refused = browser
        .get(format!("{base}/live/deliveries"))
        .send()
        .await?
        .status();
    println!("one more stream: {refused}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut queries = Vec::new();
    let mut sent = 0;
    while started.elapsed() < Duration::from_secs(10) {
        tick.tick().await;
        api.events(next, 1).await?;
        next += 1;
        sent += 1;
        if sent % 10 == 0 {
            queries.push(poll_query(&db).await?);
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for reader in &readers {
        reader.abort();
    }
    let samples = steady.lock().map(|l| l.clone()).unwrap_or_default();
    println!(
        "steady: {} deliveries posted in {:.1}s",
        sent * DESTINATIONS,
        started.elapsed().as_secs_f64()
    );
    report(
        "attempt to stream, ~1,000 deliveries/s, 100 streams",
        samples,
    );
    report("poll query, under that load", queries);

    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
