//! What live pages read: the deliveries whose state changed after a point in
//! time, in `(updated_at, id)` order (index `deliveries_by_update`).

use super::{on_db, Db, StoreResult};
use app::domain::DeliveryStatus;

/// A delivery's state as a live page shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: i64,
    pub destination_id: i64,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    /// Pending after a failure: waiting for a retry.
    pub retry: bool,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, destination_id, status, retry, attempts, last_status, updated_at";

/// Up to `limit` deliveries changed after the position `(updated_at, id)`,
/// oldest change first. A row-value comparison, so the index serves it on
/// both engines.
pub async fn changed_after(db: &Db, after: (i64, i64), limit: i64) -> StoreResult<Vec<ChangeRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries WHERE (updated_at, id) > ($1, $2) \
         ORDER BY updated_at, id LIMIT $3"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql)
        .bind(after.0).bind(after.1).bind(limit).fetch_all(pool).await)?)
}

/// Up to `limit` deliveries changed after `since`, of one destination or one
/// delivery when given: what a stream that reconnects has missed.
pub async fn changed_since(
    db: &Db,
    since: i64,
    destination: Option<i64>,
    delivery: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<ChangeRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries WHERE updated_at > $1 \
         AND ($2 IS NULL OR destination_id = $2) AND ($3 IS NULL OR id = $3) \
         ORDER BY updated_at, id LIMIT $4"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql)
        .bind(since).bind(destination).bind(delivery).bind(limit).fetch_all(pool).await)?)
}

/// The latest change after `since`, of one destination or one delivery when
/// given: what a page that loaded a moment ago may not show.
pub async fn latest_since(
    db: &Db,
    since: i64,
    destination: Option<i64>,
    delivery: Option<i64>,
) -> StoreResult<Option<i64>> {
    let (latest,): (Option<i64>,) = on_db!(db, pool => sqlx::query_as(
        "SELECT MAX(updated_at) FROM deliveries WHERE updated_at > $1 \
         AND ($2 IS NULL OR destination_id = $2) AND ($3 IS NULL OR id = $3)")
        .bind(since).bind(destination).bind(delivery).fetch_one(pool).await)?;
    Ok(latest)
}
