//! `/api/v1/alerts`: alerts newest first, each with how its deliveries stand.

use super::error::ApiError;
use super::openapi::{ErrorBody, PageDoc, Refusals};
use super::page::{Page, PageQuery};
use super::path::TextId;
use super::query::ApiQuery;
use super::scope::Read;
use super::times::answer;
use crate::services::Services;
use app::model::{AlertDeliveryStatus, AlertView, DeliveryBrief};
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertOut {
    /// `alert_…`, as in the webhook body.
    id: String,
    rule_name: String,
    alert_type: String,
    status: String,
    delivery_status: AlertDeliveryStatus,
    event_type: String,
    change_type: Option<String>,
    qualified_name: String,
    asset_type: String,
    /// Epoch milliseconds here; RFC 3339 in the answer.
    #[schema(value_type = String, format = DateTime)]
    created_at: i64,
    deliveries: Vec<DeliveryBrief>,
}

fn out(alert: AlertView) -> AlertOut {
    AlertOut {
        delivery_status: alert.delivery_status(),
        created_at: alert.created_at,
        id: alert.id,
        rule_name: alert.rule_name,
        alert_type: alert.alert_type,
        status: alert.status,
        event_type: alert.event_type,
        change_type: alert.change_type,
        qualified_name: alert.qualified_name,
        asset_type: alert.asset_type,
        deliveries: alert.deliveries,
    }
}

#[utoipa::path(get,
    operation_id = "list_alerts", path = "/alerts", tag = "alerts", params(("cursor" = Option<String>, Query, description = "The next_cursor of an earlier page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")), responses((status = 200, description = "Newest first", body = PageDoc<AlertOut>), Refusals), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn list(
    State(s): State<Services>,
    _: Read,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let (before, limit) = q.parse()?;
    let (alerts, next) = s.recent_alerts(before, limit).await?;
    answer(&Page::new(alerts.into_iter().map(out).collect(), next))
}

#[utoipa::path(get,
    operation_id = "get_alert", path = "/alerts/{id}", tag = "alerts", params(("id" = String, Path, description = "The public id, alert_...")), responses((status = 200, body = AlertOut), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn show(
    State(s): State<Services>,
    _: Read,
    TextId(id): TextId,
) -> Result<Json<Value>, ApiError> {
    answer(&out(s.alert(&id).await?))
}
