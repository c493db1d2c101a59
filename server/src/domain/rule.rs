//! A rule form parsed into values that can only be valid. Whether the chosen
//! destinations exist is the service's question.

use super::glob::AssetPattern;
use super::name::Name;
use app::error::FormErrors;
use app::model::{RuleForm, ALERT_TYPES};

pub const MAX_DESTINATIONS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRule {
    pub name: Name,
    /// One of `ALERT_TYPES`.
    pub alert_type: String,
    /// The glob as typed (trimmed), known to parse; `None` matches every asset.
    pub asset_pattern: Option<String>,
    pub enabled: bool,
    /// Sorted, without repeats, 1 to `MAX_DESTINATIONS`.
    pub destination_ids: Vec<i64>,
}

/// Checks every field at once.
pub fn parse(form: &RuleForm) -> Result<ValidRule, FormErrors> {
    let mut errors = FormErrors::default();
    errors.keep("name", &form.name);
    errors.keep("alert_type", &form.alert_type);
    errors.keep("asset_pattern", &form.asset_pattern);
    let name = Name::parse(&form.name, "the rule")
        .map_err(|m| errors.add("name", m))
        .ok();
    if !ALERT_TYPES.iter().any(|(k, _)| *k == form.alert_type) {
        errors.add(
            "alert_type",
            "Choose the alert type: schema, freshness, discovery or connection",
        );
    }
    let asset_pattern = match form.asset_pattern.trim() {
        "" => None,
        text => AssetPattern::parse(text)
            .map(|_| text.to_owned())
            .map_err(|m| errors.add("asset_pattern", m))
            .ok(),
    };
    let mut destination_ids = form.destination_ids.clone();
    destination_ids.sort_unstable();
    destination_ids.dedup();
    if destination_ids.is_empty() {
        errors.add("destination_ids", "Choose at least one destination");
    } else if destination_ids.len() > MAX_DESTINATIONS {
        errors.add(
            "destination_ids",
            format!("A rule can send to at most {MAX_DESTINATIONS} destinations"),
        );
    }
    match name {
        Some(name) if errors.is_empty() => Ok(ValidRule {
            name,
            alert_type: form.alert_type.clone(),
            asset_pattern,
            enabled: form.enabled,
            destination_ids,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RuleForm {
        RuleForm {
            name: "Production schema changes".into(),
            alert_type: "schema".into(),
            asset_pattern: "production.public.*".into(),
            destination_ids: vec![3, 1, 3],
            enabled: true,
        }
    }

    #[test]
    fn a_good_rule_parses() {
        let f = parse(&form()).unwrap();
        assert_eq!(f.destination_ids, [1, 3]);
        assert_eq!(f.asset_pattern.as_deref(), Some("production.public.*"));
        let mut any = form();
        any.asset_pattern = "  ".into();
        assert_eq!(parse(&any).unwrap().asset_pattern, None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = RuleForm {
            name: " ".into(),
            alert_type: "weather".into(),
            asset_pattern: "a\u{1}".into(),
            destination_ids: vec![],
            enabled: true,
        };
        let errors = parse(&bad).unwrap_err();
        let fields: Vec<&str> = errors.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["name", "alert_type", "asset_pattern", "destination_ids"]
        );
    }
}
