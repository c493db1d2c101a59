//! `AppError` as the REST API's JSON error: `{"error": {"code", "message", "field"?}}`.

use app::error::AppError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        ApiError(err)
    }
}

/// The HTTP status for each kind of failure; also used for server functions.
pub fn status_of(err: &AppError) -> StatusCode {
    match err {
        AppError::Invalid(_) | AppError::Transport(_) => StatusCode::BAD_REQUEST,
        AppError::BadCredentials | AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::LockedOut { .. } | AppError::QueueFull { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON error body with an explicit message.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    field: Option<&str>,
) -> Response {
    let mut body = json!({ "code": code, "message": message });
    if let Some(field) = field {
        body["field"] = json!(field);
    }
    (status, Json(json!({ "error": body }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        let mut response = match err.form().and_then(|f| f.fields.first()) {
            Some(first) => error_response(
                status_of(&err),
                err.code(),
                &first.message,
                Some(&first.field),
            ),
            None => error_response(status_of(&err), err.code(), &err.to_string(), None),
        };
        with_retry_after(&mut response, &err);
        response
    }
}

/// `Retry-After` for a failure that says when to retry.
pub fn with_retry_after(response: &mut Response, err: &AppError) {
    if let Some(seconds) = err.retry_after() {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
}
