//! The audit log's rows: written in the transaction of the change they
//! record (`write_entry!`) or on their own (`insert`), read newest first in
//! cursor pages, pruned by retention.

use super::{affected, on_db, Db, StoreResult};
use app::domain::{ActorKind, AuditAction, ObjectKind};

/// One entry to write. Never holds a secret value: names and ids only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: i64,
    /// `None` when nobody was signed in (the command line, setup, a failed sign-in).
    pub actor_kind: Option<ActorKind>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub address: Option<String>,
    pub action: AuditAction,
    pub object_kind: ObjectKind,
    pub object_id: Option<i64>,
    pub object_name: String,
}

impl Entry {
    /// This entry about the row a create just wrote.
    pub fn about(&self, id: i64, name: &str) -> Entry {
        Entry {
            object_id: Some(id),
            object_name: name.to_owned(),
            ..self.clone()
        }
    }
}

pub(crate) const INSERT_SQL: &str = "INSERT INTO audit_log \
    (at, actor_kind, actor_id, actor_name, action, object_kind, object_id, object_name, address) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Writes `$entry` (a `&Entry`) on `$conn`, inside the caller's transaction:
/// the change and its entry commit together or not at all.
macro_rules! write_entry {
    ($conn:expr, $entry:expr) => {{
        let e: &$crate::store::audit::Entry = $entry;
        sqlx::query($crate::store::audit::INSERT_SQL)
            .bind(e.at)
            .bind(e.actor_kind.map(|k| k.as_str()))
            .bind(e.actor_id)
            .bind(&e.actor_name)
            .bind(e.action.as_str())
            .bind(e.object_kind.as_str())
            .bind(e.object_id)
            .bind(&e.object_name)
            .bind(&e.address)
            .execute($conn)
            .await
    }};
}
pub(crate) use write_entry;

/// An entry about something that changed nothing else (a test, a reveal, a failed sign-in).
pub async fn insert(db: &Db, entry: &Entry) -> StoreResult<()> {
    affected!(db, pool => write_entry!(pool, entry))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub at: i64,
    pub actor_kind: Option<String>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    #[sqlx(try_from = "String")]
    pub action: AuditAction,
    #[sqlx(try_from = "String")]
    pub object_kind: ObjectKind,
    pub object_id: Option<i64>,
    pub object_name: String,
    pub address: Option<String>,
}

/// Which entries a page holds; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub actor: Option<(ActorKind, i64)>,
    pub object: Option<(ObjectKind, Option<i64>)>,
    /// At or after (epoch ms).
    pub since: Option<i64>,
    /// Before (epoch ms).
    pub until: Option<i64>,
    /// Entries with an id below this one (the previous page's last).
    pub before: Option<i64>,
}

/// Newest first, up to `limit` entries. Only the filters given become
/// conditions, so each query can use the index its filters name.
pub async fn page(db: &Db, f: &Filter, limit: i64) -> StoreResult<Vec<EntryRow>> {
    on_db!(db, pool => {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT id, at, actor_kind, actor_id, actor_name, action, object_kind, object_id, object_name, address \
             FROM audit_log WHERE 1 = 1");
        if let Some((kind, id)) = f.actor {
            q.push(" AND actor_kind = ").push_bind(kind.as_str()).push(" AND actor_id = ").push_bind(id);
        }
        if let Some((kind, id)) = f.object {
            q.push(" AND object_kind = ").push_bind(kind.as_str());
            if let Some(id) = id {
                q.push(" AND object_id = ").push_bind(id);
            }
        }
        if let Some(since) = f.since {
            q.push(" AND at >= ").push_bind(since);
        }
        if let Some(until) = f.until {
            q.push(" AND at < ").push_bind(until);
        }
        if let Some(before) = f.before {
            q.push(" AND id < ").push_bind(before);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
        Ok(q.build_query_as().fetch_all(pool).await?)
    })
}

/// Deletes up to `batch` entries older than `cutoff`; returns how many.
pub async fn prune(db: &Db, cutoff: i64, batch: i64) -> StoreResult<u64> {
    let _turn = db.write_turn().await;
    Ok(affected!(db, pool => sqlx::query(
        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)")
        .bind(cutoff).bind(batch).execute(pool).await)?)
}
