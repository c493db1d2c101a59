use super::audit::{write_entry, Entry};
use super::{affected, on_db, Db, StoreResult};
use crate::clock::now_ms;
use app::domain::KeyRole;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    #[sqlx(try_from = "String")]
    pub role: KeyRole,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, name, prefix, role, created_at, last_used_at, revoked_at";

pub async fn insert(
    db: &Db,
    name: &str,
    prefix: &str,
    key_hash: &str,
    role: KeyRole,
    created_by: Option<i64>,
    audit: &Entry,
) -> StoreResult<ApiKeyRow> {
    let sql = format!(
        "INSERT INTO api_keys (name, prefix, key_hash, role, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let row: ApiKeyRow = sqlx::query_as(&sql)
            .bind(name).bind(prefix).bind(key_hash).bind(role.as_str()).bind(created_by).bind(now_ms())
            .fetch_one(&mut *tx).await?;
        write_entry!(&mut *tx, &audit.about(row.id, &row.name))?;
        tx.commit().await?;
        Ok(row)
    })
}

/// Up to `limit` keys with an id above `after`, by id (the API's cursor pages).
pub async fn after(db: &Db, after: Option<i64>, limit: i64) -> StoreResult<Vec<ApiKeyRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(pool).await)?)
}

pub async fn list(db: &Db) -> StoreResult<Vec<ApiKeyRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// A live key, and the configuration generation read in the same statement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveKey {
    #[sqlx(flatten)]
    pub key: ApiKeyRow,
    pub generation: i64,
}

/// The live (not revoked) key with this hash, with the configuration
/// generation (`store::generation`): ingest needs both, and one statement
/// is one round trip fewer on its path (issue 11).
pub async fn live_by_hash(db: &Db, key_hash: &str) -> StoreResult<Option<LiveKey>> {
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT n FROM config_generation WHERE id = 1) AS generation \
         FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(key_hash).fetch_optional(pool).await)?)
}

pub async fn touch(db: &Db, id: i64, at_ms: i64) -> StoreResult<()> {
    affected!(db, pool => sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
        .bind(at_ms).bind(id).execute(pool).await)?;
    Ok(())
}

/// Revokes a live key and writes `audit` about it; false when there is no such live key.
pub async fn revoke(db: &Db, id: i64, audit: &Entry) -> StoreResult<bool> {
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let name: Option<(String,)> = sqlx::query_as(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING name")
            .bind(now_ms()).bind(id).fetch_optional(&mut *tx).await?;
        let Some((name,)) = name else {
            return Ok(false);
        };
        write_entry!(&mut *tx, &audit.about(id, &name))?;
        tx.commit().await?;
        Ok(true)
    })
}
