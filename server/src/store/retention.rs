//! Removing history older than the retention window, a small batch per
//! short transaction, children before parents (the foreign keys):
//! attempts -> deliveries -> alerts -> events, expired dedup keys before the
//! events they name. A pending delivery is never removed, nor its alert.
//!
//! Each batch takes this process's SQLite write turn (the gate the engine
//! queues on) and opens with `BEGIN IMMEDIATE`, so the engine waits at most
//! one short batch; on Postgres the rows are locked with `SKIP LOCKED`, so
//! two processes pruning at once share the work instead of queueing.

use super::{affected, id_list, on_db, Db, StoreResult};

/// What one batch removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub deliveries: u64,
    pub attempts: u64,
    pub alerts: u64,
    pub events: u64,
    pub dedup_keys: u64,
}

/// A position in a walk ordered by (time, id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: i64,
}

impl Cursor {
    pub const START: Cursor = Cursor {
        at: i64::MIN,
        id: i64::MIN,
    };
}

fn skip_locked(db: &Db) -> &'static str {
    if db.is_postgres() {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    }
}

/// Up to `batch` deliveries that finished (delivered or failed) before
/// `cutoff`, with their attempts and the alerts they leave without a delivery.
/// The `WHERE` repeats the `deliveries_finished` index's, so it is used.
pub async fn finished_deliveries(db: &Db, cutoff: i64, batch: i64) -> StoreResult<Removed> {
    // Without statistics SQLite would walk `deliveries_by_status` and sort;
    // named, the partial index is used (and a query that could not use it
    // would fail to prepare instead of scanning).
    let select = format!(
        "SELECT id, alert_id FROM deliveries{} WHERE status IN ('delivered', 'failed') AND updated_at < $1 \
         ORDER BY updated_at LIMIT $2{}",
        if db.is_postgres() {
            ""
        } else {
            " INDEXED BY deliveries_finished"
        },
        skip_locked(db)
    );
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(&select).bind(cutoff).bind(batch).fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            return Ok(Removed::default());
        }
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let mut alerts: Vec<i64> = rows.iter().map(|(_, alert)| *alert).collect();
        alerts.sort_unstable();
        alerts.dedup();
        let ids = id_list(&ids);
        let attempts = sqlx::query(&format!("DELETE FROM attempts WHERE delivery_id IN ({ids})"))
            .execute(&mut *tx).await?.rows_affected();
        let deliveries = sqlx::query(&format!(
            "DELETE FROM deliveries WHERE id IN ({ids}) AND status IN ('delivered', 'failed')"))
            .execute(&mut *tx).await?.rows_affected();
        let alerts = sqlx::query(&format!(
            "DELETE FROM alerts WHERE id IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id)", id_list(&alerts)))
            .execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(Removed { deliveries, attempts, alerts, ..Removed::default() })
    })
}

/// Alerts created before `cutoff` that have no delivery (their rule had no
/// enabled destination, or their deliveries were removed), after `from` in
/// (created_at, id) order. Returns what was removed and where the walk is.
pub async fn orphan_alerts(
    db: &Db,
    cutoff: i64,
    from: Cursor,
    batch: i64,
) -> StoreResult<(u64, Option<Cursor>)> {
    let no_delivery = "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id)";
    let select = format!(
        "SELECT a.created_at, a.id FROM alerts a WHERE a.created_at < $1 AND a.created_at >= $2 \
         AND (a.created_at > $2 OR a.id > $3) AND {no_delivery} ORDER BY a.created_at, a.id LIMIT $4{}",
        if db.is_postgres() {
            " FOR UPDATE OF a SKIP LOCKED"
        } else {
            ""
        }
    );
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(&select)
            .bind(cutoff).bind(from.at).bind(from.id).bind(batch).fetch_all(&mut *tx).await?;
        let Some(&(at, id)) = rows.last() else {
            return Ok((0, None));
        };
        let ids: Vec<i64> = rows.iter().map(|(_, id)| *id).collect();
        let removed = sqlx::query(&format!(
            "DELETE FROM alerts WHERE id IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id)", id_list(&ids)))
            .execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok((removed, Some(Cursor { at, id })))
    })
}

/// Dedup keys that expired before `now`: they no longer hold anything back.
pub async fn expired_dedup_keys(db: &Db, now: i64, batch: i64) -> StoreResult<u64> {
    let _turn = db.write_turn().await;
    Ok(affected!(db, pool => sqlx::query(
        "DELETE FROM dedup_keys WHERE dedup_key IN \
         (SELECT dedup_key FROM dedup_keys WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)")
        .bind(now).bind(batch).execute(pool).await)?)
}

/// Events received before `cutoff` that no alert and no dedup key names,
/// after `from` in (received_at, id) order.
pub async fn orphan_events(
    db: &Db,
    cutoff: i64,
    from: Cursor,
    batch: i64,
) -> StoreResult<(u64, Option<Cursor>)> {
    let unused = |e: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM alerts a WHERE a.event_id = {e}.id) \
             AND NOT EXISTS (SELECT 1 FROM dedup_keys k WHERE k.event_id = {e}.id)"
        )
    };
    let select = format!(
        "SELECT e.received_at, e.id FROM events e WHERE e.received_at < $1 AND e.received_at >= $2 \
         AND (e.received_at > $2 OR e.id > $3) AND {} ORDER BY e.received_at, e.id LIMIT $4{}",
        unused("e"),
        if db.is_postgres() {
            " FOR UPDATE OF e SKIP LOCKED"
        } else {
            ""
        }
    );
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(&select)
            .bind(cutoff).bind(from.at).bind(from.id).bind(batch).fetch_all(&mut *tx).await?;
        let Some(&(at, id)) = rows.last() else {
            return Ok((0, None));
        };
        let ids: Vec<i64> = rows.iter().map(|(_, id)| *id).collect();
        let removed = sqlx::query(&format!(
            "DELETE FROM events WHERE id IN ({}) AND {}", id_list(&ids), unused("events")))
            .execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok((removed, Some(Cursor { at, id })))
    })
}
