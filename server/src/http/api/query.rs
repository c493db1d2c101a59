//! A query-string extractor whose rejections use the API's error shape
//! (axum's own answers a plain-text 400, e.g. for `?cursor=1&cursor=2`).

use super::error::error_response;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;

pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(error_response(
                StatusCode::BAD_REQUEST,
                "invalid",
                &rejection.body_text(),
                None,
            )),
        }
    }
}
