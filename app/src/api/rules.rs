//! Server functions of Alerts -> Rules.

use crate::error::AppError;
use crate::model::{RuleDestination, RuleForm, RuleView, RulesPage};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::context::{backend, plain_form_post, require_role},
    crate::domain::Role,
};

/// What the rule page needs: the rule (none on Add rule) and every destination it can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEditorData {
    pub rule: Option<RuleView>,
    pub destinations: Vec<RuleDestination>,
}

#[server(prefix = "/fn", endpoint = "rules")]
pub async fn load_rules() -> Result<RulesPage, AppError> {
    require_role(Role::Viewer)?;
    backend()?.rules_page().await
}

#[server(prefix = "/fn", endpoint = "rule_editor")]
pub async fn load_rule(id: Option<i64>) -> Result<RuleEditorData, AppError> {
    require_role(Role::Viewer)?;
    let backend = backend()?;
    let rule = match id {
        Some(id) => Some(backend.rule(id).await?),
        None => None,
    };
    let destinations = backend.rules_page().await?.destinations;
    Ok(RuleEditorData { rule, destinations })
}

/// Creates (`id` none) or replaces a rule. A new rule, or any rule saved by a
/// plain form post, continues on its own page with `?saved=1`.
#[server(prefix = "/fn", endpoint = "save_rule")]
pub async fn save_rule(form: RuleForm, id: Option<i64>) -> Result<RuleView, AppError> {
    require_role(Role::Editor)?;
    let chosen = form
        .destination_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let enabled = form.enabled;
    match backend()?.save_rule(id, form).await {
        Ok(rule) => {
            if id.is_none() || plain_form_post() {
                leptos_axum::redirect(&format!("/alerts/rules/{}?saved=1", rule.id));
            }
            Ok(rule)
        }
        // The checkboxes come back too, so a page reloaded without JavaScript shows them as sent.
        Err(AppError::Invalid(mut errors)) => {
            if errors.value_for("destination_ids").is_none() {
                errors.keep("destination_ids", &chosen);
            }
            if errors.value_for("enabled").is_none() {
                errors.keep("enabled", if enabled { "true" } else { "false" });
            }
            Err(AppError::Invalid(errors))
        }
        Err(other) => Err(other),
    }
}

#[server(prefix = "/fn", endpoint = "set_rule_enabled")]
pub async fn set_rule_enabled(id: i64, enabled: bool) -> Result<RuleView, AppError> {
    require_role(Role::Editor)?;
    let rule = backend()?.set_rule_enabled(id, enabled).await?;
    if plain_form_post() {
        leptos_axum::redirect(&format!("/alerts/rules/{id}"));
    }
    Ok(rule)
}

#[server(prefix = "/fn", endpoint = "delete_rule")]
pub async fn delete_rule(id: i64) -> Result<(), AppError> {
    require_role(Role::Editor)?;
    backend()?.delete_rule(id).await?;
    leptos_axum::redirect("/alerts/rules");
    Ok(())
}
