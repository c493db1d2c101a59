//! The audit log as Settings -> Audit log and `GET /api/v1/audit-log` show it.

use crate::domain::{ActorKind, AuditAction, ObjectKind};
use serde::{Deserialize, Serialize};

/// Who acted. An entry has none when nobody was signed in: the command line,
/// first-run setup, a failed sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditActor {
    pub kind: ActorKind,
    pub id: i64,
    /// A user's email or an API key's name, as it was at the time.
    pub name: String,
}

impl AuditActor {
    /// `user:3`, as the `actor` filter takes it.
    pub fn filter_value(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.id)
    }
}

/// What an action was done to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditObject {
    pub kind: ObjectKind,
    /// `None` for a thing without a stored id (a test of an unsaved destination,
    /// a sign-in to an account that does not exist, an address).
    pub id: Option<i64>,
    /// Its name when the action was done.
    pub name: String,
}

impl AuditObject {
    /// `destination:4` (or `destination` without an id), as the `object` filter takes it.
    pub fn filter_value(&self) -> String {
        match self.id {
            Some(id) => format!("{}:{id}", self.kind.as_str()),
            None => self.kind.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub at: i64,
    pub actor: Option<AuditActor>,
    pub action: AuditAction,
    pub object: AuditObject,
    /// The client's network address, when the action came over the network.
    pub address: Option<String>,
}

/// The filters as given (query string or form): parsed by the server, which
/// names every bad one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// `user:<id>` or `api_key:<id>`.
    pub actor: Option<String>,
    /// An object kind (`destination`), or a kind and an id (`destination:4`).
    pub object: Option<String>,
    /// RFC 3339; entries at or after it.
    pub since: Option<String>,
    /// RFC 3339; entries before it.
    pub until: Option<String>,
    /// Opaque: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AuditFilter {
    pub fn is_filtered(&self) -> bool {
        [&self.actor, &self.object, &self.since, &self.until]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
    }
}

pub const AUDIT_ENTRIES_PER_PAGE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    pub next_cursor: Option<String>,
}

/// What Settings -> Audit log shows: a page, and the actors its filter offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogData {
    pub page: AuditPage,
    pub actors: Vec<AuditActor>,
}
