use crate::services::Services;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;

/// Below this much free space SQLite cannot be counted on to write.
const MIN_FREE_BYTES: u64 = 1 << 20;

/// 200 while the database answers and can write, 503 when it cannot: down,
/// or (SQLite) its disk full, which a read alone would not notice.
pub async fn healthz(State(services): State<Services>) -> (StatusCode, Json<Value>) {
    if let Some(free) = services.db().free_disk_bytes() {
        if free < MIN_FREE_BYTES {
            tracing::warn!(
                free_bytes = free,
                "health check: the database's disk is full"
            );
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "disk full"})),
            );
        }
    }
    let ping = tokio::time::timeout(Duration::from_secs(2), services.db().ping()).await;
    match ping {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unreachable"})),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "timeout"})),
        ),
    }
}
