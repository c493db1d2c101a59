//! Alert rules: which events raise alerts, and where the alerts go.

use super::audit::{unsaved, Actor};
use super::{internal, Services};
use crate::clock::now_ms;
use crate::domain::glob::AssetPattern;
use crate::domain::rule::parse;
use crate::store::rules::{self as rows, RuleFields, RuleRow, RuleTarget};
use app::domain::{AuditAction, ObjectKind};
use app::error::{AppError, FormErrors};
use app::model::{RuleDestination, RuleForm, RuleView, RulesPage};
use std::collections::HashMap;
use std::sync::Arc;

const DAY_MS: i64 = 24 * 3600 * 1000;

fn not_found() -> AppError {
    AppError::NotFound("No such rule".into())
}

fn view(row: &RuleRow, targets: &[RuleTarget], counts: &HashMap<i64, i64>) -> RuleView {
    RuleView {
        id: row.id,
        name: row.name.clone(),
        alert_type: row.alert_type.clone(),
        asset_pattern: row.asset_pattern.clone(),
        destinations: targets
            .iter()
            .filter(|t| t.rule_id == row.id)
            .map(|t| RuleDestination {
                id: t.destination_id,
                name: t.name.clone(),
                enabled: t.enabled,
            })
            .collect(),
        enabled: row.enabled,
        alerts_24h: counts.get(&row.id).copied().unwrap_or(0),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

impl Services {
    pub async fn rules_page(&self) -> Result<RulesPage, AppError> {
        let rules = self.list_rules().await?;
        let destinations = self
            .list_destinations()
            .await?
            .into_iter()
            .map(|d| RuleDestination {
                id: d.id,
                name: d.name,
                enabled: d.enabled,
            })
            .collect();
        Ok(RulesPage {
            rules,
            destinations,
        })
    }

    pub async fn list_rules(&self) -> Result<Vec<RuleView>, AppError> {
        let db = self.db();
        let rows = rows::list(db).await.map_err(internal)?;
        let targets = rows::targets(db, None).await.map_err(internal)?;
        let counts = self.alert_counts().await?;
        Ok(rows.iter().map(|r| view(r, &targets, &counts)).collect())
    }

    /// Up to `limit` rules after the cursor `after`, by id, and the next cursor.
    pub async fn rules_after(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<RuleView>, Option<i64>), AppError> {
        let db = self.db();
        let rows = rows::after(db, after, limit).await.map_err(internal)?;
        let targets = rows::targets(db, None).await.map_err(internal)?;
        let counts = self.alert_counts().await?;
        let next = crate::services::next_cursor(&rows, limit, |r| r.id);
        Ok((
            rows.iter().map(|r| view(r, &targets, &counts)).collect(),
            next,
        ))
    }

    pub async fn rule(&self, id: i64) -> Result<RuleView, AppError> {
        let db = self.db();
        let row = rows::get(db, id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        let targets = rows::targets(db, Some(id)).await.map_err(internal)?;
        Ok(view(&row, &targets, &self.alert_counts().await?))
    }

    async fn alert_counts(&self) -> Result<HashMap<i64, i64>, AppError> {
        let since = now_ms() - DAY_MS;
        Ok(rows::alert_counts(self.db(), since)
            .await
            .map_err(internal)?
            .into_iter()
            .collect())
    }

    /// Creates a rule (`id` none) or replaces one.
    pub async fn save_rule(
        &self,
        actor: &Actor,
        id: Option<i64>,
        form: &RuleForm,
    ) -> Result<RuleView, AppError> {
        let valid = parse(form).map_err(AppError::Invalid)?;
        let fields = RuleFields {
            name: valid.name.into_string(),
            alert_type: valid.alert_type,
            asset_pattern: valid.asset_pattern,
            enabled: valid.enabled,
            destination_ids: valid.destination_ids,
        };
        let live = rows::count_live_destinations(self.db(), &fields.destination_ids)
            .await
            .map_err(internal)?;
        if live != fields.destination_ids.len() as i64 {
            return Err(AppError::invalid(
                "destination_ids",
                "A chosen destination does not exist",
            ));
        }
        let action = match id {
            None => AuditAction::Create,
            Some(_) => AuditAction::Update,
        };
        let audit = actor.entry(action, unsaved(ObjectKind::Rule, &fields.name));
        let saved = match rows::save(self.db(), id, &fields, &audit).await {
            Ok(Some(row)) => row,
            Ok(None) => return Err(not_found()),
            Err(err) if err.is_unique_violation() => {
                let mut errors = FormErrors::default();
                errors.keep("name", &form.name);
                errors.add("name", "A rule with this name already exists");
                return Err(AppError::Invalid(errors));
            }
            Err(err) => return Err(internal(err)),
        };
        tracing::info!(rule_id = saved.id, "rule saved");
        self.rule(saved.id).await
    }

    pub async fn set_rule_enabled(
        &self,
        actor: &Actor,
        id: i64,
        enabled: bool,
    ) -> Result<RuleView, AppError> {
        let action = if enabled {
            AuditAction::Enable
        } else {
            AuditAction::Disable
        };
        let audit = actor.entry(action, unsaved(ObjectKind::Rule, ""));
        if !rows::set_enabled(self.db(), id, enabled, &audit)
            .await
            .map_err(internal)?
        {
            return Err(not_found());
        }
        self.rule(id).await
    }

    pub async fn delete_rule(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        let audit = actor.entry(AuditAction::Delete, unsaved(ObjectKind::Rule, ""));
        if !rows::delete(self.db(), id, &audit)
            .await
            .map_err(internal)?
        {
            return Err(not_found());
        }
        tracing::info!(rule_id = id, "rule deleted");
        Ok(())
    }

    /// Enabled rules with their enabled destinations, for matching events:
    /// read again only when the configuration generation, read by the
    /// caller before this call, has moved from the one they are kept at.
    pub(crate) async fn active_rules(
        &self,
        generation: i64,
    ) -> Result<Arc<Vec<ActiveRule>>, AppError> {
        let db = self.db();
        if let Some(rules) = self.inner.active_rules.get(generation) {
            return Ok(rules);
        }
        let rules = rows::list(db).await.map_err(internal)?;
        let targets = rows::targets(db, None).await.map_err(internal)?;
        let active = Arc::new(
            rules
                .into_iter()
                .filter(|r| r.enabled)
                .map(|r| ActiveRule {
                    pattern: r
                        .asset_pattern
                        .as_deref()
                        .and_then(|p| AssetPattern::parse(p).ok()),
                    destinations: targets
                        .iter()
                        .filter(|t| t.rule_id == r.id && t.enabled)
                        .map(|t| t.destination_id)
                        .collect(),
                    id: r.id,
                    name: r.name,
                    alert_type: r.alert_type,
                })
                .collect(),
        );
        self.inner.active_rules.put(generation, Arc::clone(&active));
        Ok(active)
    }
}

/// A rule as event matching needs it.
pub(crate) struct ActiveRule {
    pub id: i64,
    pub name: String,
    pub alert_type: String,
    pub pattern: Option<AssetPattern>,
    pub destinations: Vec<i64>,
}

impl ActiveRule {
    pub fn matches(&self, alert_type: &str, qualified_name: &str) -> bool {
        self.alert_type == alert_type
            && self
                .pattern
                .as_ref()
                .is_none_or(|p| p.matches(qualified_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_uses_type_and_pattern() {
        let rule = ActiveRule {
            id: 1,
            name: "r".into(),
            alert_type: "schema".into(),
            pattern: AssetPattern::parse("production.*").ok(),
            destinations: vec![1],
        };
        assert!(rule.matches("schema", "production.public.orders"));
        assert!(!rule.matches("freshness", "production.public.orders"));
        assert!(!rule.matches("schema", "staging.public.orders"));
        let any = ActiveRule {
            pattern: None,
            ..rule
        };
        assert!(any.matches("schema", "staging.x"));
    }
}
