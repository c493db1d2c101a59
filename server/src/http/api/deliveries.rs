//! `/api/v1/deliveries`: the delivery log, and re-driving a delivery.

use super::error::ApiError;
use super::openapi::{ErrorBody, Refusals};
use super::path::Id;
use super::scope::{Manage, Read};
use super::times::answer;
use crate::services::Services;
use app::error::AppError;
use app::model::{DeliveryDetail, DeliveryFilter, DeliveryPage, DeliveryView};
use axum::extract::{Query, State};
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
    cursor: Option<String>,
}

#[utoipa::path(get,
    operation_id = "list_deliveries", path = "/deliveries", tag = "deliveries", params(("status" = Option<String>, Query, description = "pending, delivered or failed"), ("destination_id" = Option<i64>, Query), ("cursor" = Option<String>, Query, description = "The next_cursor of an earlier page")), responses((status = 200, description = "Newest first, 50 a page", body = DeliveryPage), Refusals), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn list(
    State(s): State<Services>,
    _: Read,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let destination_id = match q.destination_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            AppError::invalid("destination_id", "destination_id is a destination's number")
        })?),
    };
    let filter = DeliveryFilter {
        status: q.status,
        destination_id,
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
