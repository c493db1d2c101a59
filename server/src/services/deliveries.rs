//! The delivery log: list, detail with every attempt, and re-driving.

use super::audit::{object, Actor};
use super::{internal, Services};
use crate::clock::now_ms;
use crate::delivery::troubleshooting::explain_record;
use crate::domain::delivery_filter::parse as parse_filter;
use crate::store::deliveries::{self as rows, AttemptRow, DeliveryRow};
use app::domain::{ActorKind, AuditAction, DeliveryState, ObjectKind};
use app::error::AppError;
use app::model::{
    AttemptView, DeliveryDetail, DeliveryFilter, DeliveryPage, DeliveryView, DELIVERIES_PER_PAGE,
};
use std::time::Duration;

fn not_found() -> AppError {
    AppError::NotFound("No such delivery".into())
}

pub(super) fn view(row: DeliveryRow) -> DeliveryView {
    DeliveryView {
        id: row.id,
        alert_id: row.public_id,
        rule_name: row.rule_name,
        alert_type: row.alert_type,
        state: DeliveryState::of(row.status, row.retry),
        event_type: row.event_type,
        qualified_name: row.qualified_name,
        destination_id: row.destination_id,
        destination_name: row.destination_name,
        msg_id: row.msg_id,
        status: row.status,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        last_status: row.last_status,
        last_error: row.last_error,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn headers(json: Option<&str>) -> Vec<(String, String)> {
    json.and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

fn attempt_view(row: AttemptRow, timeout: Duration) -> AttemptView {
    AttemptView {
        failure: explain_record(
            row.error_kind.as_deref(),
            row.response_status,
            row.error_message.as_deref(),
            timeout,
        ),
        request_headers: headers(Some(&row.request_headers)),
        response_headers: headers(row.response_headers.as_deref()),
        number: row.number,
        started_at: row.started_at,
        duration_ms: row.duration_ms,
        response_status: row.response_status,
        response_body: row.response_body,
        error_kind: row.error_kind,
        error_message: row.error_message,
        next_attempt_at: row.next_attempt_at,
    }
}

/// A delivery in the audit log: `alert_… to <destination>`.
pub(crate) fn delivery_object(row: &DeliveryRow) -> app::model::AuditObject {
    object(
        ObjectKind::Delivery,
        row.id,
        &format!("{} to {}", row.public_id, row.destination_name),
    )
}

impl Services {
    pub async fn deliveries(&self, filter: &DeliveryFilter) -> Result<DeliveryPage, AppError> {
        let filter = parse_filter(filter, now_ms()).map_err(AppError::Invalid)?;
        let rows = rows::list(self.db(), &filter, DELIVERIES_PER_PAGE)
            .await
            .map_err(internal)?;
        let next_cursor = (rows.len() as i64 == DELIVERIES_PER_PAGE)
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten();
        Ok(DeliveryPage {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        })
    }

    pub async fn delivery(&self, id: i64) -> Result<DeliveryDetail, AppError> {
        let db = self.db();
        // Attempts first: an attempt and its delivery's new state commit together, so the
        // state read after them is never older than the last attempt shown.
        let attempts = rows::attempts(db, id).await.map_err(internal)?;
        let row = rows::get(db, id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        let body = rows::payload_of(db, id)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(DeliveryDetail {
            delivery: view(row),
            body,
            attempts: attempts
                .into_iter()
                .map(|a| attempt_view(a, self.sender().timeout()))
                .collect(),
        })
    }

    /// Queues a delivered or failed delivery again, with the same `webhook-id`
    /// and body and a fresh retry schedule.
    pub async fn redeliver(&self, actor: &Actor, id: i64) -> Result<DeliveryView, AppError> {
        let db = self.db();
        let row = rows::get(db, id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        if !row.status.is_finished() {
            return Err(AppError::Conflict("This delivery is already queued".into()));
        }
        let live = crate::store::destinations::get(db, row.destination_id)
            .await
            .map_err(internal)?;
        if live.is_none() {
            return Err(AppError::Conflict("Its destination was deleted".into()));
        }
        if !rows::redrive(db, id, now_ms()).await.map_err(internal)? {
            return Err(AppError::Conflict("This delivery is already queued".into()));
        }
        tracing::info!(delivery_id = id, "delivery re-driven");
        self.record_audit(actor, AuditAction::Redeliver, delivery_object(&row))
            .await?;
        self.queue().wake.notify_one();
        rows::pg_notify(db).await.map_err(internal)?;
        Ok(view(
            rows::get(db, id)
                .await
                .map_err(internal)?
                .ok_or_else(not_found)?,
        ))
    }

    /// Ends a queued delivery: no more attempts; it is marked failed, with
    /// who cancelled it as its last error. An attempt already in flight
    /// finishes and is recorded, but cannot bring the delivery back.
    pub async fn cancel_delivery(&self, actor: &Actor, id: i64) -> Result<DeliveryView, AppError> {
        let db = self.db();
        let by = match actor.kind {
            Some(ActorKind::ApiKey) => format!("API key {}", actor.name),
            Some(ActorKind::User) => actor.name.clone(),
            None => "the command line".to_owned(),
        };
        let reason = format!("Retries cancelled by {by}");
        if !rows::cancel(db, id, &reason, now_ms())
            .await
            .map_err(internal)?
        {
            let row = rows::get(db, id).await.map_err(internal)?;
            return Err(match row {
                None => not_found(),
                Some(_) => AppError::Conflict("This delivery is not queued: only a pending or retrying delivery can be cancelled".into()),
            });
        }
        tracing::info!(delivery_id = id, by, "delivery cancelled");
        let row = rows::get(db, id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        self.record_audit(actor, AuditAction::Cancel, delivery_object(&row))
            .await?;
        Ok(view(row))
    }
}
