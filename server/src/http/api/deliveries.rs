//! `/api/v1/deliveries`: the delivery log, and re-driving a delivery.

use super::error::ApiError;
use super::path::Id;
use super::scope::{Manage, Read};
use super::times::answer;
use crate::services::Services;
use app::error::AppError;
use app::model::DeliveryFilter;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use serde_json::Value;

pub fn routes() -> Router<Services> {
    Router::new()
        .route("/deliveries", get(list))
        .route("/deliveries/{id}", get(show))
        .route("/deliveries/{id}/redeliver", post(redeliver))
}

/// Query strings stay text so a bad value gets the API's error shape.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    destination_id: Option<String>,
    cursor: Option<String>,
}

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

async fn show(State(s): State<Services>, _: Read, Id(id): Id) -> Result<Json<Value>, ApiError> {
    answer(&s.delivery(id).await?)
}

async fn redeliver(State(s): State<Services>, _: Manage, Id(id): Id) -> Result<Response, ApiError> {
    let delivery = s.redeliver(id).await?;
    Ok((
        StatusCode::ACCEPTED,
        answer(&json!({ "delivery": delivery }))?,
    )
        .into_response())
}
