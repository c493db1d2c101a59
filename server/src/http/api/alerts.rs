//! `/api/v1/alerts`: alerts newest first, each with how its deliveries stand.

use super::error::ApiError;
use super::scope::Read;
use crate::services::Services;
use app::error::AppError;
use app::format::rfc3339;
use app::model::{AlertDeliveryStatus, AlertView, DeliveryBrief};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

pub fn routes() -> Router<Services> {
    Router::new()
        .route("/alerts", get(list))
        .route("/alerts/{id}", get(show))
}

/// Query strings stay text so a bad value gets the API's error shape.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
struct AlertOut {
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
    created_at: String,
    deliveries: Vec<DeliveryBrief>,
}

fn out(alert: AlertView) -> AlertOut {
    AlertOut {
        delivery_status: alert.delivery_status(),
        created_at: rfc3339(alert.created_at),
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

#[derive(Debug, Serialize)]
struct AlertPage {
    items: Vec<AlertOut>,
    next_cursor: Option<String>,
}

async fn list(
    State(s): State<Services>,
    _: Read,
    Query(q): Query<ListQuery>,
) -> Result<Json<AlertPage>, ApiError> {
    let before = match q.cursor.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            AppError::invalid("cursor", "cursor is the next_cursor of an earlier page")
        })?),
    };
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::invalid("limit", format!("limit is a number from 1 to {MAX_LIMIT}"))
            })?,
    };
    let (alerts, next) = s.recent_alerts(before, limit).await?;
    Ok(Json(AlertPage {
        items: alerts.into_iter().map(out).collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}

async fn show(
    State(s): State<Services>,
    _: Read,
    Path(id): Path<String>,
) -> Result<Json<AlertOut>, ApiError> {
    Ok(Json(out(s.alert(&id).await?)))
}
