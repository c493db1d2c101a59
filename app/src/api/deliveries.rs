//! Server functions of the alert pages and Alerts -> Deliveries.

use crate::error::AppError;
use crate::model::{AlertView, DeliveryDetail, DeliveryPage, DeliveryView, RuleDestination};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::context::{backend, plain_form_post, require_role},
    crate::domain::Role,
    crate::model::DeliveryFilter,
};

/// One page of recent alerts, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsChunk {
    pub alerts: Vec<AlertView>,
    /// The `before` of the next (older) page, if there is one.
    pub older: Option<i64>,
}

/// The Deliveries tab: one page, and the destinations its filter offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveriesData {
    pub page: DeliveryPage,
    pub destinations: Vec<RuleDestination>,
}

#[server(prefix = "/fn", endpoint = "alerts")]
pub async fn load_alerts(before: Option<i64>) -> Result<AlertsChunk, AppError> {
    require_role(Role::Viewer)?;
    let (alerts, older) = backend()?.recent_alerts(before).await?;
    Ok(AlertsChunk { alerts, older })
}

#[server(prefix = "/fn", endpoint = "alert")]
pub async fn load_alert(id: String) -> Result<AlertView, AppError> {
    require_role(Role::Viewer)?;
    backend()?.alert(&id).await
}

#[server(prefix = "/fn", endpoint = "deliveries")]
pub async fn load_deliveries(
    status: Option<String>,
    destination_id: Option<i64>,
    cursor: Option<String>,
) -> Result<DeliveriesData, AppError> {
    require_role(Role::Viewer)?;
    let backend = backend()?;
    let filter = DeliveryFilter {
        status: status.filter(|s| !s.is_empty()),
        destination_id,
        cursor: cursor.filter(|c| !c.is_empty()),
    };
    let page = backend.deliveries(filter).await?;
    let destinations = backend.rules_page().await?.destinations;
    Ok(DeliveriesData { page, destinations })
}

#[server(prefix = "/fn", endpoint = "delivery")]
pub async fn load_delivery(id: i64) -> Result<DeliveryDetail, AppError> {
    require_role(Role::Viewer)?;
    backend()?.delivery(id).await
}

/// Queues a delivered or failed delivery again (admins only).
#[server(prefix = "/fn", endpoint = "redeliver")]
pub async fn redeliver_delivery(id: i64) -> Result<DeliveryView, AppError> {
    require_role(Role::Admin)?;
    let delivery = backend()?.redeliver(id).await?;
    if plain_form_post() {
        leptos_axum::redirect(&format!("/alerts/deliveries/{id}?redelivered=1"));
    }
    Ok(delivery)
}
