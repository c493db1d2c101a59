use crate::services::Services;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;

/// 200 while the database answers, 503 when it does not.
pub async fn healthz(State(services): State<Services>) -> (StatusCode, Json<Value>) {
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
