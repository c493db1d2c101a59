//! Rows written straight into the delivery queue, as earlier failures would
//! have left them: the scheduled backlog and probes of the retry-punctuality
//! run, and the due retries of a dead destination.

use super::{percentile, Clock, Error, DESTINATIONS};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SCHEDULED: usize = 100_000;
const PROBES: usize = 200;

fn wall() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `(msg_id, destination_id, next_attempt_at)` rows as pending deliveries, 1,000 a statement.
fn inserts(rows: &[(String, i64, i64)], retry: bool, now: i64) -> Vec<String> {
    let mut statements = Vec::new();
    for chunk in rows.chunks(1000) {
        let mut sql = String::from(
            "INSERT INTO deliveries (alert_id, destination_id, msg_id, status, failures, attempts, retry, next_attempt_at, created_at, updated_at) VALUES ",
        );
        for (i, (msg, destination, at)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(1, {destination}, '{msg}', 'pending', 1, 1, {retry}, {at}, {now}, {now})"
            ));
        }
        statements.push(sql);
    }
    statements
}

/// Writes 100,000 retries due in an hour, then probes due over the next 2-5 s,
/// and measures how late each probe arrives after its due time. (`retry` stays
/// false on these rows, as in the first version of this benchmark.)
pub async fn retry_punctuality(database_url: &str, clock: &Mutex<Clock>) -> Result<String, Error> {
    let now = wall();
    let begun = Instant::now();
    let later = now + 3_600_000;
    let scheduled: Vec<_> = (0..SCHEDULED)
        .map(|i| {
            let destination = 1 + (i % DESTINATIONS) as i64;
            (format!("msg_later_{i}"), destination, later + i as i64)
        })
        .collect();
    // The backlog first, then probes due 2-5 s after it is stored (a slow insert must not make them late).
    execute(database_url, &inserts(&scheduled, false, now)).await?;
    let now = wall();
    let started = Instant::now();
    let probes: Vec<_> = (0..PROBES)
        .map(|i| {
            let at = now + 2_000 + (i as i64 * 3_000 / PROBES as i64);
            (format!("msg_probe_{i}"), 1 + (i % DESTINATIONS) as i64, at)
        })
        .collect();
    let due: HashMap<String, Instant> = probes
        .iter()
        .map(|(msg, _, at)| {
            let at = started + Duration::from_millis((at - now) as u64);
            (msg.clone(), at)
        })
        .collect();
    execute(database_url, &inserts(&probes, false, now)).await?;
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

/// Writes `count` retries of `destination`, all due now.
pub async fn dead_retries(database_url: &str, destination: i64, count: usize) -> Result<(), Error> {
    let now = wall();
    let rows: Vec<_> = (0..count)
        .map(|i| (format!("msg_dead_{i}"), destination, now - 1 - i as i64))
        .collect();
    execute(database_url, &inserts(&rows, true, now)).await
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
