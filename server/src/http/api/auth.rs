//! `Authorization: Bearer <api key>` on every `/api/v1` request.

use super::error::{error_response, ApiError};
use crate::services::Services;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

pub async fn require_api_key(
    State(services): State<Services>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if presented.is_empty() {
        return unauthorized("Send an API key as `Authorization: Bearer <key>`");
    }
    match services.authenticate_api_key(&presented).await {
        Ok(Some(caller)) => {
            let span = tracing::info_span!("api", key_id = caller.key_id);
            request.extensions_mut().insert(caller);
            next.run(request).instrument(span).await
        }
        Ok(None) => unauthorized("Unknown or revoked API key"),
        Err(err) => ApiError(err).into_response(),
    }
}

fn unauthorized(message: &str) -> Response {
    error_response(StatusCode::UNAUTHORIZED, "unauthorized", message, None)
}
