//! SQLite's WAL checkpoints, run beside the writers instead of inside them.
//!
//! By default the connection whose commit takes the WAL past 1,000 pages
//! copies them into the database file (and syncs it) before its commit
//! returns. Here every commit holds this process's write turn (`WriteGate`),
//! so whoever queued behind that commit (a single-event ingest, say) waited
//! for the copy too. One task per pool therefore runs a PASSIVE checkpoint
//! every `EVERY`, outside the write turn: it copies what no reader still
//! needs and never blocks a writer, so the WAL seldom reaches the commit's
//! own threshold. Measured in BENCHMARKS.md ("Checkpoints beside the
//! writers"): the 1,000-a-second latency p99 about halved.
//!
//! The commit's checkpoint stays, at `COMMIT_BOUND_PAGES`, as the WAL's
//! bound. Without it (`wal_autocheckpoint = 0`, the eleventh session), a full
//! disk could stall the database for good: once space came back, writes grew
//! the WAL into it before the task's next turn, and the checkpoint, which must
//! grow the database file, then never found room (RELIABILITY.md, section 3;
//! `outages::sqlite_on_a_full_disk_loses_no_accepted_alert` failed 3 runs in 9).

use sqlx::{SqliteConnection, SqlitePool};
use std::sync::Weak;
use std::time::Duration;

/// The WAL size (pages) past which a commit checkpoints as well: SQLite's default.
pub const COMMIT_BOUND_PAGES: u32 = 1_000;

/// How often the WAL is copied back. At 50 MB/s of writes the WAL grows by
/// 5 MB between two runs, about what SQLite's own 1,000-page default allows.
pub const EVERY: Duration = Duration::from_millis(100);

/// Runs after this many turns without an idle connection wait for one.
const SKIPS: u32 = 10;

/// Runs checkpoints on `pool` until `alive` (the pool's write gate) is
/// dropped with the last `Db` that holds it. A run takes a connection that
/// is idle, and skips its turn when none is: a connection of its own, or one
/// the pool opened for it, is one more SQLite thread with its own caches and
/// malloc arena (peak RSS rose 3 to 6 MiB in `bench_deliveries`, BENCHMARKS.md).
/// After `SKIPS` turns in a row it waits for one, so the WAL stays bounded.
pub fn spawn(pool: SqlitePool, alive: Weak<tokio::sync::Mutex<()>>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut skipped = 0;
        loop {
            every.tick().await;
            if alive.strong_count() == 0 {
                return;
            }
            let conn = match pool.try_acquire() {
                Some(conn) => Ok(conn),
                None if skipped < SKIPS => {
                    skipped += 1;
                    continue;
                }
                None => pool.acquire().await,
            };
            skipped = 0;
            let result = match conn {
                Ok(mut conn) => run(&mut conn).await,
                Err(err) => Err(err),
            };
            if let Err(err) = result {
                tracing::warn!(error = %err, "WAL checkpoint failed; trying again");
            }
        }
    });
}

/// One PASSIVE checkpoint: copies back what no reader still needs.
async fn run(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(conn)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use crate::store::{empty_test_db, pragma_on_pooled_connections, Db};
    use std::time::{Duration, Instant};

    /// Every connection keeps the commit's bound, and the task copies the WAL
    /// back into the database file on its own: 1 MiB is far below that
    /// 1,000-page bound, so nothing else would have copied it before close.
    #[tokio::test]
    async fn the_wal_is_copied_back_beside_the_writers() {
        let db = empty_test_db("checkpoint").await;
        let Db::Sqlite(pool, _) = &db else {
            unreachable!("empty_test_db is SQLite")
        };
        for pages in pragma_on_pooled_connections(&db, "wal_autocheckpoint").await {
            assert_eq!(
                pages,
                i64::from(super::COMMIT_BOUND_PAGES),
                "this connection's WAL has no bound"
            );
        }
        let file = pool.connect_options().get_filename().to_owned();
        let before = std::fs::metadata(&file).unwrap().len();
        sqlx::query("CREATE TABLE filler (b BLOB)")
            .execute(pool)
            .await
            .unwrap();
        for _ in 0..64 {
            sqlx::query("INSERT INTO filler VALUES (randomblob(16384))")
                .execute(pool)
                .await
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let len = std::fs::metadata(&file).unwrap().len();
            if len >= before + 1024 * 1024 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the database file stayed at {len} bytes: no checkpoint ran"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
