//! The REST API under `/api/v1` (API keys, JSON).

mod auth;
mod deliveries;
mod destinations;
pub mod error;
mod events;
mod json;
mod rules;
mod scope;

use crate::services::Services;
use axum::middleware::from_fn_with_state;
use axum::Router;
use error::ApiError;

pub fn router(services: Services) -> Router {
    Router::new()
        .merge(destinations::routes())
        .merge(events::routes())
        .merge(rules::routes())
        .merge(deliveries::routes())
        .fallback(not_found)
        .layer(from_fn_with_state(services.clone(), auth::require_api_key))
        .with_state(services)
}

async fn not_found() -> ApiError {
    ApiError(app::error::AppError::NotFound(
        "No such API endpoint".into(),
    ))
}
