//! `GET|PUT /api/v1/settings/notifications` (admin keys): the destinations
//! that receive operational events (`destination.disabled`).

use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::Refusals;
use super::scope::Manage;
use super::times::answer;
use crate::services::Services;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(show_notifications, replace_notifications))
}

/// The destinations that receive operational events.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NotificationSettingsDoc {
    /// Ids of live destinations, at most 1000; a repeated id counts once. Operational
    /// events go to those that are enabled; a destination never hears of its own disabling.
    destination_ids: Vec<i64>,
}

#[utoipa::path(
    get,
    operation_id = "get_notification_settings",
    path = "/settings/notifications",
    tag = "settings",
    responses(
        (status = 200, description = "The chosen destinations, by id (deleted ones left out)", body = NotificationSettingsDoc),
        Refusals
    ),
    security(("api_key" = ["admin"]))
)]
async fn show_notifications(State(s): State<Services>, _: Manage) -> Result<Json<Value>, ApiError> {
    answer(&json!({ "destination_ids": s.notification_destinations().await? }))
}

#[utoipa::path(
    put,
    operation_id = "put_notification_settings",
    path = "/settings/notifications",
    tag = "settings",
    request_body(content = NotificationSettingsDoc, description = "Replaces the choice; an unknown or deleted id answers 400 (field destination_ids) and changes nothing"),
    responses(
        (status = 200, description = "The choice as stored", body = NotificationSettingsDoc),
        Refusals
    ),
    security(("api_key" = ["admin"]))
)]
async fn replace_notifications(
    State(s): State<Services>,
    _: Manage,
    ApiJson(input): ApiJson<NotificationSettingsDoc>,
) -> Result<Json<Value>, ApiError> {
    let saved = s
        .set_notification_destinations(&input.destination_ids)
        .await?;
    answer(&json!({ "destination_ids": saved }))
}
