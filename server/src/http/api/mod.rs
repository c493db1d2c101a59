//! The REST API under `/api/v1` (API keys, JSON).

mod alerts;
mod audit;
mod auth;
mod deliveries;
mod destinations;
pub mod error;
mod events;
mod jobs;
mod json;
pub mod openapi;
mod page;
mod path;
mod people;
mod query;
mod rules;
mod scope;
mod settings;
mod times;

use crate::services::Services;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use error::ApiError;
use openapi::ApiDoc;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Every route with its description: the router and `openapi.json` come from
/// the same `routes!`, so no route goes undescribed.
pub fn routes() -> (Router<Services>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(alerts::routes())
        .merge(destinations::routes())
        .merge(events::routes())
        .merge(rules::routes())
        .merge(deliveries::routes())
        .merge(jobs::routes())
        .merge(people::routes())
        .merge(settings::routes())
        .merge(audit::routes())
        .split_for_parts()
}

pub fn router(services: Services) -> Router {
    let (routes, doc) = routes();
    // Rendered once; the description needs no key.
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_else(|err| {
        tracing::error!(%err, "the OpenAPI description did not serialise");
        String::from("{}")
    }));
    let authenticated = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(services.clone(), auth::require_api_key))
        .with_state(services);
    Router::new()
        .route("/openapi.json", get(move || openapi::document(doc.clone())))
        .merge(authenticated)
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

/// What a path under `/api/v1` that names no endpoint gets: also `/api/v1/`,
/// which the nested router does not see (`startup` routes it here).
pub async fn not_found() -> ApiError {
    ApiError(app::error::AppError::NotFound(
        "No such API endpoint".into(),
    ))
}
