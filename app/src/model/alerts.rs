//! Rules, alerts and deliveries as the pages and the API see them.

use crate::domain::{DeliveryState, DeliveryStatus};
use crate::model::Failure;
use serde::{Deserialize, Serialize};

/// The alert types a rule can match, with their labels.
pub const ALERT_TYPES: [(&str, &str); 4] = [
    ("schema", "Schema change"),
    ("freshness", "Freshness violation"),
    ("discovery", "Discovery complete"),
    ("connection", "Connection failed"),
];

pub fn alert_type_label(kind: &str) -> &str {
    ALERT_TYPES
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, label)| *label)
        .unwrap_or(kind)
}

/// A destination as a rule names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleDestination {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleView {
    pub id: i64,
    pub name: String,
    /// `schema`, `freshness`, `discovery` or `connection`.
    pub alert_type: String,
    /// A glob on `qualified_name` (`*` any run of characters, `?` one); `None` matches every asset.
    pub asset_pattern: Option<String>,
    pub destinations: Vec<RuleDestination>,
    pub enabled: bool,
    /// Alerts this rule raised in the last 24 hours.
    pub alerts_24h: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: i64,
}

/// A rule as submitted by the form or the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub alert_type: String,
    #[serde(default)]
    pub asset_pattern: String,
    #[serde(default)]
    pub destination_ids: Vec<i64>,
    #[serde(default)]
    pub enabled: bool,
}

/// What the Rules tab shows: the rules and the destinations a rule can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesPage {
    pub rules: Vec<RuleView>,
    pub destinations: Vec<RuleDestination>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: i64,
    /// The alert's public id (`alert_…`).
    pub alert_id: String,
    pub rule_name: String,
    pub alert_type: String,
    pub destination_id: i64,
    pub destination_name: String,
    /// The `webhook-id` header, the same on every attempt.
    pub msg_id: String,
    pub status: DeliveryStatus,
    /// `status`, with a pending delivery that has failed at least once as `retrying`.
    pub state: DeliveryState,
    /// The event's type, e.g. `schema_change`.
    pub event_type: String,
    /// The asset's qualified name.
    pub qualified_name: String,
    pub attempts: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttemptView {
    pub number: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub started_at: i64,
    pub duration_ms: i64,
    /// As sent, with authentication values masked.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<String>>))]
    pub request_headers: Vec<(String, String)>,
    pub response_status: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<String>>))]
    pub response_headers: Vec<(String, String)>,
    /// The first 64 KiB of the response body.
    pub response_body: Option<String>,
    /// `dns`, `connect`, `tls`, `timeout`, `http_status`, `redirect` or `blocked_address`.
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    /// A failed attempt explained as Send Test Alert explains it.
    pub failure: Option<Failure>,
    /// When the next attempt was scheduled after this one, if any.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryDetail {
    pub delivery: DeliveryView,
    /// The JSON body, the same on every attempt.
    pub body: String,
    pub attempts: Vec<AttemptView>,
}

/// Filters of the Deliveries tab and `GET /api/v1/deliveries`, as typed:
/// text, so that every bad value gets its own message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFilter {
    /// `pending`, `retrying`, `delivered` or `failed`.
    pub status: Option<String>,
    pub destination_id: Option<String>,
    pub rule_id: Option<String>,
    /// `schema_change`, `freshness_violation`, `discovery_complete` or `connection_failed`.
    pub event_type: Option<String>,
    /// The page's quick ranges: `1h`, `24h` or `7d` before now.
    pub range: Option<String>,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` in UTC (a browser's datetime field).
    pub since: Option<String>,
    pub until: Option<String>,
    /// An alert id (`alert_…`), a webhook-id (`msg_…`) or the start of an asset's qualified name.
    pub q: Option<String>,
    /// Opaque: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl DeliveryFilter {
    /// The filters without the cursor, as `key=value` pairs for a link.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("status", &self.status),
            ("destination_id", &self.destination_id),
            ("rule_id", &self.rule_id),
            ("event_type", &self.event_type),
            ("range", &self.range),
            ("since", &self.since),
            ("until", &self.until),
            ("q", &self.q),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect()
    }
}

pub const DELIVERIES_PER_PAGE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

/// One alert with the state of each of its deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    /// `alert_…`
    pub id: String,
    pub rule_name: String,
    pub alert_type: String,
    pub status: String,
    pub event_type: String,
    pub change_type: Option<String>,
    pub qualified_name: String,
    pub asset_type: String,
    pub created_at: i64,
    pub deliveries: Vec<DeliveryBrief>,
}

/// How an alert's deliveries stand together: the documentation's "marked as
/// failed delivery" is `failed` (every one failed) or `partly_failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AlertDeliveryStatus {
    Pending,
    Delivered,
    Failed,
    PartlyFailed,
}

impl AlertView {
    /// Pending while any delivery is; with none (no destination was enabled), delivered.
    pub fn delivery_status(&self) -> AlertDeliveryStatus {
        let count = |status| {
            self.deliveries
                .iter()
                .filter(|d| d.status == status)
                .count()
        };
        let failed = count(DeliveryStatus::Failed);
        if count(DeliveryStatus::Pending) > 0 {
            AlertDeliveryStatus::Pending
        } else if failed == 0 {
            AlertDeliveryStatus::Delivered
        } else if failed == self.deliveries.len() {
            AlertDeliveryStatus::Failed
        } else {
            AlertDeliveryStatus::PartlyFailed
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryBrief {
    pub id: i64,
    pub destination_name: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
}

pub const ALERTS_PER_PAGE: i64 = 50;
