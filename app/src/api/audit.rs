//! Server functions of Settings -> Audit log and of the Deliveries tab's
//! note on how long history is kept.

use crate::error::AppError;
use crate::model::AuditLogData;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::context::{backend, require_role},
    crate::domain::Role,
    crate::model::AuditFilter,
};

/// One page of the audit log with the given filters (admins only).
#[server(prefix = "/fn", endpoint = "audit_log")]
pub async fn load_audit_log(
    actor: Option<String>,
    object: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
) -> Result<AuditLogData, AppError> {
    require_role(Role::Admin)?;
    let filter = AuditFilter {
        actor,
        object,
        since,
        until,
        cursor,
    };
    backend()?.audit_log(filter).await
}

/// How long history is kept, in milliseconds (`--retention`).
#[server(prefix = "/fn", endpoint = "history_kept")]
pub async fn history_kept() -> Result<u64, AppError> {
    require_role(Role::Viewer)?;
    Ok(backend()?.history_kept_ms())
}
