//! Destination rows. Secret columns hold sealed values (see `crypto`).

use super::audit::{write_entry, Entry};
use super::{on_db, Db, StoreResult};
use crate::clock::now_ms;
use app::model::AuthKind;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DestinationRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub url: String,
    #[sqlx(try_from = "String")]
    pub auth_type: AuthKind,
    pub auth_header: Option<String>,
    pub auth_secret: Option<String>,
    pub headers: String,
    pub signing_secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub enabled: bool,
    pub last_result_ok: Option<bool>,
    pub last_result_summary: Option<String>,
    pub last_result_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Since when every attempt has failed; `None` after any success.
    pub failing_since: Option<i64>,
    /// `manual` or `auto` while disabled (`DisabledReason`).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<i64>,
    /// Failed attempts since the last successful one (alert deliveries only).
    pub consecutive_failures: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    /// The latest alert-delivery attempt's start.
    pub last_attempt_at: Option<i64>,
}

/// The columns a create or an edit writes.
#[derive(Debug, Clone)]
pub struct DestinationFields {
    pub name: String,
    pub url: String,
    pub auth_type: AuthKind,
    pub auth_header: Option<String>,
    pub auth_secret: Option<String>,
    pub headers: String,
}

const COLUMNS: &str = "id, name, kind, url, auth_type, auth_header, auth_secret, headers, signing_secret, \
    previous_secret, previous_secret_expires_at, enabled, last_result_ok, last_result_summary, last_result_at, \
    created_at, updated_at, failing_since, disabled_reason, disabled_at, consecutive_failures, last_error, \
    last_error_at, last_attempt_at";

pub async fn list(db: &Db) -> StoreResult<Vec<DestinationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM destinations WHERE deleted_at IS NULL ORDER BY LOWER(name), id"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// Up to `limit` live destinations with an id above `after`, by id (the API's cursor pages).
pub async fn after(db: &Db, after: Option<i64>, limit: i64) -> StoreResult<Vec<DestinationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM destinations WHERE deleted_at IS NULL AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(pool).await)?)
}

/// One page of live destinations by name, and how many there are in all.
pub async fn page(db: &Db, limit: i64, offset: i64) -> StoreResult<(Vec<DestinationRow>, i64)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM destinations WHERE deleted_at IS NULL ORDER BY LOWER(name), id LIMIT $1 OFFSET $2"
    );
    let rows =
        on_db!(db, pool => sqlx::query_as(&sql).bind(limit).bind(offset).fetch_all(pool).await)?;
    let (total,): (i64,) = on_db!(db, pool => sqlx::query_as(
        "SELECT COUNT(*) FROM destinations WHERE deleted_at IS NULL").fetch_one(pool).await)?;
    Ok((rows, total))
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<DestinationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM destinations WHERE id = $1 AND deleted_at IS NULL");
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
}

/// Destinations by id, deleted ones included (their history stays readable).
pub async fn by_ids(db: &Db, ids: &[i64]) -> StoreResult<Vec<DestinationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM destinations WHERE id IN ({})",
        super::id_list(ids)
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// Writes the destination and `audit` (about the new row) in one transaction.
pub async fn insert(
    db: &Db,
    f: &DestinationFields,
    signing_secret: &str,
    audit: &Entry,
) -> StoreResult<DestinationRow> {
    let sql = format!(
        "INSERT INTO destinations (name, url, auth_type, auth_header, auth_secret, headers, signing_secret, \
         enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $8) RETURNING {COLUMNS}"
    );
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let row: DestinationRow = sqlx::query_as(&sql)
            .bind(&f.name).bind(&f.url).bind(f.auth_type.as_str()).bind(&f.auth_header).bind(&f.auth_secret)
            .bind(&f.headers).bind(signing_secret).bind(now_ms())
            .fetch_one(&mut *tx).await?;
        write_entry!(&mut *tx, &audit.about(row.id, &row.name))?;
        tx.commit().await?;
        Ok(row)
    })
}

/// Changes the destination and writes `audit` in one transaction; `None` when there is no such live destination.
pub async fn update(
    db: &Db,
    id: i64,
    f: &DestinationFields,
    audit: &Entry,
) -> StoreResult<Option<DestinationRow>> {
    let sql = format!(
        "UPDATE destinations SET name = $1, url = $2, auth_type = $3, auth_header = $4, auth_secret = $5, \
         headers = $6, updated_at = $7 WHERE id = $8 AND deleted_at IS NULL RETURNING {COLUMNS}"
    );
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let row: Option<DestinationRow> = sqlx::query_as(&sql)
            .bind(&f.name).bind(&f.url).bind(f.auth_type.as_str()).bind(&f.auth_header).bind(&f.auth_secret)
            .bind(&f.headers).bind(now_ms()).bind(id)
            .fetch_optional(&mut *tx).await?;
        if let Some(row) = &row {
            write_entry!(&mut *tx, &audit.about(row.id, &row.name))?;
        }
        tx.commit().await?;
        Ok(row)
    })
}

/// Runs `sql` (an `UPDATE destinations ... RETURNING name` whose last
/// parameter is the id, the others given as `binds`) and writes `audit`
/// about the destination in the same transaction. False when no live
/// destination has the id.
macro_rules! change_with_entry {
    ($db:expr, $sql:expr, $id:expr, $audit:expr, $($bind:expr),*) => {
        on_db!($db, pool => {
            let mut tx = pool.begin_with($db.begin_write()).await?;
            let name: Option<(String,)> = sqlx::query_as($sql)
                $(.bind($bind))*.bind($id)
                .fetch_optional(&mut *tx).await?;
            let Some((name,)) = name else {
                return Ok(false);
            };
            write_entry!(&mut *tx, &$audit.about($id, &name))?;
            tx.commit().await?;
            Ok(true)
        })
    };
}

/// Enables or disables a destination by hand, and writes `audit`. Disabling
/// records `manual` and the time (an already disabled one keeps its reason);
/// enabling clears them and `failing_since`, so the auto-disable rule starts afresh.
pub async fn set_enabled(db: &Db, id: i64, enabled: bool, audit: &Entry) -> StoreResult<bool> {
    let sql = if enabled {
        "UPDATE destinations SET enabled = TRUE, disabled_reason = NULL, disabled_at = NULL, \
         failing_since = CASE WHEN enabled THEN failing_since ELSE NULL END, updated_at = $1 \
         WHERE id = $2 AND deleted_at IS NULL RETURNING name"
    } else {
        "UPDATE destinations SET enabled = FALSE, \
         disabled_reason = CASE WHEN enabled THEN 'manual' ELSE disabled_reason END, \
         disabled_at = CASE WHEN enabled THEN $1 ELSE disabled_at END, updated_at = $1 \
         WHERE id = $2 AND deleted_at IS NULL RETURNING name"
    };
    change_with_entry!(db, sql, id, audit, now_ms())
}

pub async fn soft_delete(db: &Db, id: i64, audit: &Entry) -> StoreResult<bool> {
    change_with_entry!(db,
        "UPDATE destinations SET deleted_at = $1, enabled = FALSE WHERE id = $2 AND deleted_at IS NULL RETURNING name",
        id, audit, now_ms())
}

/// Replaces the signing secret, keeping the old one until `expires_at`, and writes `audit`.
pub async fn rotate_secret(
    db: &Db,
    id: i64,
    new_secret: &str,
    previous: &str,
    expires_at: i64,
    audit: &Entry,
) -> StoreResult<bool> {
    change_with_entry!(db,
        "UPDATE destinations SET signing_secret = $1, previous_secret = $2, previous_secret_expires_at = $3, \
         updated_at = $4 WHERE id = $5 AND deleted_at IS NULL RETURNING name",
        id, audit, new_secret, previous, expires_at, now_ms())
}
