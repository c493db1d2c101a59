//! Bulk recovery: `POST /api/v1/deliveries/redeliver` starts a job that
//! queues again the failed deliveries a filter matches; `GET /api/v1/jobs/{id}`
//! follows it and `POST /api/v1/jobs/{id}/cancel` stops it (admin keys).

use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::{ErrorBody, Refusals};
use super::path::Id;
use super::scope::Manage;
use super::times::answer;
use crate::services::Services;
use app::error::{AppError, FormErrors};
use app::model::{DeliveryFilter, JobView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(redeliver_failed))
        .routes(routes!(show_job))
        .routes(routes!(cancel_job))
}

/// `{"job": Job}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct JobDoc {
    job: JobView,
}

/// The filters of `GET /api/v1/deliveries`, as a JSON body.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // Only described: the body is read field by field (`filter_of`).
struct RedeliverBody {
    /// `failed` (the default); nothing else is redelivered in bulk.
    status: Option<String>,
    destination_id: Option<i64>,
    rule_id: Option<i64>,
    /// schema_change, freshness_violation, discovery_complete or connection_failed
    event_type: Option<String>,
    /// Required: created at or after (RFC 3339).
    since: String,
    /// Created before (RFC 3339).
    until: Option<String>,
    /// An alert id (alert_...), a webhook-id (msg_...) or the start of an asset's qualified name.
    q: Option<String>,
}

const FIELDS: [&str; 7] = [
    "status",
    "destination_id",
    "rule_id",
    "event_type",
    "since",
    "until",
    "q",
];

/// The body as the filter the list takes: text or numbers, each bad field
/// (an unknown one, an object) named.
fn filter_of(body: &Value) -> Result<DeliveryFilter, AppError> {
    let Some(map) = body.as_object() else {
        return Err(AppError::invalid(
            "body",
            "The body is a JSON object of filters, e.g. {\"since\": \"2026-01-15T08:00:00Z\"}",
        ));
    };
    let mut errors = FormErrors::default();
    let mut text = |key: &str| match map.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            errors.add(key, format!("{key} is a string or a number"));
            None
        }
    };
    let filter = DeliveryFilter {
        status: text("status"),
        destination_id: text("destination_id"),
        rule_id: text("rule_id"),
        event_type: text("event_type"),
        range: None,
        since: text("since"),
        until: text("until"),
        q: text("q"),
        cursor: None,
    };
    for key in map.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.add(
            key,
            format!("{key:?} is not a filter: use {}", FIELDS.join(", ")),
        );
    }
    errors.into_result().map(|()| filter)
}

#[utoipa::path(post,
    operation_id = "redeliver_failed", path = "/deliveries/redeliver", tag = "deliveries",
    request_body(content = RedeliverBody, description = "The filters of GET /deliveries; since is required, status is failed"),
    responses((status = 202, description = "A job that queues again, in batches, every failed delivery that matched (at most 100,000)", body = JobDoc),
        Refusals,
        (status = 409, description = "A queued or running job has the same filter (the message names it)", body = ErrorBody)),
    security(("api_key" = ["admin"])))]
async fn redeliver_failed(
    State(s): State<Services>,
    Manage(_, actor): Manage,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let filter = filter_of(&body)?;
    let job = s.start_redelivery(&actor, &filter).await?;
    Ok((StatusCode::ACCEPTED, answer(&json!({ "job": job }))?).into_response())
}

#[utoipa::path(get,
    operation_id = "get_job", path = "/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "The id")),
    responses((status = 200, description = "The job and its progress (done of total)", body = JobDoc), Refusals,
        (status = 404, description = "No such thing", body = ErrorBody)),
    security(("api_key" = ["admin"])))]
async fn show_job(
    State(s): State<Services>,
    _: Manage,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    answer(&json!({ "job": s.job(id).await? }))
}

#[utoipa::path(post,
    operation_id = "cancel_job", path = "/jobs/{id}/cancel", tag = "jobs", params(("id" = i64, Path, description = "The id")),
    responses((status = 200, description = "Stopped between two batches: what it queued stays queued", body = JobDoc), Refusals,
        (status = 404, description = "No such thing", body = ErrorBody),
        (status = 409, description = "Already done, cancelled or failed", body = ErrorBody)),
    security(("api_key" = ["admin"])))]
async fn cancel_job(
    State(s): State<Services>,
    Manage(_, actor): Manage,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    answer(&json!({ "job": s.cancel_job(&actor, id).await? }))
}
