//! `/api/v1/rules` (ARCHITECTURE.md "HTTP API").

use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::{ErrorBody, PageDoc, Refusals};
use super::page::{Page, PageQuery};
use super::path::Id;
use super::query::ApiQuery;
use super::scope::{Edit, Read};
use super::times::answer;
use crate::services::Services;
use app::model::{RuleForm, RuleView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

/// A rule as the API takes it; on PATCH every field is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RuleInput {
    name: Option<String>,
    alert_type: Option<String>,
    /// `null` or `""` matches every asset.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    asset_pattern: Option<Option<String>>,
    destination_ids: Option<Vec<i64>>,
    enabled: Option<bool>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

fn merge(mut base: RuleForm, input: RuleInput) -> RuleForm {
    if let Some(name) = input.name {
        base.name = name;
    }
    if let Some(kind) = input.alert_type {
        base.alert_type = kind;
    }
    if let Some(pattern) = input.asset_pattern {
        base.asset_pattern = pattern.unwrap_or_default();
    }
    if let Some(ids) = input.destination_ids {
        base.destination_ids = ids;
    }
    if let Some(enabled) = input.enabled {
        base.enabled = enabled;
    }
    base
}

fn stored_form(rule: &RuleView) -> RuleForm {
    RuleForm {
        name: rule.name.clone(),
        alert_type: rule.alert_type.clone(),
        asset_pattern: rule.asset_pattern.clone().unwrap_or_default(),
        destination_ids: rule.destinations.iter().map(|d| d.id).collect(),
        enabled: rule.enabled,
    }
}

#[utoipa::path(get,
    operation_id = "list_rules", path = "/rules", tag = "rules", params(("cursor" = Option<String>, Query, description = "The next_cursor of an earlier page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")), responses((status = 200, description = "A page of rules, by id", body = PageDoc<RuleView>), Refusals), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn list(
    State(s): State<Services>,
    _: Read,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let (after, limit) = q.parse()?;
    let (items, next) = s.rules_after(after, limit).await?;
    answer(&Page::new(items, next))
}

#[utoipa::path(get,
    operation_id = "get_rule", path = "/rules/{id}", tag = "rules", params(("id" = i64, Path, description = "The id")), responses((status = 200, body = RuleView), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["viewer", "editor", "admin"])))]
async fn show(State(s): State<Services>, _: Read, Id(id): Id) -> Result<Json<Value>, ApiError> {
    answer(&s.rule(id).await?)
}

#[utoipa::path(post,
    operation_id = "create_rule", path = "/rules", tag = "rules", request_body = RuleInput, responses((status = 201, body = RuleView), Refusals), security(("api_key" = ["editor", "admin"])))]
async fn create(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Response, ApiError> {
    let base = RuleForm {
        enabled: true,
        ..RuleForm::default()
    };
    let rule = s.save_rule(&actor, None, &merge(base, input)).await?;
    Ok((StatusCode::CREATED, answer(&rule)?).into_response())
}

#[utoipa::path(patch,
    operation_id = "update_rule", path = "/rules/{id}", tag = "rules", params(("id" = i64, Path, description = "The id")), request_body(content = RuleInput, description = "Only the fields given change"), responses((status = 200, body = RuleView), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["editor", "admin"])))]
async fn update(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    Id(id): Id,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<Value>, ApiError> {
    let current = s.rule(id).await?;
    answer(
        &s.save_rule(&actor, Some(id), &merge(stored_form(&current), input))
            .await?,
    )
}

#[utoipa::path(delete,
    operation_id = "delete_rule", path = "/rules/{id}", tag = "rules", params(("id" = i64, Path, description = "The id")), responses((status = 204, description = "Deleted"), Refusals, (status = 404, description = "No such thing", body = ErrorBody)), security(("api_key" = ["editor", "admin"])))]
async fn remove(
    State(s): State<Services>,
    Edit(_, actor): Edit,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    s.delete_rule(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
