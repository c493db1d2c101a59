//! `POST /api/v1/events`: one event or a batch of up to 1,000.

use super::error::{error_response, ApiError};
use super::scope::Ingest;
use crate::clock::now_ms;
use crate::domain::event::parse_body;
use crate::services::Services;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

/// Room for a full batch of ordinary events; one event's details are capped at 64 KiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

pub fn routes() -> Router<Services> {
    Router::new()
        .route("/events", post(create))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn create(
    State(services): State<Services>,
    _: Ingest,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(too_large());
        }
        Err(rejection) => {
            return Ok(error_response(
                rejection.status(),
                "invalid_body",
                &rejection.body_text(),
                None,
            ));
        }
    };
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(err) => {
            return Ok(error_response(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                &format!("The body is not valid JSON: {err}"),
                None,
            ))
        }
    };
    let batch = match parse_body(value, now_ms()) {
        Ok(batch) => batch,
        Err(err) => {
            let path = err.path();
            let field = (!path.is_empty()).then_some(path.as_str());
            return Ok(error_response(
                StatusCode::BAD_REQUEST,
                "invalid",
                &err.describe(),
                field,
            ));
        }
    };
    let is_batch = batch.is_batch;
    let outcomes = services.ingest_events(batch.events).await?;
    let body = if is_batch {
        let alerts: Vec<_> = outcomes
            .iter()
            .flat_map(|o| o.alerts.iter().cloned())
            .collect();
        json!({ "alerts": alerts, "events": outcomes })
    } else {
        let first = outcomes.into_iter().next();
        json!({
            "alerts": first.as_ref().map(|o| o.alerts.clone()).unwrap_or_default(),
            "duplicate": first.is_some_and(|o| o.duplicate),
        })
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

fn too_large() -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "The body is over 8 MiB; send fewer events per request",
        None,
    )
}
