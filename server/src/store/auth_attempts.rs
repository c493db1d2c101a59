//! Password checks per subject (an account, a client address, a user's
//! re-entry), recorded before the check runs. Rows of one subject are
//! written one at a time, so each attempt learns its rank among the recent
//! ones and parallel attempts cannot all pass the limit.

use super::{affected, on_db, Db, StoreResult};

/// Rows older than this are of no use to any limit.
const KEEP_MS: i64 = 24 * 3600 * 1000;

/// An attempt just recorded: its row, how many attempts of its subject since
/// the window opened (itself included), and when the oldest of them was.
#[derive(Debug, Clone, Copy)]
pub struct Admission {
    pub id: i64,
    pub rank: i64,
    pub oldest: i64,
}

pub async fn admit(db: &Db, subject: &str, now: i64, since: i64) -> StoreResult<Admission> {
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        if db.is_postgres() {
            // SQLite's write lock already serialises this transaction.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(subject)
                .execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM auth_attempts WHERE at < $1").bind(now - KEEP_MS)
            .execute(&mut *tx).await?;
        let (id,): (i64,) = sqlx::query_as("INSERT INTO auth_attempts (subject, at) VALUES ($1, $2) RETURNING id")
            .bind(subject).bind(now).fetch_one(&mut *tx).await?;
        let (rank, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(at) FROM auth_attempts WHERE subject = $1 AND at >= $2")
            .bind(subject).bind(since).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Admission { id, rank, oldest: oldest.unwrap_or(now) })
    })
}

/// Drops one attempt: it was refused before any check, or it succeeded.
pub async fn forget(db: &Db, id: i64) -> StoreResult<()> {
    affected!(db, pool => sqlx::query("DELETE FROM auth_attempts WHERE id = $1")
        .bind(id).execute(pool).await)?;
    Ok(())
}

/// Drops every attempt of a subject (a successful sign-in clears its account).
pub async fn clear(db: &Db, subject: &str) -> StoreResult<()> {
    affected!(db, pool => sqlx::query("DELETE FROM auth_attempts WHERE subject = $1")
        .bind(subject).execute(pool).await)?;
    Ok(())
}
