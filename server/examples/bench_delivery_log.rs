//! Benchmark for the Deliveries tab over a large history (issue 10, "Speed").
//!
//! Seeds 1,000,000 deliveries and 3,000,000 attempts (one alert and event
//! each, 20 destinations, 10 rules, 4 event types, 10,000 assets, 30 days),
//! then times each filter combination: the page as a signed-in browser gets
//! it (`GET /alerts/deliveries?...`, server-rendered) and the API's
//! `GET /api/v1/deliveries?...`, beside `GET /healthz` as the floor of a
//! request in the same run. Then a destination's page with its health charts
//! (24 h and 7 d), the Destinations list with its badges, and
//! `GET /api/v1/destinations/{id}/health`; the seeding builds the health
//! aggregates in bulk from the seeded attempts (`store::health::rebuild_sql`).
//!
//! Run: `cargo run --release -p server --example bench_delivery_log`
//! (`-- --postgres` for PostgreSQL at 127.0.0.1:5432; `-- --deliveries N` for
//! another size; `-- --reuse` keeps the seeded database for the next run with
//! `--reuse`, which skips the seeding).
mod support;
use support::postgres_url;

use server::store::Db;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

const DESTINATIONS: i64 = 20;
const RULES: i64 = 10;
const DAY_MS: i64 = 86_400_000;
const RUNS: usize = 40;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The history, written by the database itself (a numbers table joined
/// into each insert), so seeding takes seconds, not hours.
fn seed_sql(postgres: bool, n: i64, first_destination: i64, now: i64) -> Vec<String> {
    let numbers = if postgres {
        format!("SELECT x FROM generate_series(CAST(1 AS BIGINT), {n}) AS x")
    } else {
        format!("WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {n}) SELECT x FROM s")
    };
    let start = now - 30 * DAY_MS;
    let step = (30 * DAY_MS) / n;
    let concat = |parts: &[&str]| parts.join(" || ");
    let mut sql = vec![format!(
        "INSERT INTO rules (id, name, alert_type, asset_pattern, enabled, created_at, updated_at) \
         {} ",
        (1..=RULES)
            .map(|r| format!("SELECT {r}, 'Rule {r}', 'schema', NULL, TRUE, {start}, {start}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    )];
    let name = concat(&[
        "'db.schema_'",
        "CAST(x % 100 AS TEXT)",
        "'.table_'",
        "CAST(x % 10000 AS TEXT)",
    ]);
    let kind = "CASE x % 4 WHEN 0 THEN 'schema_change' WHEN 1 THEN 'freshness_violation' \
         WHEN 2 THEN 'discovery_complete' ELSE 'connection_failed' END";
    sql.push(format!(
        "INSERT INTO events (id, type, qualified_name, asset_type, change_type, details, occurred_at, dedup_key, received_at) \
         SELECT x, {kind}, {name}, 'table', NULL, '{{}}', \
         {start} + x * {step}, NULL, {start} + x * {step} FROM ({numbers}) n"
    ));
    let alert_id = concat(&["'alert_'", "CAST(x AS TEXT)"]);
    sql.push(format!(
        "INSERT INTO alerts (id, public_id, event_id, rule_id, rule_name, alert_type, status, payload, created_at) \
         SELECT x, {alert_id}, x, x % {RULES} + 1, 'Rule ' || CAST(x % {RULES} + 1 AS TEXT), 'schema', 'triggered', \
         '{{\"event_type\":\"alert.triggered\"}}', {start} + x * {step} FROM ({numbers}) n"
    ));
    let msg_id = concat(&["'msg_'", "CAST(x AS TEXT)"]);
    // One in ten failed, one in fifty waiting for a retry tomorrow, the rest delivered.
    sql.push(format!(
        "INSERT INTO deliveries (id, alert_id, destination_id, msg_id, status, attempts, failures, retry, \
         next_attempt_at, last_status, last_error, created_at, updated_at, rule_id, event_type, asset_name) \
         SELECT x, x, x % {DESTINATIONS} + {first_destination}, {msg_id}, \
         CASE WHEN x % 10 = 0 THEN 'failed' WHEN x % 50 = 1 THEN 'pending' ELSE 'delivered' END, 3, \
         CASE WHEN x % 50 = 1 THEN 2 ELSE 0 END, x % 50 = 1, \
         CASE WHEN x % 50 = 1 THEN {now} + {DAY_MS} ELSE NULL END, \
         CASE WHEN x % 10 = 0 THEN 500 ELSE 200 END, NULL, {start} + x * {step}, {start} + x * {step}, \
         x % {RULES} + 1, {kind}, {name} FROM ({numbers}) n"
    ));
    // Mixed outcomes and response times, so the health aggregates have something to sum:
    // the failed deliveries' attempts answered 500, one in 97 timed out, the rest 200.
    for number in 1..=3 {
        sql.push(format!(
            "INSERT INTO attempts (delivery_id, number, started_at, duration_ms, request_headers, response_status, \
             response_headers, response_body, error_kind, error_message, next_attempt_at) \
             SELECT x, {number}, {start} + x * {step}, CASE WHEN x % 97 = 5 THEN 30000 ELSE 5 + (x * 7 + {number} * 13) % 900 END, \
             '[]', CASE WHEN x % 97 = 5 THEN NULL WHEN x % 10 = 0 THEN 500 ELSE 200 END, '[]', 'ok', \
             CASE WHEN x % 97 = 5 THEN 'timeout' WHEN x % 10 = 0 THEN 'http_status' ELSE NULL END, \
             CASE WHEN x % 97 = 5 THEN 'timed out' WHEN x % 10 = 0 THEN 'The endpoint answered 500' ELSE NULL END, \
             NULL FROM ({numbers}) n"
        ));
    }
    // The health aggregates of that history, built in bulk from the attempts
    // (`store::health::rebuild_sql`, the statement migration 0013 runs).
    sql.push(server::store::health::rebuild_sql());
    if postgres {
        for table in ["rules", "events", "alerts", "deliveries", "attempts"] {
            sql.push(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ));
        }
        // As autovacuum soon would after a million inserts: statistics, and
        // the visibility map that index-only scans need (without it the rule
        // counts and the failed-by-destination walks take 25 to 130 ms, not
        // 1 to 8). SQLite is left without statistics, as the app leaves it.
        sql.push("VACUUM ANALYZE".into());
    }
    sql
}

/// The destinations the history is spread over; returns the first one's id.
async fn create_destinations(services: &server::services::Services) -> Result<i64, Error> {
    let mut first = 0;
    for i in 0..DESTINATIONS {
        let form = app::model::DestinationForm {
            name: format!("Destination {i:02}"),
            // Never called: every seeded delivery is finished or due tomorrow.
            url: format!("https://93.184.216.34/alerts/{i}"),
            ..Default::default()
        };
        let created = services
            .create_destination(&server::services::Actor::command_line(), &form)
            .await?;
        if i == 0 {
            first = created.destination.id;
        }
    }
    Ok(first)
}

/// A database seeded before: the time the seeding took as "now" (the newest
/// delivery's) and the first destination's id, so the filters ask the same.
async fn seeded_marks(db: &Db) -> Result<(i64, i64), Error> {
    let sql = "SELECT (SELECT MAX(created_at) FROM deliveries), (SELECT MIN(id) FROM destinations)";
    let (newest, first): (Option<i64>, Option<i64>) = match db {
        Db::Sqlite(pool, _) => sqlx::query_as(sql).fetch_one(pool).await?,
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await?,
    };
    match (newest, first) {
        (Some(newest), Some(first)) => Ok((newest, first)),
        _ => {
            Err("the database to reuse has no deliveries: remove its folder and seed again".into())
        }
    }
}

async fn seed(db: &Db, sql: &[String]) -> Result<(), Error> {
    for statement in sql {
        match db {
            Db::Sqlite(pool, _) => {
                sqlx::query(statement).execute(pool).await?;
            }
            Db::Postgres(pool) => {
                sqlx::query(statement).execute(pool).await?;
            }
        }
    }
    Ok(())
}

async fn time_get(
    client: &reqwest::Client,
    url: &str,
    expect: &str,
) -> Result<Vec<Duration>, Error> {
    let mut samples = Vec::with_capacity(RUNS);
    for run in 0..RUNS + 3 {
        let started = Instant::now();
        let response = client.get(url).header("accept", "text/html").send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() || !body.contains(expect) {
            return Err(format!("{url}: {status}: {}", &body[..body.len().min(400)]).into());
        }
        if run >= 3 {
            samples.push(started.elapsed());
        }
    }
    samples.sort();
    Ok(samples)
}

/// A destination's page (health charts, recent deliveries, test sends) for
/// both windows, the health API, and the Destinations list with its badges.
/// Returns the worst p99 in ms.
async fn time_health(
    client: &reqwest::Client,
    api: &reqwest::Client,
    base: &str,
    destination: i64,
) -> Result<f64, Error> {
    println!("{:<32} {:>14} {:>14}", "health", "p50", "p99");
    let mut worst: f64 = 0.0;
    for (label, url, expect) in [
        (
            "destination page 24h",
            format!("{base}/alerts/destinations/{destination}"),
            "Attempts by outcome",
        ),
        (
            "destination page 7d",
            format!("{base}/alerts/destinations/{destination}?window=7d"),
            "per day",
        ),
        (
            "destinations list",
            format!("{base}/alerts/destinations"),
            "Health",
        ),
    ] {
        let samples = time_get(client, &url, expect).await?;
        worst = worst.max(ms(percentile(&samples, 0.99)));
        println!(
            "{label:<32} {:>12.2}ms {:>12.2}ms",
            ms(percentile(&samples, 0.5)),
            ms(percentile(&samples, 0.99))
        );
    }
    for window in ["24h", "7d"] {
        let url = format!("{base}/api/v1/destinations/{destination}/health?window={window}");
        let samples = time_get(api, &url, "success_rate").await?;
        worst = worst.max(ms(percentile(&samples, 0.99)));
        println!(
            "{:<32} {:>12.2}ms {:>12.2}ms",
            format!("api health {window}"),
            ms(percentile(&samples, 0.5)),
            ms(percentile(&samples, 0.99))
        );
    }
    Ok(worst)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let postgres = args.iter().any(|a| a == "--postgres");
    let n: i64 = args
        .iter()
        .position(|a| a == "--deliveries")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // `--reuse` keeps the seeded database (and its secret key) for the next
    // run with `--reuse` and the same size; without it every run seeds anew.
    let reuse = args.iter().any(|a| a == "--reuse");
    let engine = if postgres { "postgres" } else { "sqlite" };
    let dir = std::env::temp_dir().join(if reuse {
        format!("alertwire_bench_log_{engine}_{n}")
    } else {
        format!("alertwire_bench_log_{}", std::process::id())
    });
    std::fs::create_dir_all(&dir)?;
    let sqlite_file = dir.join("bench.db");
    let seeded_before = reuse && dir.join("seeded").exists();
    if !seeded_before {
        // What an interrupted seeding left.
        let _ = std::fs::remove_file(&sqlite_file);
    }
    let database_url = match (postgres, seeded_before) {
        (true, true) => support::postgres_url_of(&format!("alertwire_bench_log_{n}")),
        (true, false) => postgres_url(&format!("alertwire_bench_log_{n}")).await?,
        (false, _) => format!("sqlite://{}", sqlite_file.display()),
    };
    let started = support::start_in_process(&database_url, &dir).await?;
    let (base, services) = (started.base.clone(), started.services.clone());
    let now;
    let first_destination;
    let client;
    if seeded_before {
        client = support::sign_in_admin(&started).await?;
        let (at, first): (i64, i64) = seeded_marks(services.db()).await?;
        (now, first_destination) = (at, first);
        println!(
            "{engine}: reusing the database seeded before in {}",
            dir.display()
        );
    } else {
        client = support::signed_in_admin(&started).await?;
        first_destination = create_destinations(&services).await?;
        now = server::clock::now_ms();
        let seeding = Instant::now();
        seed(
            services.db(),
            &seed_sql(postgres, n, first_destination, now),
        )
        .await?;
        // The seeded deliveries' newest time is `now`: a later run reads it back.
        std::fs::write(dir.join("seeded"), "")?;
        println!(
            "{engine}: seeded {n} deliveries, {} attempts in {:.1}s",
            3 * n,
            seeding.elapsed().as_secs_f64()
        );
    }
    let key = services
        .create_api_key("bench", "admin", &server::services::Actor::command_line())
        .await?
        .secret;

    let api = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {key}").parse()?,
            )]
            .into_iter()
            .collect(),
        )
        .build()?;

    let floor = time_get(&client, &format!("{base}/healthz"), "").await?;
    let floor_p99 = ms(percentile(&floor, 0.99));
    println!(
        "floor: GET /healthz p50={:.2}ms p99={floor_p99:.2}ms",
        ms(percentile(&floor, 0.5))
    );
    let day = |d: i64| app::format::rfc3339(now - d * DAY_MS);
    let d = first_destination + 7;
    let combos: Vec<(&str, String)> = vec![
        ("no filter", String::new()),
        ("status=failed", "status=failed".into()),
        ("status=retrying", "status=retrying".into()),
        ("destination", format!("destination_id={d}")),
        (
            "destination+failed",
            format!("destination_id={d}&status=failed"),
        ),
        ("last 24h", "range=24h".into()),
        (
            "last 7d+failed+destination",
            format!("range=7d&status=failed&destination_id={d}"),
        ),
        (
            "1h window 10 days ago",
            format!(
                "since={}&until={}",
                day(10),
                app::format::rfc3339(now - 10 * DAY_MS + 3_600_000)
            ),
        ),
        (
            "1 day 20 days ago+destination",
            format!("since={}&until={}&destination_id={d}", day(20), day(19)),
        ),
        ("event_type", "event_type=connection_failed".into()),
        ("rule", "rule_id=3".into()),
        (
            "rule+event+failed",
            "rule_id=3&event_type=connection_failed&status=failed".into(),
        ),
        // Each status with the other filters: on SQLite a status other than
        // `delivered` leads (migration 0016), `delivered` reads the row.
        ("status=pending (none)", "status=pending".into()),
        (
            "destination+retrying (none)",
            format!("destination_id={d}&status=retrying"),
        ),
        ("rule+retrying (none)", "rule_id=3&status=retrying".into()),
        (
            "event_type+pending (none)",
            "event_type=connection_failed&status=pending".into(),
        ),
        ("rule+delivered", "rule_id=3&status=delivered".into()),
        (
            "rule+event+delivered (none)",
            "rule_id=3&event_type=connection_failed&status=delivered".into(),
        ),
        ("asset prefix", "q=db.schema_17.".into()),
        (
            "asset prefix+failed (none)",
            "q=db.schema_17.&status=failed".into(),
        ),
        ("asset exact name", "q=db.schema_17.table_917".into()),
        ("alert id", format!("q=alert_{}", n / 2)),
        ("webhook-id", format!("q=msg_{}", n / 3)),
        ("deep cursor", format!("cursor={}", n / 2)),
        (
            "deep cursor+failed",
            format!("cursor={}&status=failed", n / 2),
        ),
    ];
    println!(
        "{:<32} {:>14} {:>14} {:>14} {:>14}",
        "filter", "page p50", "page p99", "api p50", "api p99"
    );
    let mut worst: f64 = 0.0;
    for (label, query) in combos {
        let page = time_get(
            &client,
            &format!("{base}/alerts/deliveries?{query}"),
            "Deliveries",
        )
        .await?;
        let json = time_get(&api, &format!("{base}/api/v1/deliveries?{query}"), "items").await?;
        let p99 = ms(percentile(&page, 0.99)).max(ms(percentile(&json, 0.99)));
        worst = worst.max(p99);
        println!(
            "{label:<32} {:>12.2}ms {:>12.2}ms {:>12.2}ms {:>12.2}ms",
            ms(percentile(&page, 0.5)),
            ms(percentile(&page, 0.99)),
            ms(percentile(&json, 0.5)),
            ms(percentile(&json, 0.99)),
        );
    }
    println!(
        "worst p99 {worst:.2}ms = {:.1}x the /healthz p99 of this run (target: under 20 ms)",
        worst / floor_p99.max(0.001)
    );
    let health = time_health(&client, &api, &base, d).await?;
    println!(
        "health worst p99 {health:.2}ms = {:.1}x the /healthz p99 of this run (target: under 20 ms)",
        health / floor_p99.max(0.001)
    );
    if !reuse {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
