//! Server functions of the alert pages and Alerts -> Deliveries.
// `load_deliveries` takes each of the nine filters as its own argument (see
// there); the generated browser stub repeats them, where an item attribute cannot reach.
#![allow(clippy::too_many_arguments)]

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

/// The Deliveries tab: one page of deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveriesData {
    pub page: DeliveryPage,
    /// The server's clock when the page was read: "3 min ago" is counted
    /// from it, so the server and the browser write the same text.
    pub now: i64,
}

/// What the Deliveries filter offers: every destination and rule. Loaded
/// apart from the list, so a live reload of the list leaves the form alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryChoices {
    pub destinations: Vec<RuleDestination>,
    /// Each rule's id and name, for the Rule filter.
    pub rules: Vec<(i64, String)>,
}

#[server(prefix = "/fn", endpoint = "alerts")]
pub async fn load_alerts(before: Option<i64>) -> Result<AlertsChunk, AppError> {
    require_role(Role::Viewer)?;
    let (alerts, older) = backend()?.recent_alerts(before).await?;
    Ok(AlertsChunk { alerts, older })
}

#[server(prefix = "/fn", endpoint = "asset_alerts")]
pub async fn load_asset_alerts(
    qualified_name: String,
    before: Option<i64>,
) -> Result<AlertsChunk, AppError> {
    require_role(Role::Viewer)?;
    let (alerts, older) = backend()?.asset_alerts(&qualified_name, before).await?;
    Ok(AlertsChunk { alerts, older })
}

#[server(prefix = "/fn", endpoint = "alert")]
pub async fn load_alert(id: String) -> Result<AlertView, AppError> {
    require_role(Role::Viewer)?;
    backend()?.alert(&id).await
}

/// The filters as separate arguments: an absent one is simply missing from
/// the request (a struct argument with every field empty would be missing whole).
#[server(prefix = "/fn", endpoint = "deliveries")]
pub async fn load_deliveries(
    status: Option<String>,
    destination_id: Option<String>,
    rule_id: Option<String>,
    event_type: Option<String>,
    range: Option<String>,
    since: Option<String>,
    until: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
) -> Result<DeliveriesData, AppError> {
    require_role(Role::Viewer)?;
    let filter = DeliveryFilter {
        status,
        destination_id,
        rule_id,
        event_type,
        range,
        since,
        until,
        q,
        cursor,
    };
    let backend = backend()?;
    let page = backend.deliveries(filter).await?;
    Ok(DeliveriesData {
        page,
        now: backend.now_ms(),
    })
}

#[server(prefix = "/fn", endpoint = "delivery_choices")]
pub async fn load_delivery_choices() -> Result<DeliveryChoices, AppError> {
    require_role(Role::Viewer)?;
    let rules = backend()?.rules_page().await?;
    Ok(DeliveryChoices {
        destinations: rules.destinations,
        rules: rules.rules.into_iter().map(|r| (r.id, r.name)).collect(),
    })
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

/// Stops a queued delivery's retries (editors and admins).
#[server(prefix = "/fn", endpoint = "cancel_delivery")]
pub async fn cancel_delivery(id: i64) -> Result<DeliveryView, AppError> {
    require_role(Role::Editor)?;
    let delivery = backend()?.cancel_delivery(id).await?;
    if plain_form_post() {
        leptos_axum::redirect(&format!("/alerts/deliveries/{id}?cancelled=1"));
    }
    Ok(delivery)
}
