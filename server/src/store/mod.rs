//! Storage over sqlx for SQLite (the embedded default) and PostgreSQL.
//!
//! Queries are written once in the SQL both dialects share (`$n` parameters
//! in order, `RETURNING`, `ON CONFLICT`) and run on whichever pool is open.

pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod auth_attempts;
pub mod auto_disable;
pub mod checkpoint;
pub mod deliveries;
pub mod destinations;
pub mod files;
pub mod generation;
pub mod health;
pub mod ingest;
pub mod jobs;
pub mod live;
pub mod notifications;
pub mod retention;
pub mod rules;
pub mod users;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not create the database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("could not make the database file {path} private: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

impl StoreError {
    /// True when the statement broke a UNIQUE or PRIMARY KEY constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sqlx(sqlx::Error::Database(db)) if db.is_unique_violation())
    }

    /// True when the database cannot be reached or cannot write just now
    /// (down, restarting, out of connections, a full disk): the same request
    /// may succeed later, so callers answer "try again", not "broken".
    /// PostgreSQL: connection exceptions (08), insufficient resources (53),
    /// shutdown and start-up (57P0x). SQLite (the primary code is the low
    /// byte of the extended one): BUSY past the busy timeout (5), IOERR (10),
    /// FULL (13), CANTOPEN (14).
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Sqlx(err) = self else {
            return false;
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    code.parse::<i32>()
                        .is_ok_and(|c| matches!(c & 0xff, 5 | 10 | 13 | 14))
                } else {
                    ["08", "53", "57P0"]
                        .iter()
                        .any(|class| code.starts_with(class))
                }
            }
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How long a request waits for a PostgreSQL connection. While the server is
/// down the pool keeps trying to connect until then, so this is how soon a
/// request learns the database is unavailable (and answers 503).
pub const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// An open connection pool to one of the two supported engines.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, WriteGate),
    Postgres(PgPool),
}

/// SQLite takes one writer at a time, and a writer that finds the database
/// locked sleeps in growing steps (1 ms up to 100 ms) before it tries again.
/// The busy paths (ingest, claims, attempt records) queue here instead, so
/// within a process they never meet a locked database.
#[derive(Clone, Debug, Default)]
pub struct WriteGate(std::sync::Arc<tokio::sync::Mutex<()>>);

/// Held while writing; `None` on Postgres, which needs no gate.
pub type WriteTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

/// Whether a multi-row statement of `rows` rows, written in chunks of `full`
/// (0 when not chunked), stays prepared on its connection. Each row count is
/// its own SQL text: cached, the one-off sizes of the record and ingest writes
/// filled every connection's statement cache with large compiled programs
/// (a third of the server's peak memory, BENCHMARKS.md "Peak RSS"). The
/// common sizes stay cached: small batches and full chunks.
pub fn keep_prepared(rows: usize, full: usize) -> bool {
    rows <= 16 || rows == full
}

/// The alias of a `VALUES` list of `columns` columns in `UPDATE … FROM (VALUES …)`:
/// SQLite names them `column1`, `column2`, …; PostgreSQL only when the alias lists them.
pub fn values_alias(db: &Db, columns: usize) -> String {
    if db.is_postgres() {
        let names: Vec<String> = (1..=columns).map(|n| format!("column{n}")).collect();
        format!(" AS v({})", names.join(", "))
    } else {
        " AS v".to_owned()
    }
}

/// Text no row can hold: PostgreSQL neither stores nor compares a NUL (asking
/// is an error, not "none"), so a lookup by such a key finds nothing.
pub fn unstorable(text: &str) -> bool {
    text.contains('\0')
}

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool, _) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Like `on_db!` for a statement: evaluates to its rows-affected count.
macro_rules! affected {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool, _) => $body.map(|done| done.rows_affected()),
            $crate::store::Db::Postgres($pool) => $body.map(|done| done.rows_affected()),
        }
    };
}
pub(crate) use affected;

/// Each SQLite connection's page cache, in KiB (SQLite's default is 2,000),
/// and how many prepared statements sqlx keeps on it (its default is 100).
/// With the defaults, 8 connections held about 30 MiB that the benchmarks
/// never missed: peak RSS 88 to 92 MiB against 55 with these (BENCHMARKS.md,
/// "Peak RSS"). The hot statements and pages stay cached.
const SQLITE_CACHE_KIB: u32 = 512;
const SQLITE_STATEMENTS: usize = 32;

/// A validated database location.
#[derive(Clone, Debug)]
pub enum DbTarget {
    Sqlite(SqliteConnectOptions),
    Postgres(PgConnectOptions),
}

impl DbTarget {
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)
                .map(DbTarget::Sqlite)
                .map_err(|e| e.to_string())
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url)
                .map(DbTarget::Postgres)
                .map_err(|e| e.to_string())
        } else {
            Err("expected sqlite://PATH or postgres://USER@HOST/DB".into())
        }
    }
}

impl Db {
    pub async fn connect(target: &DbTarget) -> StoreResult<Self> {
        match target {
            DbTarget::Sqlite(options) => {
                files::create_private(options)?;
                let options = options
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
                    // Checkpoints run beside the writers (`checkpoint.rs`);
                    // the commit's own checkpoint stays as the WAL's bound.
                    .pragma(
                        "wal_autocheckpoint",
                        checkpoint::COMMIT_BOUND_PAGES.to_string(),
                    )
                    .statement_cache_capacity(SQLITE_STATEMENTS);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .before_acquire(|conn, _| Box::pin(async move { Ok(out_of_transaction(conn)) }))
                    .connect_with(options)
                    .await?;
                let gate = WriteGate::default();
                checkpoint::spawn(pool.clone(), std::sync::Arc::downgrade(&gate.0));
                Ok(Db::Sqlite(pool, gate))
            }
            DbTarget::Postgres(options) => {
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(PG_ACQUIRE_TIMEOUT)
                    .connect_with(options.clone())
                    .await?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite(pool, _) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// How a writing transaction starts: SQLite takes its write lock at once,
    /// so two writers queue on `busy_timeout` instead of failing to upgrade.
    pub fn begin_write(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "BEGIN IMMEDIATE",
            Db::Postgres(_) => "BEGIN",
        }
    }

    /// Waits for this process's turn to write (SQLite only).
    pub async fn write_turn(&self) -> WriteTurn {
        match self {
            Db::Sqlite(_, gate) => Some(gate.0.clone().lock_owned().await),
            Db::Postgres(_) => None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    pub async fn ping(&self) -> StoreResult<()> {
        affected!(self, pool => sqlx::query("SELECT 1").execute(pool).await)?;
        Ok(())
    }

    /// Bytes free for the SQLite database on its filesystem (`None` on
    /// PostgreSQL, for an in-memory database, or when it cannot be read).
    /// A read succeeds on a full disk, so this is how health sees one.
    pub fn free_disk_bytes(&self) -> Option<u64> {
        let Db::Sqlite(pool, _) = self else {
            return None;
        };
        let options = pool.connect_options();
        let file = options.get_filename();
        let name = file.to_string_lossy();
        if name == ":memory:" || name.contains("mode=memory") {
            return None;
        }
        let dir = match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => std::path::Path::new("."),
        };
        let stat = rustix::fs::statvfs(dir).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

/// False for a connection sqlx still counts inside a transaction. A write that
/// fails on a full disk makes SQLite roll back on its own; the ROLLBACK sqlx
/// sends when the transaction is dropped then fails, its count stays at one,
/// and every later `BEGIN IMMEDIATE` on that connection would fail (sqlx 0.8.6):
/// the pool closes such a connection instead of handing it out again.
fn out_of_transaction(conn: &sqlx::SqliteConnection) -> bool {
    use sqlx::TransactionManager;
    sqlx::sqlite::SqliteTransactionManager::get_transaction_depth(conn) == 0
}

/// `1,2,3` for an `IN (...)`: integers only, so nothing to escape.
pub fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Runs one statement, for unit tests that set rows up by hand.
#[cfg(test)]
pub(crate) async fn test_exec(db: &Db, sql: &str) {
    affected!(db, pool => sqlx::query(sql).execute(pool).await).unwrap();
}

/// A fresh, migrated SQLite database in the temporary directory, for unit
/// tests; `name` keeps the files of different tests apart.
#[cfg(test)]
pub(crate) async fn empty_test_db(name: &str) -> Db {
    // Tests of one module run in parallel, often within the same millisecond.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "alertwire_{name}_{}_{}_{}.db",
        std::process::id(),
        crate::clock::now_ms(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let target = DbTarget::parse(&format!("sqlite://{}", path.display())).unwrap();
    let db = Db::connect(&target).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// `PRAGMA <name>` read on three pooled connections held at once, so each
/// value comes from a different connection, not the first one again.
#[cfg(test)]
pub(crate) async fn pragma_on_pooled_connections(db: &Db, name: &str) -> Vec<i64> {
    let Db::Sqlite(pool, _) = db else {
        unreachable!("pragmas are SQLite's")
    };
    let mut held = Vec::new();
    let mut values = Vec::new();
    for _ in 0..3 {
        let mut conn = pool.acquire().await.unwrap();
        let (value,): (i64,) = sqlx::query_as(&format!("PRAGMA {name}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        values.push(value);
        held.push(conn);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pooled SQLite connection gets the smaller page cache, not only
    /// the first one opened.
    #[tokio::test]
    async fn each_sqlite_connection_has_the_smaller_page_cache() {
        let db = empty_test_db("cache_size").await;
        for kib in pragma_on_pooled_connections(&db, "cache_size").await {
            assert_eq!(kib, -i64::from(SQLITE_CACHE_KIB));
        }
    }

    #[test]
    fn small_batches_and_full_chunks_stay_prepared() {
        assert!(keep_prepared(1, 200));
        assert!(keep_prepared(16, 200));
        assert!(!keep_prepared(17, 200));
        assert!(!keep_prepared(199, 200));
        assert!(keep_prepared(200, 200));
    }
}
