use super::audit::{write_entry, Entry};
use super::{on_db, Db, StoreResult};
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
    /// Sessions signed in under another epoch are ended.
    pub session_epoch: i64,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, password_hash, role, active, session_epoch, created_at";

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

/// Up to `limit` users with an id above `after`, by id (the API's cursor pages).
pub async fn after(db: &Db, after: Option<i64>, limit: i64) -> StoreResult<Vec<UserRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM users WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2");
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(pool).await)?)
}

pub async fn list(db: &Db) -> StoreResult<Vec<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY email");
    Ok(on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// Inserts the user and writes `audit` about them in one transaction.
pub async fn insert(
    db: &Db,
    email: &str,
    password_hash: &str,
    role: Role,
    audit: &Entry,
) -> StoreResult<UserRow> {
    let sql = format!(
        "INSERT INTO users (email, password_hash, role, active, created_at, updated_at) \
         VALUES ($1, $2, $3, TRUE, $4, $4) RETURNING {COLUMNS}"
    );
    let now = now_ms();
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let row: UserRow = sqlx::query_as(&sql)
            .bind(email).bind(password_hash).bind(role.as_str()).bind(now)
            .fetch_one(&mut *tx).await?;
        write_entry!(&mut *tx, &audit.about(row.id, &row.email))?;
        tx.commit().await?;
        Ok(row)
    })
}

/// Inserts the first admin and marks setup done in one transaction; the
/// `instance` primary key makes a second, concurrent setup fail.
pub async fn insert_first_admin(
    db: &Db,
    email: &str,
    password_hash: &str,
    audit: &Entry,
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
        write_entry!(&mut *tx, &audit.about(row.id, &row.email))?;
        tx.commit().await?;
        Ok(Some(row))
    })
}

/// What a change of role or activation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    Done,
    NoSuchUser,
    /// Refused: it would leave no active admin.
    LastAdmin,
}

/// Changes a user's role and/or activation, and ends their sessions, unless
/// that would leave no active admin; writes `audit` about the user with the
/// change. The active admins are locked first, so two admins demoting each
/// other at once cannot both succeed.
pub async fn change_access(
    db: &Db,
    id: i64,
    role: Option<Role>,
    active: Option<bool>,
    audit: &Entry,
) -> StoreResult<AccessChange> {
    let lock = if db.is_postgres() { " FOR UPDATE" } else { "" };
    let admins_sql = format!("SELECT id FROM users WHERE role = 'admin' AND active = TRUE{lock}");
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let admins: Vec<(i64,)> = sqlx::query_as(&admins_sql).fetch_all(&mut *tx).await?;
        let target: Option<UserRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id).fetch_optional(&mut *tx).await?;
        let Some(target) = target else {
            return Ok(AccessChange::NoSuchUser);
        };
        let role = role.unwrap_or(target.role);
        let active = active.unwrap_or(target.active);
        let was_admin = admins.iter().any(|(a,)| *a == id);
        if was_admin && !(role == Role::Admin && active) && admins.len() <= 1 {
            return Ok(AccessChange::LastAdmin);
        }
        sqlx::query("UPDATE users SET role = $1, active = $2, session_epoch = session_epoch + 1, updated_at = $3 WHERE id = $4")
            .bind(role.as_str()).bind(active).bind(now_ms()).bind(id)
            .execute(&mut *tx).await?;
        write_entry!(&mut *tx, &audit.about(id, &target.email))?;
        tx.commit().await?;
        Ok(AccessChange::Done)
    })
}

/// Sets a new password hash and ends the user's sessions, and writes `audit`
/// about the user; returns the new epoch.
pub async fn set_password_hash(db: &Db, id: i64, hash: &str, audit: &Entry) -> StoreResult<i64> {
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let (epoch, email): (i64, String) = sqlx::query_as(
            "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1, updated_at = $2 \
             WHERE id = $3 RETURNING session_epoch, email")
            .bind(hash).bind(now_ms()).bind(id).fetch_one(&mut *tx).await?;
        write_entry!(&mut *tx, &audit.about(id, &email))?;
        tx.commit().await?;
        Ok(epoch)
    })
}
