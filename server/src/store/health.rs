//! Destination health: the hourly aggregates the recorder keeps
//! (`destination_stats`), and Send Test Alert's history (`test_attempts`).
//!
//! The recorder upserts one row per destination and hour per batch with
//! `upsert_stats!`, in the attempts' transaction; readers take at most 168
//! rows (7 days) instead of scanning attempts.

use super::deliveries::AttemptRecord;
use super::{affected, on_db, Db, StoreResult};
use app::domain::DeliveryStatus;
use std::collections::BTreeMap;

pub const HOUR_MS: i64 = 3_600_000;

/// Upper bounds (ms, inclusive) of the latency buckets `lat_00`..`lat_18`;
/// `lat_19` holds everything slower. Roughly log-spaced: a percentile read
/// from them is off by at most one bucket's width (about a factor 1.5).
pub const LATENCY_BOUNDS_MS: [i64; 19] = [
    10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 20000,
    30000,
];
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// What an attempt came to, as the aggregates count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Http4xx,
    Http5xx,
    Timeout,
    /// `dns`, `connect`, `tls` or `blocked_address`.
    Network,
    /// A 3xx (redirects are never followed), another status, or not sent at all.
    Other,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Succeeded,
        Outcome::Http4xx,
        Outcome::Http5xx,
        Outcome::Timeout,
        Outcome::Network,
        Outcome::Other,
    ];

    /// The `destination_stats` column.
    pub fn column(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Http4xx => "failed_4xx",
            Outcome::Http5xx => "failed_5xx",
            Outcome::Timeout => "failed_timeout",
            Outcome::Network => "failed_network",
            Outcome::Other => "failed_other",
        }
    }

    /// From the attempt's error kind (the `attempts.error_kind` vocabulary) and status.
    pub fn of(ok: bool, error_kind: Option<&str>, status: Option<i64>) -> Outcome {
        match (ok, error_kind, status) {
            (true, _, _) => Outcome::Succeeded,
            (_, Some("timeout"), _) => Outcome::Timeout,
            (_, Some("dns" | "connect" | "tls" | "blocked_address"), _) => Outcome::Network,
            (_, _, Some(400..=499)) => Outcome::Http4xx,
            (_, _, Some(500..=599)) => Outcome::Http5xx,
            _ => Outcome::Other,
        }
    }
}

/// The latency bucket of a duration.
pub fn bucket_of(duration_ms: i64) -> usize {
    LATENCY_BOUNDS_MS
        .iter()
        .position(|bound| duration_ms <= *bound)
        .unwrap_or(LATENCY_BOUNDS_MS.len())
}

/// One destination's counts for one hour (a row, or a batch's share of one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// By `Outcome::ALL`'s order.
    pub outcomes: [i64; 6],
    pub latency: [i64; LATENCY_BUCKETS],
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        for (a, b) in self.outcomes.iter_mut().zip(other.outcomes) {
            *a += b;
        }
        for (a, b) in self.latency.iter_mut().zip(other.latency) {
            *a += b;
        }
    }

    pub fn attempts(&self) -> i64 {
        self.outcomes.iter().sum()
    }
}

/// A batch's attempts summed per (destination, hour): one upserted row each,
/// so no statement touches the same row twice (Postgres refuses that).
pub fn batch_counts(records: &[AttemptRecord]) -> Vec<((i64, i64), Counts)> {
    let mut counts: BTreeMap<(i64, i64), Counts> = BTreeMap::new();
    for r in records {
        let hour = r.started_at - r.started_at.rem_euclid(HOUR_MS);
        let c = counts.entry((r.destination_id, hour)).or_default();
        let ok = r.status == DeliveryStatus::Delivered;
        let outcome = Outcome::of(ok, r.error_kind.as_deref(), r.response_status);
        let at = Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(5);
        c.outcomes[at] += 1;
        c.latency[bucket_of(r.duration_ms)] += 1;
    }
    counts.into_iter().collect()
}

/// The counted columns, in `Counts` order.
pub fn count_columns() -> Vec<String> {
    Outcome::ALL
        .iter()
        .map(|o| o.column().to_owned())
        .chain((0..LATENCY_BUCKETS).map(|i| format!("lat_{i:02}")))
        .collect()
}

/// `INSERT INTO destination_stats (...) ` up to `VALUES`; the rows follow.
pub fn upsert_head() -> String {
    format!(
        "INSERT INTO destination_stats (destination_id, hour, {}) ",
        count_columns().join(", ")
    )
}

/// The `ON CONFLICT` tail: add to the stored counts.
pub fn upsert_tail() -> String {
    let sets: Vec<String> = count_columns()
        .iter()
        .map(|c| format!("{c} = destination_stats.{c} + excluded.{c}"))
        .collect();
    format!(
        " ON CONFLICT (destination_id, hour) DO UPDATE SET {}",
        sets.join(", ")
    )
}

/// Rows an hourly upsert writes at most: 28 parameters a row, 100 rows stay
/// far below both engines' limits.
pub(crate) const UPSERT_ROWS: usize = 100;

/// Upserts `batch_counts` on an open transaction: `$tx` is `&mut *tx`.
macro_rules! upsert_stats {
    ($tx:expr, $counts:expr) => {{
        let counts: &[((i64, i64), $crate::store::health::Counts)] = $counts;
        let (head, tail) = (
            $crate::store::health::upsert_head(),
            $crate::store::health::upsert_tail(),
        );
        for chunk in counts.chunks($crate::store::health::UPSERT_ROWS) {
            let mut insert = sqlx::QueryBuilder::new(&head);
            insert.push_values(chunk, |mut row, ((destination, hour), c)| {
                row.push_bind(*destination).push_bind(*hour);
                for n in c.outcomes.iter().chain(c.latency.iter()) {
                    row.push_bind(*n);
                }
            });
            insert.push(&tail);
            insert
                .build()
                .persistent($crate::store::keep_prepared(
                    chunk.len(),
                    $crate::store::health::UPSERT_ROWS,
                ))
                .execute(&mut *$tx)
                .await?;
        }
        Ok::<(), sqlx::Error>(())
    }};
}
pub(crate) use upsert_stats;

/// What a batch does to each destination's health columns, in the order
/// the attempts finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthChange {
    /// A success in the batch: the count starts again from `failures`.
    pub reset: bool,
    /// Failures after the batch's last success (all of them without one).
    pub failures: i64,
    /// The latest failure's message and time.
    pub last_error: Option<(String, i64)>,
    pub last_attempt_at: i64,
}

pub fn health_changes(records: &[AttemptRecord]) -> BTreeMap<i64, HealthChange> {
    let mut changes: BTreeMap<i64, HealthChange> = BTreeMap::new();
    for r in records {
        let c = changes.entry(r.destination_id).or_insert(HealthChange {
            reset: false,
            failures: 0,
            last_error: None,
            last_attempt_at: r.started_at,
        });
        c.last_attempt_at = c.last_attempt_at.max(r.started_at);
        if r.status == DeliveryStatus::Delivered {
            c.reset = true;
            c.failures = 0;
        } else {
            c.failures += 1;
            let message = r
                .error_message
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| r.summary.clone());
            c.last_error = Some((message, r.started_at + r.duration_ms));
        }
    }
    changes
}

/// Applies each destination's `HealthChange` together with its "last result"
/// columns, for many destinations in one statement: `v` is a `VALUES` list of
/// (id, ok, summary, result at, reset, failures, error, error at, attempt at),
/// followed by its alias (`store::values_alias`) and `WHERE destinations.id = v.column1`.
/// A statement each meant a round trip to SQLite's worker per destination,
/// inside the write turn that ingest waits for (RELIABILITY.md, section 4).
pub const DESTINATIONS_UPDATE_HEAD: &str = "UPDATE destinations SET last_result_ok = v.column2, \
    last_result_summary = v.column3, last_result_at = v.column4, \
    consecutive_failures = CASE WHEN v.column5 THEN v.column6 ELSE destinations.consecutive_failures + v.column6 END, \
    last_error = COALESCE(v.column7, destinations.last_error), \
    last_error_at = COALESCE(v.column8, destinations.last_error_at), \
    last_attempt_at = CASE WHEN destinations.last_attempt_at IS NULL OR destinations.last_attempt_at < v.column9 \
    THEN v.column9 ELSE destinations.last_attempt_at END FROM (";

/// The stored hourly rows of a destination from `from_hour` on, oldest first.
pub async fn stats_since(
    db: &Db,
    destination: i64,
    from_hour: i64,
) -> StoreResult<Vec<(i64, Counts)>> {
    let sql = format!(
        "SELECT hour, {} FROM destination_stats WHERE destination_id = $1 AND hour >= $2 ORDER BY hour",
        count_columns().join(", ")
    );
    Ok(on_db!(db, pool => {
        use sqlx::Row;
        let rows = sqlx::query(&sql).bind(destination).bind(from_hour).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut c = Counts::default();
            for (i, n) in c.outcomes.iter_mut().chain(c.latency.iter_mut()).enumerate() {
                *n = row.try_get(i + 1)?;
            }
            out.push((row.try_get::<i64, _>(0)?, c));
        }
        Ok::<_, sqlx::Error>(out)
    })?)
}

/// The aggregates built from the stored attempts in one statement, for
/// history recorded before them (migration 0013 runs the same text) and
/// for bulk-loaded benchmark data. Adds to rows already there. (`WHERE
/// TRUE`: SQLite reads an upsert's `SELECT` unambiguously only with one.)
pub fn rebuild_sql() -> String {
    let mut sums: Vec<String> = vec![
        "SUM(CASE WHEN a.error_kind IS NULL AND a.error_message IS NULL THEN 1 ELSE 0 END)".into(),
        failed("a.error_kind = 'http_status' AND a.response_status BETWEEN 400 AND 499"),
        failed("a.error_kind = 'http_status' AND a.response_status BETWEEN 500 AND 599"),
        failed("a.error_kind = 'timeout'"),
        failed("a.error_kind IN ('dns', 'connect', 'tls', 'blocked_address')"),
        failed(
            "NOT (a.error_kind IS NOT NULL AND (a.error_kind IN ('timeout', 'dns', 'connect', 'tls', 'blocked_address') \
             OR (a.error_kind = 'http_status' AND a.response_status BETWEEN 400 AND 599)))",
        ),
    ];
    let mut lower = None;
    for bound in LATENCY_BOUNDS_MS.iter().map(Some).chain([None]) {
        let cond = match (lower, bound) {
            (None, Some(b)) => format!("a.duration_ms <= {b}"),
            (Some(l), Some(b)) => format!("a.duration_ms > {l} AND a.duration_ms <= {b}"),
            (Some(l), None) => format!("a.duration_ms > {l}"),
            (None, None) => "TRUE".into(),
        };
        sums.push(format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"));
        lower = bound;
    }
    format!(
        "{}SELECT d.destination_id, (a.started_at / {HOUR_MS}) * {HOUR_MS}, {} \
         FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
         WHERE TRUE GROUP BY d.destination_id, (a.started_at / {HOUR_MS}) * {HOUR_MS}{}",
        upsert_head(),
        sums.join(", "),
        upsert_tail(),
    )
}

fn failed(cond: &str) -> String {
    format!("SUM(CASE WHEN NOT (a.error_kind IS NULL AND a.error_message IS NULL) AND ({cond}) THEN 1 ELSE 0 END)")
}

/// Builds the aggregates from the attempts (see `rebuild_sql`).
pub async fn rebuild(db: &Db) -> StoreResult<u64> {
    let sql = rebuild_sql();
    let _turn = db.write_turn().await;
    Ok(affected!(db, pool => sqlx::query(&sql).execute(pool).await)?)
}

/// One Send Test Alert of a saved destination.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TestAttemptRow {
    pub id: i64,
    pub destination_id: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub actor_name: Option<String>,
    pub ok: bool,
    pub response_status: Option<i64>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub summary: String,
}

/// Records a test send and the destination's "last result" in one transaction.
pub async fn record_test(db: &Db, t: &TestAttemptRow) -> StoreResult<()> {
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        sqlx::query(
            "INSERT INTO test_attempts (destination_id, started_at, duration_ms, actor_name, ok, response_status, \
             error_kind, error_message, summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(t.destination_id).bind(t.started_at).bind(t.duration_ms).bind(&t.actor_name).bind(t.ok)
            .bind(t.response_status).bind(&t.error_kind).bind(&t.error_message).bind(&t.summary)
            .execute(&mut *tx).await?;
        sqlx::query(
            "UPDATE destinations SET last_result_ok = $1, last_result_summary = $2, last_result_at = $3 WHERE id = $4")
            .bind(t.ok).bind(&t.summary).bind(t.started_at + t.duration_ms).bind(t.destination_id)
            .execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    })
}

/// A destination's latest test sends, newest first.
pub async fn recent_tests(
    db: &Db,
    destination: i64,
    limit: i64,
) -> StoreResult<Vec<TestAttemptRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, destination_id, started_at, duration_ms, actor_name, ok, response_status, error_kind, \
         error_message, summary FROM test_attempts WHERE destination_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(destination).bind(limit).fetch_all(pool).await)?)
}

/// Retention: hourly rows wholly before `cutoff`, at most `batch`.
pub async fn prune_stats(db: &Db, cutoff: i64, batch: i64) -> StoreResult<u64> {
    let _turn = db.write_turn().await;
    Ok(affected!(db, pool => sqlx::query(
        "DELETE FROM destination_stats WHERE (destination_id, hour) IN \
         (SELECT destination_id, hour FROM destination_stats WHERE hour + $1 <= $2 ORDER BY hour LIMIT $3)")
        .bind(HOUR_MS).bind(cutoff).bind(batch).execute(pool).await)?)
}

/// Retention: test sends made before `cutoff`, at most `batch`.
pub async fn prune_tests(db: &Db, cutoff: i64, batch: i64) -> StoreResult<u64> {
    let _turn = db.write_turn().await;
    Ok(affected!(db, pool => sqlx::query(
        "DELETE FROM test_attempts WHERE id IN \
         (SELECT id FROM test_attempts WHERE started_at < $1 ORDER BY started_at LIMIT $2)")
        .bind(cutoff).bind(batch).execute(pool).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(
        destination: i64,
        started_at: i64,
        status: Option<i64>,
        kind: Option<&str>,
        ms: i64,
    ) -> AttemptRecord {
        let ok = kind.is_none();
        AttemptRecord {
            delivery_id: 1,
            destination_id: destination,
            number: 1,
            started_at,
            duration_ms: ms,
            request_headers: "[]".into(),
            response_status: status,
            response_headers: None,
            response_body: None,
            error_kind: kind.map(str::to_owned),
            error_message: kind.map(|k| format!("failed: {k}")),
            status: if ok {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Failed
            },
            failures: i64::from(!ok),
            next_attempt_at: None,
            summary: status.map_or_else(|| "timeout".into(), |s| s.to_string()),
        }
    }

    #[test]
    fn outcomes_follow_the_error_kinds() {
        assert_eq!(Outcome::of(true, None, Some(200)), Outcome::Succeeded);
        assert_eq!(
            Outcome::of(false, Some("http_status"), Some(401)),
            Outcome::Http4xx
        );
        assert_eq!(
            Outcome::of(false, Some("http_status"), Some(503)),
            Outcome::Http5xx
        );
        assert_eq!(Outcome::of(false, Some("timeout"), None), Outcome::Timeout);
        for kind in ["dns", "connect", "tls", "blocked_address"] {
            assert_eq!(Outcome::of(false, Some(kind), None), Outcome::Network);
        }
        assert_eq!(
            Outcome::of(false, Some("redirect"), Some(302)),
            Outcome::Other
        );
        assert_eq!(Outcome::of(false, None, None), Outcome::Other, "not sent");
        assert_eq!(
            (
                bucket_of(0),
                bucket_of(10),
                bucket_of(11),
                bucket_of(30_001)
            ),
            (0, 0, 1, 19)
        );
    }

    #[test]
    fn a_batch_sums_per_destination_and_hour() {
        let batch = [
            attempt(1, 10, Some(200), None, 5),
            attempt(1, 20, Some(500), Some("http_status"), 120),
            attempt(1, HOUR_MS + 5, None, Some("timeout"), 30_000),
            attempt(2, 30, Some(404), Some("http_status"), 40),
        ];
        let counts = batch_counts(&batch);
        assert_eq!(counts.len(), 3);
        assert_eq!(counts[0].0, (1, 0));
        assert_eq!(counts[0].1.outcomes, [1, 0, 1, 0, 0, 0]);
        assert_eq!((counts[0].1.latency[0], counts[0].1.latency[6]), (1, 1));
        assert_eq!(counts[1].0, (1, HOUR_MS));
        assert_eq!(counts[1].1.outcomes, [0, 0, 0, 1, 0, 0]);
        assert_eq!(counts[2].1.outcomes, [0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn failures_count_from_the_last_success() {
        let batch = [
            attempt(1, 10, Some(500), Some("http_status"), 5),
            attempt(1, 20, Some(200), None, 5),
            attempt(1, 30, None, Some("timeout"), 7),
            attempt(2, 10, Some(500), Some("http_status"), 5),
            attempt(3, 10, Some(200), None, 5),
        ];
        let changes = health_changes(&batch);
        assert_eq!(
            changes[&1],
            HealthChange {
                reset: true,
                failures: 1,
                last_error: Some(("failed: timeout".into(), 37)),
                last_attempt_at: 30,
            }
        );
        assert_eq!((changes[&2].reset, changes[&2].failures), (false, 1));
        assert_eq!(
            (
                changes[&3].reset,
                changes[&3].failures,
                changes[&3].last_error.clone()
            ),
            (true, 0, None)
        );
    }

    #[test]
    fn the_migration_builds_the_aggregates_from_older_attempts() {
        let statement = format!("{};", rebuild_sql());
        for schema in [
            include_str!("../../../migrations/sqlite/0013_destination_health.sql"),
            include_str!("../../../migrations/postgres/0013_destination_health.sql"),
        ] {
            assert!(
                schema.contains(&statement),
                "migration 0013 lacks:\n{statement}"
            );
        }
    }
}
