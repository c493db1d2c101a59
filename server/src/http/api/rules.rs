//! `/api/v1/rules` (ARCHITECTURE.md "HTTP API").

use super::error::ApiError;
use super::json::ApiJson;
use super::page::{Page, PageQuery};
use super::path::Id;
use super::scope::{Edit, Read};
use super::times::answer;
use crate::services::Services;
use app::model::{RuleForm, RuleView};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

pub fn routes() -> Router<Services> {
    Router::new()
        .route("/rules", get(list).post(create))
        .route("/rules/{id}", get(show).patch(update).delete(remove))
}

/// A rule as the API takes it; on PATCH every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleInput {
    name: Option<String>,
    alert_type: Option<String>,
    /// `null` or `""` matches every asset.
    #[serde(default, with = "double_option")]
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

async fn list(
    State(s): State<Services>,
    _: Read,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let (after, limit) = q.parse()?;
    let (items, next) = s.rules_after(after, limit).await?;
    answer(&Page::new(items, next))
}

async fn show(State(s): State<Services>, _: Read, Id(id): Id) -> Result<Json<Value>, ApiError> {
    answer(&s.rule(id).await?)
}

async fn create(
    State(s): State<Services>,
    _: Edit,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Response, ApiError> {
    let base = RuleForm {
        enabled: true,
        ..RuleForm::default()
    };
    let rule = s.save_rule(None, &merge(base, input)).await?;
    Ok((StatusCode::CREATED, answer(&rule)?).into_response())
}

async fn update(
    State(s): State<Services>,
    _: Edit,
    Id(id): Id,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<Value>, ApiError> {
    let current = s.rule(id).await?;
    answer(
        &s.save_rule(Some(id), &merge(stored_form(&current), input))
            .await?,
    )
}

async fn remove(State(s): State<Services>, _: Edit, Id(id): Id) -> Result<StatusCode, ApiError> {
    s.delete_rule(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
