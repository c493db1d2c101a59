//! `/api/v1/destinations` (ARCHITECTURE.md "HTTP API").

use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::{DestinationDoc, DestinationWithSecretDoc, ErrorBody, PageDoc, Refusals};
use super::page::{Page, PageQuery};
use super::path::Id;
use super::query::ApiQuery;
use super::scope::{Edit, Read};
use super::times::answer;
use crate::services::destinations::{grace_out_of_range, DEFAULT_GRACE, MAX_GRACE};
use crate::services::Services;
use app::model::{
    AuthKind, DestinationForm, DestinationHealth, DestinationView, HeaderRow, HealthWindow,
    TestReport,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::Value;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(test))
        .routes(routes!(rotate))
        .routes(routes!(health))
}

/// `POST .../test` answers the report under `test`.
#[derive(Serialize, ToSchema)]
struct TestAnswerDoc {
    test: TestReport,
}

/// `POST .../rotate-secret` takes an optional body.
#[derive(Serialize, ToSchema)]
struct RotateDoc {
    /// How long the previous secret still signs `webhook-signature`, in whole seconds, at
    /// most 604800 (7 days); 24 hours when left out.
    grace_seconds: Option<u64>,
}

/// `auth` as the API spells it; secrets are write-only.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum AuthInput {
    None,
    Bearer {
        token: Option<String>,
    },
    ApiKey {
        header: Option<String>,
        key: Option<String>,
    },
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DestinationInput {
    name: Option<String>,
    url: Option<String>,
    auth: Option<AuthInput>,
    headers: Option<Vec<HeaderRow>>,
    enabled: Option<bool>,
}

/// A destination as the API answers it: `auth` is always the object
/// `{type, header?}`, never the view's bare kind.
#[derive(Debug)]
struct DestinationOut {
    view: DestinationView,
    auth: serde_json::Value,
}

impl Serialize for DestinationOut {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fields =
            match serde_json::to_value(&self.view).map_err(serde::ser::Error::custom)? {
                serde_json::Value::Object(fields) => fields,
                _ => serde_json::Map::new(),
            };
        fields.remove("api_key_header");
        fields.insert("auth".into(), self.auth.clone());
        fields.serialize(serializer)
    }
}

fn out(view: DestinationView) -> DestinationOut {
    let auth = match view.auth {
        AuthKind::None => json!({"type": "none"}),
        AuthKind::Bearer => json!({"type": "bearer"}),
        AuthKind::ApiKey => json!({"type": "api_key", "header": view.api_key_header}),
    };
    DestinationOut { view, auth }
}

/// Applies the given fields over `base` (everything for a create, the stored settings for a patch).
fn merge(mut base: DestinationForm, input: DestinationInput) -> DestinationForm {
    if let Some(name) = input.name {
        base.name = name;
    }
    if let Some(url) = input.url {
        base.url = url;
    }
    if let Some(headers) = input.headers {
        base.headers = headers;
    }
    match input.auth {
        None => {}
        Some(AuthInput::None) => base.auth_type = AuthKind::None.as_str().into(),
        Some(AuthInput::Bearer { token }) => {
            base.auth_type = AuthKind::Bearer.as_str().into();
            base.bearer_token = token.unwrap_or_default();
        }
        Some(AuthInput::ApiKey { header, key }) => {
            base.auth_type = AuthKind::ApiKey.as_str().into();
            base.api_key_header = header.unwrap_or_else(|| "X-API-Key".into());
            base.api_key = key.unwrap_or_default();
        }
    }
    base
}

fn stored_form(d: &DestinationView) -> DestinationForm {
    DestinationForm {
        name: d.name.clone(),
        url: d.url.clone(),
        auth_type: d.auth.as_str().into(),
        api_key_header: d.api_key_header.clone().unwrap_or_default(),
        headers: d.headers.clone(),
        ..DestinationForm::default()
    }
}

#[utoipa::path(get,
    operation_id = "list_destinations", path = "/destinations", tag = "destinations", params(("cursor" = Option<String>, Query, description = "The next_cursor of an earlier page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")), responses((status = 200, description = "A page of destinations, by id", body = PageDoc<DestinationDoc>), Refusals), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn list(
    State(s): State<Services>,
    _: Read,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let (after, limit) = q.parse()?;
    let (items, next) = s.destinations_after(after, limit).await?;
    answer(&Page::new(items.into_iter().map(out).collect(), next))
}

#[utoipa::path(get,
    operation_id = "get_destination", path = "/destinations/{id}", tag = "destinations", params(("id" = i64, Path, description = "The id")), responses((status = 200, body = DestinationDoc), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn show(State(s): State<Services>, _: Read, Id(id): Id) -> Result<Json<Value>, ApiError> {
    answer(&out(s.destination(id).await?))
}

#[utoipa::path(post,
    operation_id = "create_destination", path = "/destinations", tag = "destinations", request_body = DestinationInput, responses((status = 201, description = "Created; the signing secret is shown only now", body = DestinationWithSecretDoc), Refusals), security(("api_key" = ["editor", "admin"])))]
async fn create(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    ApiJson(input): ApiJson<DestinationInput>,
) -> Result<Response, ApiError> {
    let enabled = input.enabled;
    let base = DestinationForm {
        auth_type: AuthKind::None.as_str().into(),
        ..DestinationForm::default()
    };
    let created = s.create_destination(&actor, &merge(base, input)).await?;
    let mut view = created.destination;
    if enabled == Some(false) {
        view = s.set_destination_enabled(&actor, view.id, false).await?;
    }
    let body = json!({ "destination": out(view), "signing_secret": created.signing_secret });
    Ok((StatusCode::CREATED, answer(&body)?).into_response())
}

#[utoipa::path(patch,
    operation_id = "update_destination", path = "/destinations/{id}", tag = "destinations", params(("id" = i64, Path, description = "The id")), request_body(content = DestinationInput, description = "Only the fields given change. A new URL on another origin needs its credentials again."), responses((status = 200, body = DestinationDoc), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["editor", "admin"])))]
async fn update(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    Id(id): Id,
    ApiJson(input): ApiJson<DestinationInput>,
) -> Result<Json<Value>, ApiError> {
    let current = s.destination(id).await?;
    let enabled = input.enabled;
    let changes_settings = input.name.is_some()
        || input.url.is_some()
        || input.auth.is_some()
        || input.headers.is_some();
    let mut view = current.clone();
    if changes_settings {
        view = s
            .update_destination(&actor, id, &merge(stored_form(&current), input))
            .await?;
    }
    if let Some(enabled) = enabled {
        view = s.set_destination_enabled(&actor, id, enabled).await?;
    }
    answer(&out(view))
}

#[utoipa::path(delete,
    operation_id = "delete_destination", path = "/destinations/{id}", tag = "destinations", params(("id" = i64, Path, description = "The id")), responses((status = 204, description = "Deleted; its queued deliveries end as failed"), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["editor", "admin"])))]
async fn remove(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    s.delete_destination(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post,
    operation_id = "test_destination", path = "/destinations/{id}/test", tag = "destinations", params(("id" = i64, Path, description = "The id")), responses((status = 200, description = "What Send Test Alert did and saw", body = TestAnswerDoc), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["editor", "admin"])))]
async fn test(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    let current = s.destination(id).await?;
    let report = s
        .test_destination(&actor, &stored_form(&current), Some(id))
        .await?;
    answer(&json!({ "test": report }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateInput {
    /// Any JSON value, so a negative, fractional, huge or quoted number gets
    /// the same answer as one over the cap.
    grace_seconds: Option<serde_json::Value>,
}

/// `grace_seconds`: a whole number of seconds up to `MAX_GRACE`; absent or null is the default.
fn grace(input: &RotateInput) -> Result<Duration, ApiError> {
    match &input.grace_seconds {
        None | Some(serde_json::Value::Null) => Ok(DEFAULT_GRACE),
        Some(value) => value
            .as_u64()
            .filter(|secs| *secs <= MAX_GRACE.as_secs())
            .map(Duration::from_secs)
            .ok_or_else(|| ApiError(grace_out_of_range())),
    }
}

#[utoipa::path(post,
    operation_id = "rotate_signing_secret", path = "/destinations/{id}/rotate-secret", tag = "destinations", params(("id" = i64, Path, description = "The id")), request_body(content = Option<RotateDoc>, description = "Optional; grace_seconds up to 604800"), responses((status = 200, body = DestinationWithSecretDoc), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["editor", "admin"])))]
async fn rotate(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    Id(id): Id,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // The body is optional: `{}` or nothing rotates with the default grace period.
    let input: RotateInput = if body.iter().all(u8::is_ascii_whitespace) {
        RotateInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError(app::error::AppError::invalid(
                "grace_seconds",
                format!("Invalid JSON: {e}"),
            ))
        })?
    };
    let rotated = s.rotate_signing_secret(&actor, id, grace(&input)?).await?;
    answer(
        &json!({ "destination": out(rotated.destination), "signing_secret": rotated.signing_secret }),
    )
}

/// `?window=24h|7d` (default 24h); anything else is a 400 naming `window`.
#[derive(Debug, Default, Deserialize)]
struct HealthQuery {
    window: Option<String>,
}

#[utoipa::path(get,
    operation_id = "destination_health", path = "/destinations/{id}/health", tag = "destinations", params(("id" = i64, Path, description = "The id"), ("window" = Option<String>, Query, description = "24h (the default) or 7d")), responses((status = 200, description = "Alert-delivery attempts in the window, from the hourly aggregates (test sends are not counted)", body = DestinationHealth), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn health(
    State(s): State<Services>,
    _: Read,
    Id(id): Id,
    ApiQuery(q): ApiQuery<HealthQuery>,
) -> Result<Json<Value>, ApiError> {
    let window = match q.window.as_deref() {
        None => HealthWindow::default(),
        Some(raw) => HealthWindow::parse(raw).ok_or_else(|| {
            ApiError(app::error::AppError::invalid(
                "window",
                "Use 24h or 7d".to_owned(),
            ))
        })?,
    };
    answer(&s.destination_health(id, window).await?)
}
