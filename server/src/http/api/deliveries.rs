//! `/api/v1/deliveries`: the delivery log, and re-driving a delivery.

use super::error::ApiError;
use super::openapi::{ErrorBody, Refusals};
use super::path::Id;
use super::query::ApiQuery;
use super::scope::{Edit, Manage, Read};
use super::times::answer;
use crate::services::Services;
use app::model::{DeliveryDetail, DeliveryFilter, DeliveryPage, DeliveryView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(redeliver))
        .routes(routes!(cancel))
}

/// `POST .../redeliver` answers the delivery, queued again.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct RedeliveredDoc {
    delivery: DeliveryView,
}

/// Query strings stay text so a bad value gets the API's error shape.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    destination_id: Option<String>,
    rule_id: Option<String>,
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

#[utoipa::path(get,
    operation_id = "list_deliveries", path = "/deliveries", tag = "deliveries", params(("status" = Option<String>, Query, description = "pending, retrying, delivered or failed"), ("destination_id" = Option<i64>, Query), ("rule_id" = Option<i64>, Query), ("event_type" = Option<String>, Query, description = "schema_change, freshness_violation, discovery_complete or connection_failed"), ("since" = Option<String>, Query, format = DateTime, description = "Created at or after (RFC 3339)"), ("until" = Option<String>, Query, format = DateTime, description = "Created before (RFC 3339)"), ("q" = Option<String>, Query, description = "An alert id (alert_...), a webhook-id (msg_...) or the start of an asset's qualified name"), ("cursor" = Option<String>, Query, description = "The next_cursor of an earlier page")), responses((status = 200, description = "Newest first, 50 a page", body = DeliveryPage), Refusals), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn list(
    State(s): State<Services>,
    _: Read,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = DeliveryFilter {
        status: q.status,
        destination_id: q.destination_id,
        rule_id: q.rule_id,
        event_type: q.event_type,
        range: None,
        since: q.since,
        until: q.until,
        q: q.q,
        cursor: q.cursor,
    };
    answer(&s.deliveries(&filter).await?)
}

#[utoipa::path(get,
    operation_id = "get_delivery", path = "/deliveries/{id}", tag = "deliveries", params(("id" = i64, Path, description = "The id")), responses((status = 200, description = "With its body and every attempt", body = DeliveryDetail), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn show(State(s): State<Services>, _: Read, Id(id): Id) -> Result<Json<Value>, ApiError> {
    answer(&s.delivery(id).await?)
}

#[utoipa::path(post,
    operation_id = "redeliver", path = "/deliveries/{id}/redeliver", tag = "deliveries", params(("id" = i64, Path, description = "The id")), responses((status = 202, description = "Queued again with the same webhook-id and body", body = RedeliveredDoc), Refusals, (status = 404, description = "No such thing", body = ErrorBody), (status = 409, description = "Still queued, or its destination was deleted", body = ErrorBody)), security(("api_key" = ["admin"])))]
async fn redeliver(
    State(s): State<Services>,
    Manage(_, actor): Manage,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let delivery = s.redeliver(&actor, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        answer(&json!({ "delivery": delivery }))?,
    )
        .into_response())
}

#[utoipa::path(post,
    operation_id = "cancel_delivery", path = "/deliveries/{id}/cancel", tag = "deliveries", params(("id" = i64, Path, description = "The id")), responses((status = 200, description = "No more attempts: the delivery is failed, its last error says who cancelled it", body = RedeliveredDoc), Refusals, (status = 404, description = "No such thing", body = ErrorBody), (status = 409, description = "Not queued (already delivered or failed)", body = ErrorBody)), security(("api_key" = ["editor", "admin"])))]
async fn cancel(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    let delivery = s.cancel_delivery(&actor, id).await?;
    answer(&json!({ "delivery": delivery }))
}
