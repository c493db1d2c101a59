//! `POST /api/v1/events`: one event or a batch of up to 1,000.

use super::error::{error_response, ApiError};
use super::openapi::{ErrorBody, Refusals};
use super::scope::Ingest;
use crate::clock::now_ms;
use crate::domain::event::parse_body;
use crate::services::Services;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Room for a full batch of ordinary events; one event's details are capped at 64 KiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// One event as a monitor posts it.
#[derive(serde::Serialize, ToSchema)]
struct EventDoc {
    /// `schema_change`, `freshness_violation`, `discovery_complete` or `connection_failed`.
    #[serde(rename = "type")]
    kind: String,
    asset: AssetDoc,
    change_type: Option<String>,
    /// Any JSON object, up to 64 KiB.
    details: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(format = DateTime)]
    occurred_at: Option<String>,
    /// The same key within 24 hours raises nothing again.
    dedup_key: Option<String>,
}

#[derive(serde::Serialize, ToSchema)]
struct AssetDoc {
    qualified_name: String,
    asset_type: String,
}

/// What became of a posted event (a batch adds `events`, one such answer per event).
#[derive(serde::Serialize, ToSchema)]
struct EventAnswerDoc {
    alerts: Vec<RaisedAlertDoc>,
    /// The `dedup_key` was seen within 24 hours: these are the first event's alerts.
    duplicate: bool,
}

/// An alert as the webhook body's `alert` object has it.
#[derive(serde::Serialize, ToSchema)]
struct RaisedAlertDoc {
    id: String,
    rule_name: String,
    alert_type: String,
    status: String,
    #[schema(format = DateTime)]
    created_at: String,
}

#[utoipa::path(post,
    operation_id = "post_events", path = "/events", tag = "events", request_body(content = EventDoc, description = "One event, or an array of up to 1,000 (all or nothing)"), responses((status = 202, description = "The alerts the event raised", body = EventAnswerDoc), Refusals, (status = 413, description = "Over 8 MiB", body = ErrorBody), (status = 429, description = "The delivery queue is past `--max-queued` (code `queue_full`): nothing was stored; send the same request again after `Retry-After` seconds", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait before sending again")))), security(("api_key" = ["ingest", "editor", "admin"])))]
async fn create(
    State(services): State<Services>,
    Ingest(caller, _): Ingest,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(too_large());
        }
        Err(rejection) => {
            return Ok(error_response(
                rejection.status(),
                "invalid_body",
                &rejection.body_text(),
                None,
            ));
        }
    };
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(err) => {
            return Ok(error_response(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                &format!("The body is not valid JSON: {err}"),
                None,
            ))
        }
    };
    let batch = match parse_body(value, now_ms()) {
        Ok(batch) => batch,
        Err(err) => {
            let path = err.path();
            let field = (!path.is_empty()).then_some(path.as_str());
            return Ok(error_response(
                StatusCode::BAD_REQUEST,
                "invalid",
                &err.describe(),
                field,
            ));
        }
    };
    let is_batch = batch.is_batch;
    let outcomes = services
        .ingest_events(batch.events, caller.generation)
        .await?;
    let body = if is_batch {
        let alerts: Vec<_> = outcomes
            .iter()
            .flat_map(|o| o.alerts.iter().cloned())
            .collect();
        json!({ "alerts": alerts, "events": outcomes })
    } else {
        let first = outcomes.into_iter().next();
        json!({
            "alerts": first.as_ref().map(|o| o.alerts.clone()).unwrap_or_default(),
            "duplicate": first.is_some_and(|o| o.duplicate),
        })
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

fn too_large() -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "The body is over 8 MiB; send fewer events per request",
        None,
    )
}
