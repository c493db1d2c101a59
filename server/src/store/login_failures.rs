//! Failed sign-ins per email address, for the lockout.

use super::{affected, on_db, Db, StoreResult};

/// Times of the failures for `email` at or after `since`, oldest first.
pub async fn since(db: &Db, email: &str, since_ms: i64) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT failed_at FROM login_failures WHERE email = $1 AND failed_at >= $2 ORDER BY failed_at")
        .bind(email).bind(since_ms).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(at,)| at).collect())
}

/// Records a failure and forgets those older than `forget_before`.
pub async fn record(db: &Db, email: &str, at_ms: i64, forget_before: i64) -> StoreResult<()> {
    affected!(db, pool => sqlx::query("INSERT INTO login_failures (email, failed_at) VALUES ($1, $2)")
        .bind(email).bind(at_ms).execute(pool).await)?;
    affected!(db, pool => sqlx::query("DELETE FROM login_failures WHERE failed_at < $1")
        .bind(forget_before).execute(pool).await)?;
    Ok(())
}

pub async fn clear(db: &Db, email: &str) -> StoreResult<()> {
    affected!(db, pool => sqlx::query("DELETE FROM login_failures WHERE email = $1")
        .bind(email).execute(pool).await)?;
    Ok(())
}
