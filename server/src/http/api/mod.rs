//! The REST API under `/api/v1` (API keys, JSON).

mod alerts;
mod auth;
mod deliveries;
mod destinations;
pub mod error;
mod events;
mod json;
mod page;
mod path;
mod rules;
mod scope;
mod times;

use crate::services::Services;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::Router;
use error::ApiError;

pub fn router(services: Services) -> Router {
    Router::new()
        .merge(alerts::routes())
        .merge(destinations::routes())
        .merge(events::routes())
        .merge(rules::routes())
        .merge(deliveries::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(services.clone(), auth::require_api_key))
        .with_state(services)
}

/// Axum keeps the `Allow` header it computed; the body gets the error shape.
async fn method_not_allowed() -> Response {
    error::error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not take that method",
        None,
    )
}

async fn not_found() -> ApiError {
    ApiError(app::error::AppError::NotFound(
        "No such API endpoint".into(),
    ))
}
