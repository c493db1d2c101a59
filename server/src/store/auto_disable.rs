//! Auto-disable: destinations whose deliveries have all failed for a while,
//! disabling one together with the operational alert that tells of it, and
//! enabling it again with a redelivery of what failed meanwhile.
//!
//! "Failed while failing" means deliveries that ended `failed` at or after
//! the destination's `failing_since` (their `updated_at` is when they ended),
//! read through the partial index `deliveries_failed`.

use super::deliveries::{NOTIFY_CHANNEL, NOTIFY_SQL};
use super::{on_db, Db, StoreResult};

/// A destination past the threshold: enabled, failing since before the
/// cutoff, with enough failed deliveries since.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FailingRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub failing_since: i64,
}

/// The condition "at least n deliveries of destination `t` ended failed
/// since it started failing": there is an n-th one (`offset` is n - 1).
fn enough_failed(t: &str, offset: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM deliveries f WHERE f.destination_id = {t}.id AND f.status = 'failed' \
         AND f.updated_at >= {t}.failing_since ORDER BY f.updated_at LIMIT 1 OFFSET {offset})"
    )
}

/// Enabled destinations that have failed since `cutoff` or earlier, with at
/// least `min_failed` failed deliveries in that time.
pub async fn candidates(db: &Db, cutoff: i64, min_failed: i64) -> StoreResult<Vec<FailingRow>> {
    let sql = format!(
        "SELECT t.id, t.name, t.url, t.failing_since FROM destinations t \
         WHERE t.enabled AND t.deleted_at IS NULL AND t.failing_since IS NOT NULL \
         AND t.failing_since <= $1 AND {} ORDER BY t.id",
        enough_failed("t", "$2")
    );
    Ok(
        on_db!(db, pool => sqlx::query_as(&sql).bind(cutoff).bind(min_failed - 1).fetch_all(pool).await)?,
    )
}

/// The operational alert that tells of an auto-disable, and its deliveries.
#[derive(Debug, Clone)]
pub struct OperationalAlert {
    /// The event's `type`, e.g. `destination.disabled`.
    pub event_type: String,
    /// What the event is about (the destination's name), as the event's qualified name.
    pub subject: String,
    pub subject_type: String,
    /// The event's details as JSON.
    pub details: String,
    pub public_id: String,
    pub rule_name: String,
    pub alert_type: String,
    /// The webhook body.
    pub payload: String,
    /// Destination id and `webhook-id` of each delivery.
    pub deliveries: Vec<(i64, String)>,
}

/// Disables `row` automatically at `now` if it still meets the rule (still
/// enabled, failing since the same time, enough failures) and, in the same
/// transaction, stores `notice` with its deliveries. False when another
/// process or a success got there first: then nothing is written.
pub async fn disable(
    db: &Db,
    row: &FailingRow,
    min_failed: i64,
    now: i64,
    notice: Option<&OperationalAlert>,
) -> StoreResult<bool> {
    let disable = format!(
        "UPDATE destinations SET enabled = FALSE, disabled_reason = 'auto', disabled_at = $1, updated_at = $1 \
         WHERE id = $2 AND enabled AND deleted_at IS NULL AND failing_since = $3 AND {}",
        enough_failed("destinations", "$4")
    );
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let done = sqlx::query(&disable)
            .bind(now).bind(row.id).bind(row.failing_since).bind(min_failed - 1)
            .execute(&mut *tx).await?.rows_affected();
        if done != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(n) = notice.filter(|n| !n.deliveries.is_empty()) {
            let (event_id,): (i64,) = sqlx::query_as(
                "INSERT INTO events (type, qualified_name, asset_type, change_type, details, occurred_at, dedup_key, received_at) \
                 VALUES ($1, $2, $3, NULL, $4, $5, NULL, $5) RETURNING id")
                .bind(&n.event_type).bind(&n.subject).bind(&n.subject_type).bind(&n.details).bind(now)
                .fetch_one(&mut *tx).await?;
            let (alert_id,): (i64,) = sqlx::query_as(
                "INSERT INTO alerts (public_id, event_id, rule_id, rule_name, alert_type, status, payload, created_at) \
                 VALUES ($1, $2, NULL, $3, $4, 'triggered', $5, $6) RETURNING id")
                .bind(&n.public_id).bind(event_id).bind(&n.rule_name).bind(&n.alert_type).bind(&n.payload).bind(now)
                .fetch_one(&mut *tx).await?;
            let mut insert = sqlx::QueryBuilder::new(super::alerts::INSERT_DELIVERIES);
            insert.push_values(&n.deliveries, |mut b, (destination, msg)| {
                b.push_bind(alert_id).push_bind(*destination).push_bind(msg.as_str()).push("'pending'")
                    .push_bind(now).push_bind(now).push_bind(now)
                    .push_bind(None::<i64>).push_bind(&n.event_type).push_bind(&n.subject);
            });
            insert.build().execute(&mut *tx).await?;
            if db.is_postgres() {
                sqlx::query(NOTIFY_SQL).bind(NOTIFY_CHANNEL).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    })
}

/// The deliveries of an auto-disabled destination that ended failed since it
/// started failing, counted up to `cap + 1` (so "more than the cap" shows).
/// `None` unless the destination is disabled automatically.
pub async fn failed_while_failing(db: &Db, id: i64, cap: i64) -> StoreResult<Option<(i64, i64)>> {
    let since: Option<(Option<i64>,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT failing_since FROM destinations WHERE id = $1 AND deleted_at IS NULL AND NOT enabled \
         AND disabled_reason = 'auto'")
        .bind(id).fetch_optional(pool).await)?;
    let Some((Some(since),)) = since else {
        return Ok(None);
    };
    let (count,): (i64,) = on_db!(db, pool => sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE destination_id = $1 AND status = 'failed' \
         AND updated_at >= $2 LIMIT $3) x")
        .bind(id).bind(since).bind(cap + 1).fetch_one(pool).await)?;
    Ok(Some((since, count)))
}

/// Enables a destination and, when it was disabled automatically and
/// `redeliver` is set, queues again (same `webhook-id` and body, a fresh retry
/// schedule) up to `cap` of its deliveries that ended failed since it started
/// failing, oldest first, all in one transaction. A delivery is queued only
/// from `failed`, so two calls never queue one twice. `None`: no such destination.
pub async fn enable(
    db: &Db,
    id: i64,
    redeliver: bool,
    cap: i64,
    now: i64,
) -> StoreResult<Option<u64>> {
    let redrive = "UPDATE deliveries SET status = 'pending', failures = 0, retry = FALSE, next_attempt_at = $1, \
         lease_owner = NULL, lease_until = NULL, updated_at = $1 \
         WHERE status = 'failed' AND id IN ( \
           SELECT d.id FROM deliveries d JOIN destinations t ON t.id = d.destination_id \
           WHERE t.id = $2 AND NOT t.enabled AND t.disabled_reason = 'auto' AND t.deleted_at IS NULL \
           AND d.destination_id = $2 AND d.status = 'failed' AND d.updated_at >= t.failing_since \
           ORDER BY d.updated_at, d.id LIMIT $3)";
    let enable =
        "UPDATE destinations SET enabled = TRUE, disabled_reason = NULL, disabled_at = NULL, \
         failing_since = CASE WHEN enabled THEN failing_since ELSE NULL END, updated_at = $1 \
         WHERE id = $2 AND deleted_at IS NULL";
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let queued = if redeliver {
            sqlx::query(redrive).bind(now).bind(id).bind(cap).execute(&mut *tx).await?.rows_affected()
        } else {
            0
        };
        let found = sqlx::query(enable).bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
        if found != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        if db.is_postgres() {
            sqlx::query(NOTIFY_SQL).bind(NOTIFY_CHANNEL).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Some(queued))
    })
}

/// Live destinations disabled automatically: `(id, name, disabled_at)`, by name.
pub async fn auto_disabled(db: &Db) -> StoreResult<Vec<(i64, String, i64)>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT id, name, COALESCE(disabled_at, updated_at) FROM destinations \
         WHERE NOT enabled AND disabled_reason = 'auto' AND deleted_at IS NULL ORDER BY LOWER(name), id")
        .fetch_all(pool).await)?)
}
