//! Server functions of bulk recovery (admins): the confirmation of "Redeliver
//! failed", starting the job, and the job's page.
// The filters come as separate arguments, like `load_deliveries` (see there).
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::model::{JobView, RedeliveryPreview};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::context::{backend, require_role},
    crate::domain::Role,
    crate::model::DeliveryFilter,
};

/// How many failed deliveries the filter matches, before anything is queued.
#[server(prefix = "/fn", endpoint = "redelivery_preview")]
pub async fn load_redelivery_preview(
    status: Option<String>,
    destination_id: Option<String>,
    rule_id: Option<String>,
    event_type: Option<String>,
    range: Option<String>,
    since: Option<String>,
    until: Option<String>,
    q: Option<String>,
) -> Result<RedeliveryPreview, AppError> {
    require_role(Role::Admin)?;
    let filter = DeliveryFilter {
        status,
        destination_id,
        rule_id,
        event_type,
        range,
        since,
        until,
        q,
        cursor: None,
    };
    backend()?.redelivery_preview(filter).await
}

/// Starts the job the confirmation showed, then goes to its page (with or
/// without JavaScript).
#[server(prefix = "/fn", endpoint = "start_redelivery")]
pub async fn start_redelivery(
    status: Option<String>,
    destination_id: Option<String>,
    rule_id: Option<String>,
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    q: Option<String>,
) -> Result<JobView, AppError> {
    require_role(Role::Admin)?;
    let filter = DeliveryFilter {
        status,
        destination_id,
        rule_id,
        event_type,
        range: None,
        since,
        until,
        q,
        cursor: None,
    };
    let job = backend()?.start_redelivery(filter).await?;
    leptos_axum::redirect(&format!("/alerts/jobs/{}", job.id));
    Ok(job)
}

#[server(prefix = "/fn", endpoint = "job")]
pub async fn load_job(id: i64) -> Result<JobView, AppError> {
    require_role(Role::Admin)?;
    backend()?.job(id).await
}

#[server(prefix = "/fn", endpoint = "cancel_job")]
pub async fn cancel_job(id: i64) -> Result<JobView, AppError> {
    require_role(Role::Admin)?;
    let job = backend()?.cancel_job(id).await?;
    if super::context::plain_form_post() {
        leptos_axum::redirect(&format!("/alerts/jobs/{id}"));
    }
    Ok(job)
}
