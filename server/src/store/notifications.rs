//! Settings -> Notifications: the destinations that receive operational events.

use super::{id_list, on_db, Db, StoreResult};

/// The chosen destinations that are not deleted, by id.
pub async fn chosen(db: &Db) -> StoreResult<Vec<i64>> {
    Ok(on_db!(db, pool => sqlx::query_scalar(
        "SELECT n.destination_id FROM notification_destinations n \
         JOIN destinations t ON t.id = n.destination_id WHERE t.deleted_at IS NULL ORDER BY n.destination_id")
        .fetch_all(pool).await)?)
}

/// The chosen destinations that are enabled and not `except`: who hears of `except`.
pub async fn recipients(db: &Db, except: i64) -> StoreResult<Vec<i64>> {
    Ok(on_db!(db, pool => sqlx::query_scalar(
        "SELECT n.destination_id FROM notification_destinations n \
         JOIN destinations t ON t.id = n.destination_id \
         WHERE t.deleted_at IS NULL AND t.enabled AND t.id <> $1 ORDER BY n.destination_id")
        .bind(except).fetch_all(pool).await)?)
}

/// Replaces the choice with `ids` (no duplicates), in one transaction that
/// first checks every one is a live destination. `Err(missing)`, with nothing
/// changed, names the ids that are not.
pub async fn replace(db: &Db, ids: &[i64]) -> StoreResult<Result<(), Vec<i64>>> {
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        if !ids.is_empty() {
            let live: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT id FROM destinations WHERE deleted_at IS NULL AND id IN ({})", id_list(ids)))
                .fetch_all(&mut *tx).await?;
            let missing: Vec<i64> = ids.iter().copied().filter(|id| !live.contains(id)).collect();
            if !missing.is_empty() {
                tx.rollback().await?;
                return Ok(Err(missing));
            }
        }
        sqlx::query("DELETE FROM notification_destinations").execute(&mut *tx).await?;
        if !ids.is_empty() {
            let mut insert = sqlx::QueryBuilder::new("INSERT INTO notification_destinations (destination_id) ");
            insert.push_values(ids, |mut row, id| {
                row.push_bind(*id);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    })
}
