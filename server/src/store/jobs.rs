//! Background jobs (`jobs`): a bulk redelivery works through the failed
//! deliveries its filter matched, in id order, one batch per transaction.
//! Each batch queues again only what is still failed (and failed before the
//! job was created) and moves `done` and `after_id` in the same transaction,
//! so a crash between batches neither queues a delivery twice nor loses
//! progress. A process holds a running job by a lease, like a delivery.

use super::audit::{write_entry, Entry};
use super::deliveries::{bind_params, filter_sql, Param, NOTIFY_CHANNEL, NOTIFY_SQL};
use super::{id_list, on_db, Db, StoreError, StoreResult};
use crate::domain::delivery_filter::ValidFilter;
use app::model::JobState;

/// The tables a job's statements read: the filter is on `deliveries` alone
/// (see `filter_sql`), the destination must be live.
const FROM: &str = " FROM deliveries d JOIN destinations t ON t.id = d.destination_id";

const COLUMNS: &str = "id, kind, state, filter_json, total, done, after_id, max_delivery_id, \
    created_by_name, created_at, started_at, finished_at, error";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    #[sqlx(try_from = "String")]
    pub state: JobState,
    pub filter_json: String,
    pub total: i64,
    pub done: i64,
    pub after_id: i64,
    pub max_delivery_id: i64,
    pub created_by_name: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
}

/// The filter's WHERE clause with the job's own conditions after it: failed
/// deliveries of live destinations, with ids in `(after, upto]`, that failed
/// (were last changed) at or before the job's creation. Those three values
/// are bound after the filter's, in that order.
fn job_where(db: &Db, filter: &ValidFilter) -> (String, Vec<Param>) {
    let (cond, params) = filter_sql(db, filter);
    let n = params.len();
    let joiner = if cond.is_empty() { " WHERE" } else { " AND" };
    let sql = format!(
        "{cond}{joiner} d.status = 'failed' AND t.deleted_at IS NULL \
         AND d.id > ${} AND d.id <= ${} AND d.updated_at <= ${}",
        n + 1,
        n + 2,
        n + 3
    );
    (sql, params)
}

/// The highest delivery id now (0 when there is none).
pub async fn max_delivery_id(db: &Db) -> StoreResult<i64> {
    let (max,): (Option<i64>,) = on_db!(db, pool => sqlx::query_as("SELECT MAX(id) FROM deliveries")
        .fetch_one(pool).await)?;
    Ok(max.unwrap_or(0))
}

/// How many failed deliveries of live destinations the filter matches with
/// ids up to `upto` that failed at or before `at` (all of them: a refusal over
/// the cap says how many).
pub async fn count_matching(db: &Db, filter: &ValidFilter, upto: i64, at: i64) -> StoreResult<i64> {
    let (cond, params) = job_where(db, filter);
    let sql = format!("SELECT COUNT(*){FROM}{cond}");
    let (count,): (i64,) = on_db!(db, pool => {
        let query = bind_params!(sqlx::query_as(&sql), &params);
        query.bind(0_i64).bind(upto).bind(at).fetch_one(pool).await
    })?;
    Ok(count)
}

/// A job to create.
pub struct NewJob<'a> {
    pub filter_json: &'a str,
    pub total: i64,
    pub max_delivery_id: i64,
    pub created_by: &'a Entry,
    pub now: i64,
}

/// Why a job was not created.
#[derive(Debug)]
pub enum NotCreated {
    /// An active job has the same filter: its id.
    Running(i64),
    Store(StoreError),
}

impl From<sqlx::Error> for NotCreated {
    fn from(err: sqlx::Error) -> Self {
        NotCreated::Store(err.into())
    }
}

/// Creates a queued redelivery job and writes `audit` about it in the same
/// transaction. The unique index on active filters decides between two
/// starts of the same job at once: the second gets the first's id.
pub async fn create(db: &Db, job: &NewJob<'_>, audit: &Entry) -> Result<JobRow, NotCreated> {
    let insert = format!(
        "INSERT INTO jobs (kind, state, filter_json, total, max_delivery_id, created_by_kind, \
         created_by_id, created_by_name, created_at) \
         VALUES ('redeliver', 'queued', $1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let by = job.created_by;
    let turn = db.write_turn().await;
    let created: Result<JobRow, sqlx::Error> = on_db!(db, pool => async {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let row: JobRow = sqlx::query_as(&insert)
            .bind(job.filter_json).bind(job.total).bind(job.max_delivery_id)
            .bind(by.actor_kind.map(|k| k.as_str())).bind(by.actor_id).bind(&by.actor_name)
            .bind(job.now)
            .fetch_one(&mut *tx).await?;
        write_entry!(&mut *tx, &audit.about(row.id, &audit.object_name))?;
        tx.commit().await?;
        Ok(row)
    }.await);
    drop(turn);
    match created {
        Ok(row) => Ok(row),
        Err(err) => {
            let err = StoreError::from(err);
            if !err.is_unique_violation() {
                return Err(NotCreated::Store(err));
            }
            match active_with_filter(db, job.filter_json).await {
                Ok(Some(id)) => Err(NotCreated::Running(id)),
                Ok(None) => Err(NotCreated::Store(err)),
                Err(e) => Err(NotCreated::Store(e)),
            }
        }
    }
}

/// The active (queued or running) job with this filter, if any.
pub async fn active_with_filter(db: &Db, filter_json: &str) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id FROM jobs WHERE filter_json = $1 AND state IN ('queued', 'running')")
        .bind(filter_json).fetch_optional(pool).await)?;
    Ok(row.map(|(id,)| id))
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<JobRow>> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
}

/// Takes the oldest active job whose lease is free (or already ours) and
/// marks it running under `owner` until `lease_until`. On SQLite, with one
/// process per database, a lease left by a killed process is free at once.
pub async fn claim(
    db: &Db,
    owner: &str,
    lease_until: i64,
    now: i64,
) -> StoreResult<Option<JobRow>> {
    let (free, lock) = if db.is_postgres() {
        (
            "(lease_until IS NULL OR lease_until <= $3 OR lease_owner = $1)",
            " FOR UPDATE SKIP LOCKED",
        )
    } else {
        ("TRUE", "")
    };
    // A read first: an idle runner looks every second, and should not write to do so.
    let any: Option<(i64,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT id FROM jobs WHERE state IN ('queued', 'running') LIMIT 1")
        .fetch_optional(pool).await)?;
    if any.is_none() {
        return Ok(None);
    }
    let sql = format!(
        "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, \
         started_at = COALESCE(started_at, $3) \
         WHERE id = (SELECT id FROM jobs WHERE state IN ('queued', 'running') AND {free} \
                     ORDER BY id LIMIT 1{lock}) \
         RETURNING {COLUMNS}"
    );
    let _turn = db.write_turn().await;
    Ok(on_db!(db, pool => sqlx::query_as(&sql)
        .bind(owner).bind(lease_until).bind(now).fetch_optional(pool).await)?)
}

/// What one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// Deliveries looked at and how many of them were queued again.
    Progress { looked_at: usize, queued: u64 },
    /// Nothing left: the job is done.
    Finished,
    /// The job is no longer ours to run (cancelled, or its lease was taken).
    Stopped,
}

/// One batch of a job: up to `size` matching deliveries after its cursor,
/// queued again as retries (behind first attempts, with a fresh schedule),
/// with the job's progress, in one transaction.
pub async fn run_batch(
    db: &Db,
    job: &JobRow,
    filter: &ValidFilter,
    owner: &str,
    size: i64,
    lease_until: i64,
    now: i64,
) -> StoreResult<Batch> {
    let (cond, params) = job_where(db, filter);
    let select = format!(
        "SELECT d.id, d.destination_id{}{cond} ORDER BY d.id LIMIT {size}",
        FROM
    );
    let lock = if db.is_postgres() { " FOR SHARE" } else { "" };
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let ours = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND state = 'running' AND lease_owner = $3")
            .bind(lease_until).bind(job.id).bind(owner).execute(&mut *tx).await?.rows_affected();
        if ours != 1 {
            tx.rollback().await?;
            return Ok(Batch::Stopped);
        }
        let (after,): (i64,) = sqlx::query_as("SELECT after_id FROM jobs WHERE id = $1")
            .bind(job.id).fetch_one(&mut *tx).await?;
        let found: Vec<(i64, i64)> = bind_params!(sqlx::query_as(&select), &params)
            .bind(after).bind(job.max_delivery_id).bind(job.created_at)
            .fetch_all(&mut *tx).await?;
        let Some(&(last, _)) = found.last() else {
            sqlx::query("UPDATE jobs SET state = 'done', finished_at = $1, lease_owner = NULL, \
                         lease_until = NULL WHERE id = $2")
                .bind(now).bind(job.id).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(Batch::Finished);
        };
        // Destinations deleted meanwhile are skipped; on Postgres the share
        // lock makes a concurrent delete wait for this batch (then its
        // clean-up fails what was queued), or this batch see the delete.
        let mut destinations: Vec<i64> = found.iter().map(|(_, d)| *d).collect();
        destinations.sort_unstable();
        destinations.dedup();
        let live: Vec<(i64,)> = sqlx::query_as(&format!(
            "SELECT id FROM destinations WHERE id IN ({}) AND deleted_at IS NULL{lock}",
            id_list(&destinations)))
            .fetch_all(&mut *tx).await?;
        let ids: Vec<i64> = found.iter()
            .filter(|(_, d)| live.iter().any(|(l,)| l == d))
            .map(|(id, _)| *id).collect();
        let queued = if ids.is_empty() {
            0
        } else {
            sqlx::query(&format!(
                "UPDATE deliveries SET status = 'pending', failures = 0, retry = TRUE, next_attempt_at = $1, \
                 lease_owner = NULL, lease_until = NULL, updated_at = $1 \
                 WHERE status = 'failed' AND updated_at <= $2 AND id IN ({})", id_list(&ids)))
                .bind(now).bind(job.created_at).execute(&mut *tx).await?.rows_affected()
        };
        sqlx::query("UPDATE jobs SET after_id = $1, done = done + $2 WHERE id = $3")
            .bind(last).bind(i64::try_from(queued).unwrap_or(0)).bind(job.id)
            .execute(&mut *tx).await?;
        if db.is_postgres() && queued > 0 {
            sqlx::query(NOTIFY_SQL).bind(NOTIFY_CHANNEL).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Batch::Progress { looked_at: found.len(), queued })
    })
}

/// Ends an active job as `state` with `reason`; false when it was not active.
pub async fn end(db: &Db, id: i64, state: JobState, reason: &str, now: i64) -> StoreResult<bool> {
    let _turn = db.write_turn().await;
    let n = super::affected!(db, pool => sqlx::query(
        "UPDATE jobs SET state = $1, error = $2, finished_at = $3, lease_owner = NULL, lease_until = NULL \
         WHERE id = $4 AND state IN ('queued', 'running')")
        .bind(state.as_str()).bind(reason).bind(now).bind(id).execute(pool).await)?;
    Ok(n == 1)
}

/// Cancels an active job and writes `audit` in the same transaction; false
/// when it was not active (already finished).
pub async fn cancel(db: &Db, id: i64, reason: &str, now: i64, audit: &Entry) -> StoreResult<bool> {
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let n = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', error = $1, finished_at = $2, lease_owner = NULL, \
             lease_until = NULL WHERE id = $3 AND state IN ('queued', 'running')")
            .bind(reason).bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_entry!(&mut *tx, audit)?;
        tx.commit().await?;
        Ok(true)
    })
}

/// Gives back the jobs this process runs (at shutdown): another process, or
/// this one after a restart, resumes them from their cursor.
pub async fn release(db: &Db, owner: &str) -> StoreResult<u64> {
    let _turn = db.write_turn().await;
    Ok(super::affected!(db, pool => sqlx::query(
        "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 AND state = 'running'")
        .bind(owner).execute(pool).await)?)
}

/// Jobs by state, for `/metrics`.
pub async fn counts(db: &Db) -> StoreResult<Vec<(String, i64)>> {
    Ok(
        on_db!(db, pool => sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        .fetch_all(pool).await)?,
    )
}
