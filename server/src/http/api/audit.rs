//! `GET /api/v1/audit-log` (admin keys): who did what to which object, when
//! and from where, newest first, in cursor pages.

use super::error::ApiError;
use super::openapi::{PageDoc, Refusals};
use super::page::PageQuery;
use super::query::ApiQuery;
use super::scope::Manage;
use super::times::answer;
use crate::services::Services;
use app::model::{AuditEntryView, AuditFilter};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Query strings stay text so a bad value gets the API's error shape.
#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    actor: Option<String>,
    object: Option<String>,
    since: Option<String>,
    until: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

#[utoipa::path(
    get,
    operation_id = "list_audit_log",
    path = "/audit-log",
    tag = "audit log",
    params(
        ("actor" = Option<String>, Query, description = "user:<id> or api_key:<id>"),
        ("object" = Option<String>, Query, description = "An object kind (destination, rule, delivery, job, user, api_key, address), or a kind and an id: destination:4"),
        ("since" = Option<String>, Query, description = "RFC 3339: entries at or after this time"),
        ("until" = Option<String>, Query, description = "RFC 3339: entries before this time"),
        ("cursor" = Option<String>, Query, description = "The next_cursor of an earlier page"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50")
    ),
    responses(
        (status = 200, description = "Newest first; actor is null when nobody was signed in (the command line, first-run setup, a failed sign-in)", body = PageDoc<AuditEntryView>),
        Refusals
    ),
    security(("api_key" = ["admin"]))
)]
async fn list(
    State(s): State<Services>,
    _: Manage,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let (cursor, limit) = q.page.parse()?;
    let filter = AuditFilter {
        actor: q.actor,
        object: q.object,
        since: q.since,
        until: q.until,
        cursor: cursor.map(|c| c.to_string()),
    };
    answer(&s.audit_log(&filter, limit).await?)
}
