//! `GET /api/v1/users` and `GET /api/v1/api-keys` (admin keys): who and what
//! may use this instance, in cursor pages. Changes stay in Settings.

use super::error::ApiError;
use super::openapi::{PageDoc, Refusals};
use super::page::{Page, PageQuery};
use super::query::ApiQuery;
use super::scope::Manage;
use super::times::answer;
use crate::services::Services;
use app::model::{ApiKeyView, UserView};
use axum::extract::State;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(list_api_keys))
}

#[utoipa::path(
    get,
    operation_id = "list_users",
    path = "/users",
    tag = "users",
    params(
        ("cursor" = Option<String>, Query, description = "The next_cursor of an earlier page"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50")
    ),
    responses(
        (status = 200, description = "A page of users, by id", body = PageDoc<UserView>),
        Refusals
    ),
    security(("api_key" = ["admin"]))
)]
async fn list_users(
    State(s): State<Services>,
    _: Manage,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let (after, limit) = q.parse()?;
    let (items, next) = s.users_after(after, limit).await?;
    answer(&Page::new(items, next))
}

#[utoipa::path(
    get,
    operation_id = "list_api_keys",
    path = "/api-keys",
    tag = "api keys",
    params(
        ("cursor" = Option<String>, Query, description = "The next_cursor of an earlier page"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50")
    ),
    responses(
        (status = 200, description = "A page of keys, by id; never the key itself", body = PageDoc<ApiKeyView>),
        Refusals
    ),
    security(("api_key" = ["admin"]))
)]
async fn list_api_keys(
    State(s): State<Services>,
    _: Manage,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let (after, limit) = q.parse()?;
    let (items, next) = s.api_keys_after(after, limit).await?;
    answer(&Page::new(items, next))
}
