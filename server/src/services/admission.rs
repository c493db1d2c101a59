//! Load shedding: ingest refuses new deliveries past `--max-queued` queued
//! (pending) ones, so a backlog cannot grow without bound.
//!
//! Counting the queue on every ingest would cost a `count(*)` over up to a
//! million rows on the hot path. Instead the count is read at most once every
//! `REFRESH` (off the request path, one read at a time), and this process adds
//! what it accepted since. The bound is exact within one process up to that
//! refresh (deliveries finished since then still count, so it errs towards
//! refusing); across processes on PostgreSQL, each one misses what the others
//! accepted since its last refresh: at most their ingest rate times `REFRESH`.

use crate::clock::now_ms;
use crate::store::{deliveries, Db};
use app::error::AppError;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

/// How stale the counted queue may be.
const REFRESH_MS: i64 = 1_000;
/// What a refused client is told to wait, in seconds (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 5;

#[derive(Clone)]
pub struct Admission {
    max: i64,
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    /// Pending deliveries at the last count.
    counted: AtomicI64,
    /// Deliveries this process stored since that count began.
    accepted: AtomicI64,
    /// Deliveries admitted whose ingest has not committed yet: never in a
    /// count that began before their commit, so never subtracted by one.
    reserved: AtomicI64,
    /// When the last count began (epoch ms); 0 before the first.
    counted_at: AtomicI64,
    counting: AtomicBool,
}

impl Admission {
    pub fn new(max: i64) -> Self {
        Admission {
            max,
            state: Arc::default(),
        }
    }

    /// Takes room for `n` new deliveries, or refuses with `QueueFull`.
    pub async fn admit(&self, db: &Db, n: i64) -> Result<(), AppError> {
        if n == 0 {
            return Ok(());
        }
        let state = &self.state;
        if state.counted_at.load(Ordering::Acquire) == 0 {
            // The first ingest after start waits for a real count.
            count(state, db).await;
        } else if now_ms() - state.counted_at.load(Ordering::Relaxed) >= REFRESH_MS
            && !state.counting.swap(true, Ordering::AcqRel)
        {
            let (state, db) = (self.state.clone(), db.clone());
            tokio::spawn(async move { count(&state, &db).await });
        }
        let before = state.reserved.fetch_add(n, Ordering::AcqRel);
        let queued = state.counted.load(Ordering::Acquire) + state.accepted.load(Ordering::Acquire);
        if queued + before + n > self.max {
            state.reserved.fetch_sub(n, Ordering::AcqRel);
            return Err(AppError::QueueFull {
                retry_after: RETRY_AFTER_SECS,
            });
        }
        Ok(())
    }

    /// The `n` deliveries admitted were stored (their transaction committed).
    pub fn stored(&self, n: i64) {
        // Accepted first, then unreserved: a concurrent check sees them twice
        // for an instant (refusing), never not at all.
        self.state.accepted.fetch_add(n, Ordering::AcqRel);
        self.state.reserved.fetch_sub(n, Ordering::AcqRel);
    }

    /// Gives back room taken by `admit` for deliveries that were not stored.
    pub fn release(&self, n: i64) {
        self.state.reserved.fetch_sub(n, Ordering::AcqRel);
    }
}

/// Counts the queue. What was stored before the count began is in it; what
/// is stored while it runs may be counted twice until the next refresh; what
/// is still reserved stays reserved (a count that began before its commit
/// cannot hold it: subtracting it too let the queue pass the bound).
async fn count(state: &State, db: &Db) {
    state.counting.store(true, Ordering::Release);
    let started = now_ms();
    let accepted_before = state.accepted.load(Ordering::Acquire);
    match deliveries::count_queued(db).await {
        Ok(n) => {
            state.counted.store(n, Ordering::Release);
            state.accepted.fetch_sub(accepted_before, Ordering::AcqRel);
            state.counted_at.store(started.max(1), Ordering::Release);
        }
        Err(err) => tracing::warn!(error = %err, "cannot count the delivery queue"),
    }
    state.counting.store(false, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn empty_db() -> Db {
        crate::store::empty_test_db("admission").await
    }

    /// Found by bench_shedding (21,374 queued past a bound of 20,000): a count
    /// that ran while an ingest was storing subtracted that ingest's room.
    #[tokio::test]
    async fn a_count_while_an_ingest_stores_keeps_its_room() {
        let db = empty_db().await;
        let admission = Admission::new(10);
        admission.admit(&db, 6).await.unwrap();
        // The six are not committed yet when a refresh counts the queue.
        count(&admission.state, &db).await;
        assert!(matches!(
            admission.admit(&db, 5).await,
            Err(AppError::QueueFull { .. })
        ));
        admission.admit(&db, 4).await.unwrap();
        admission.release(4);
        // Stored: they count as accepted until a count that sees them.
        admission.stored(6);
        assert!(admission.admit(&db, 5).await.is_err());
        count(&admission.state, &db).await;
        // This database never got the rows, so the count frees the room.
        admission.admit(&db, 10).await.unwrap();
    }
}
