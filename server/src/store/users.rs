use super::{affected, on_db, Db, StoreResult};
use crate::clock::now_ms;
use app::domain::Role;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub active: bool,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, password_hash, role, active, created_at";

pub async fn any_exist(db: &Db) -> StoreResult<bool> {
    let row: Option<(i64,)> = on_db!(db, pool => sqlx::query_as("SELECT id FROM users LIMIT 1").fetch_optional(pool).await)?;
    Ok(row.is_some())
}

pub async fn by_email(db: &Db, email: &str) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(email).fetch_optional(pool).await)?)
}

pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
}

pub async fn list(db: &Db) -> StoreResult<Vec<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY email");
    Ok(on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

pub async fn insert(db: &Db, email: &str, password_hash: &str, role: Role) -> StoreResult<UserRow> {
    let sql = format!(
        "INSERT INTO users (email, password_hash, role, active, created_at, updated_at) \
         VALUES ($1, $2, $3, TRUE, $4, $4) RETURNING {COLUMNS}"
    );
    let now = now_ms();
    Ok(on_db!(db, pool => sqlx::query_as(&sql)
        .bind(email).bind(password_hash).bind(role.as_str()).bind(now)
        .fetch_one(pool).await)?)
}

/// Inserts the first admin and marks setup done in one transaction; the
/// `instance` primary key makes a second, concurrent setup fail.
pub async fn insert_first_admin(
    db: &Db,
    email: &str,
    password_hash: &str,
) -> StoreResult<Option<UserRow>> {
    let now = now_ms();
    let sql = format!(
        "INSERT INTO users (email, password_hash, role, active, created_at, updated_at) \
         VALUES ($1, $2, 'admin', TRUE, $3, $3) RETURNING {COLUMNS}"
    );
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let claimed = sqlx::query("INSERT INTO instance (id, setup_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let row: UserRow = sqlx::query_as(&sql).bind(email).bind(password_hash).bind(now)
            .fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(row))
    })
}

pub async fn set_role(db: &Db, id: i64, role: Role) -> StoreResult<bool> {
    let done = affected!(db, pool => sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
        .bind(role.as_str()).bind(now_ms()).bind(id).execute(pool).await)?;
    Ok(done == 1)
}

pub async fn set_active(db: &Db, id: i64, active: bool) -> StoreResult<bool> {
    let done = affected!(db, pool => sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(active).bind(now_ms()).bind(id).execute(pool).await)?;
    Ok(done == 1)
}

pub async fn set_password_hash(db: &Db, id: i64, hash: &str) -> StoreResult<()> {
    affected!(db, pool => sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash).bind(now_ms()).bind(id).execute(pool).await)?;
    Ok(())
}

/// Active admins other than `except`: the last one must not lose the role.
pub async fn count_other_active_admins(db: &Db, except: i64) -> StoreResult<i64> {
    let (count,): (i64,) = on_db!(db, pool => sqlx::query_as(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = TRUE AND id <> $1")
        .bind(except).fetch_one(pool).await)?;
    Ok(count)
}
