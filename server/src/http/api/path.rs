//! Ids in `/api/v1` paths. A malformed one (`/destinations/abc`) gets the
//! error shape like every other failure, not axum's plain-text rejection.

use super::error::error_response;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;

/// The `{id}` of the route.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Id(id)),
            Err(_) => Err(error_response(
                StatusCode::BAD_REQUEST,
                "invalid",
                "The id in the path must be a whole number",
                Some("id"),
            )),
        }
    }
}

/// A text `{id}` (alert ids): bytes that are not UTF-8 get the error shape too.
/// Control characters are refused here: no stored id holds one (the event
/// parser refuses them), and PostgreSQL cannot even compare text with a NUL.
pub struct TextId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TextId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) if id.chars().any(char::is_control) => Err(error_response(
                StatusCode::BAD_REQUEST,
                "invalid",
                "The id in the path cannot contain control characters",
                Some("id"),
            )),
            Ok(Path(id)) => Ok(TextId(id)),
            Err(_) => Err(error_response(
                StatusCode::BAD_REQUEST,
                "invalid",
                "The id in the path must be UTF-8 text",
                Some("id"),
            )),
        }
    }
}
