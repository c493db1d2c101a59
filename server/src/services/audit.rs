//! The audit log: who (a user or an API key, or nobody signed in) did what to
//! which object, when, and from which address. The edges (the REST API's key
//! extractors, the pages' backend, the command line) say who acts with an
//! `Actor`; the mutations that must be audited take it and write their entry,
//! in the transaction of the change where the change has one.
//!
//! Entries hold names and ids only, never a secret value: no password, token,
//! API key, signing secret or header value goes into an `AuditObject`.

use super::{internal, Services};
use crate::clock::now_ms;
use crate::domain::audit_filter::{parse as parse_filter, ValidAuditFilter};
use crate::store::audit::{self as rows, Entry, EntryRow, Filter};
use app::domain::{ActorKind, AuditAction, ObjectKind};
use app::error::AppError;
use app::model::{AuditActor, AuditEntryView, AuditFilter, AuditObject, AuditPage};
use std::net::IpAddr;

/// Who asks for a change, as the audit log records it. Built at the edge:
/// services know nothing of requests, only this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `None` when nobody is signed in (first-run setup, a sign-in attempt,
    /// the command line).
    pub kind: Option<ActorKind>,
    pub id: Option<i64>,
    /// A user's email, an API key's name, or what acted without signing in.
    pub name: String,
    /// The client's peer address, when the request came over the network.
    pub address: Option<IpAddr>,
}

impl Actor {
    pub fn user(id: i64, email: &str, address: Option<IpAddr>) -> Self {
        Actor {
            kind: Some(ActorKind::User),
            id: Some(id),
            name: email.to_owned(),
            address,
        }
    }

    pub fn api_key(id: i64, name: &str, address: Option<IpAddr>) -> Self {
        Actor {
            kind: Some(ActorKind::ApiKey),
            id: Some(id),
            name: name.to_owned(),
            address,
        }
    }

    /// Somebody not signed in: first-run setup, a sign-in attempt.
    pub fn anonymous(address: Option<IpAddr>) -> Self {
        Actor {
            kind: None,
            id: None,
            name: String::new(),
            address,
        }
    }

    /// `server create-user`, `server create-api-key`: whoever has the machine.
    pub fn command_line() -> Self {
        Actor {
            kind: None,
            id: None,
            name: "command line".into(),
            address: None,
        }
    }

    /// The signed-in user's id; `None` for an API key or nobody.
    pub fn user_id(&self) -> Option<i64> {
        (self.kind == Some(ActorKind::User))
            .then_some(self.id)
            .flatten()
    }

    /// The entry recording `action` on `object` by this actor, now.
    pub fn entry(&self, action: AuditAction, object: AuditObject) -> Entry {
        Entry {
            at: now_ms(),
            actor_kind: self.kind,
            actor_id: self.id,
            actor_name: self.name.clone(),
            address: self.address.map(|ip| ip.to_string()),
            action,
            object_kind: object.kind,
            object_id: object.id,
            object_name: object.name,
        }
    }
}

/// An object of `kind` with an id and a name.
pub fn object(kind: ObjectKind, id: i64, name: &str) -> AuditObject {
    AuditObject {
        kind,
        id: Some(id),
        name: name.to_owned(),
    }
}

/// An object without a stored id yet (a test of an unsaved destination, a
/// row about to be created: the store fills the id in).
pub fn unsaved(kind: ObjectKind, name: &str) -> AuditObject {
    AuditObject {
        kind,
        id: None,
        name: name.to_owned(),
    }
}

fn view(row: EntryRow) -> AuditEntryView {
    let actor = match (
        row.actor_kind.as_deref().map(ActorKind::parse),
        row.actor_id,
    ) {
        (Some(Ok(kind)), Some(id)) => Some(AuditActor {
            kind,
            id,
            name: row.actor_name,
        }),
        _ => None,
    };
    AuditEntryView {
        id: row.id,
        at: row.at,
        actor,
        action: row.action,
        object: AuditObject {
            kind: row.object_kind,
            id: row.object_id,
            name: row.object_name,
        },
        address: row.address,
    }
}

impl Services {
    /// Records an action that changed nothing else in the database (a test
    /// send, a reveal, a failed sign-in), or whose change committed on its
    /// own. The bulk redelivery job records its start with
    /// `AuditAction::BulkRedeliver` on an `ObjectKind::Job` through here (or
    /// writes `actor.entry(..)` with `store::audit::write_entry!` in its own
    /// transaction).
    pub async fn record_audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        object: AuditObject,
    ) -> Result<(), AppError> {
        rows::insert(self.db(), &actor.entry(action, object))
            .await
            .map_err(internal)
    }

    /// One page of the audit log, newest first; every bad filter is named.
    pub async fn audit_log(&self, filter: &AuditFilter, limit: i64) -> Result<AuditPage, AppError> {
        let ValidAuditFilter {
            actor,
            object,
            since,
            until,
            before,
        } = parse_filter(filter).map_err(AppError::Invalid)?;
        let filter = Filter {
            actor,
            object,
            since,
            until,
            before,
        };
        let rows = rows::page(self.db(), &filter, limit)
            .await
            .map_err(internal)?;
        let next = super::next_cursor(&rows, limit, |r| r.id);
        Ok(AuditPage {
            items: rows.into_iter().map(view).collect(),
            next_cursor: next.map(|id| id.to_string()),
        })
    }

    /// Everyone who can act: users, then API keys (for the actor filter).
    pub async fn audit_actors(&self) -> Result<Vec<AuditActor>, AppError> {
        let users = self.list_users().await?.into_iter().map(|u| AuditActor {
            kind: ActorKind::User,
            id: u.id,
            name: u.email,
        });
        let keys = self.list_api_keys().await?.into_iter().map(|k| AuditActor {
            kind: ActorKind::ApiKey,
            id: k.id,
            name: k.name,
        });
        Ok(users.chain(keys).collect())
    }
}
