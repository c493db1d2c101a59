//! `GET /metrics`: the engine's counters and the queue's depth, in the
//! Prometheus text format.

use crate::delivery::engine::metrics::QueueDepth;
use crate::services::Services;
use crate::store::{deliveries, now_ms};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

pub async fn metrics(State(services): State<Services>) -> Response {
    let now = now_ms();
    let depth = match deliveries::queue_depth(services.db(), now).await {
        Ok(depth) => depth,
        Err(err) => {
            tracing::warn!(error = %err, "metrics: cannot read the queue");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response();
        }
    };
    let (due, scheduled, oldest) = depth;
    let oldest_due_age = oldest
        .filter(|at| *at <= now)
        .map(|at| Duration::from_millis(u64::try_from(now - at).unwrap_or(0)))
        .unwrap_or_default();
    let text = services.queue().metrics.render(&QueueDepth {
        due,
        scheduled,
        oldest_due_age,
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
