//! Destinations as the pages and the API see them.

use serde::{Deserialize, Serialize};

/// How a destination authenticates to its endpoint, without the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AuthKind {
    None,
    Bearer,
    ApiKey,
}

impl AuthKind {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "none" | "" => Some(AuthKind::None),
            "bearer" => Some(AuthKind::Bearer),
            "api_key" => Some(AuthKind::ApiKey),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::None => "none",
            AuthKind::Bearer => "bearer",
            AuthKind::ApiKey => "api_key",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuthKind::None => "None",
            AuthKind::Bearer => "Bearer token",
            AuthKind::ApiKey => "API key",
        }
    }
}

/// For rows read from the database.
impl TryFrom<String> for AuthKind {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        AuthKind::parse(&raw).ok_or_else(|| format!("unknown authentication type {raw:?}"))
    }
}

/// Why a destination is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum DisabledReason {
    /// Someone disabled it.
    Manual,
    /// Its deliveries all failed for `ALERTWIRE_AUTO_DISABLE_AFTER`.
    Auto,
}

impl DisabledReason {
    pub const ALL: [DisabledReason; 2] = [DisabledReason::Manual, DisabledReason::Auto];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DisabledReason::Manual => "manual",
            DisabledReason::Auto => "auto",
        }
    }
}

/// Which button submitted the Configure form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Send Test Alert with the values on screen, saved or not.
    Test,
    /// Save (create or update).
    Save,
    /// Without JavaScript: show the form again, as typed, with one more blank header row.
    #[serde(rename = "add_header")]
    AddHeader,
}

/// One custom header row as typed in the form, or as a destination shows it:
/// a secret header's value is never shown (empty), only that it is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HeaderRow {
    #[serde(default)]
    pub name: String,
    /// Left out of answers when empty, as it always is for a secret header.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// Sealed at rest, write-only, masked in attempt records. Names that carry
    /// credentials (`Authorization`, `Cookie`, `*token*`, `*key*`, `*secret*`,
    /// `*password*`) are secret whatever this says.
    #[serde(default, deserialize_with = "checkbox")]
    pub secret: bool,
}

/// A form checkbox posts `true` or `on` when ticked and nothing when not;
/// JSON sends a boolean.
fn checkbox<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Bool(b) => b,
        Raw::Text(t) => matches!(t.as_str(), "true" | "on" | "1"),
    })
}

/// The Configure step, as submitted. Secrets left empty while editing keep
/// the stored ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub auth_type: String,
    #[serde(default)]
    pub bearer_token: String,
    #[serde(default)]
    pub api_key_header: String,
    #[serde(default)]
    pub api_key: String,
    #[serde(default)]
    pub headers: Vec<HeaderRow>,
}

/// The result of the last test or delivery, for the list and detail pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LastResult {
    pub ok: bool,
    /// `200 OK`, or what went wrong (`Connection refused`).
    pub summary: String,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DestinationView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub host: String,
    pub auth: AuthKind,
    /// The API key header name, when the auth is an API key.
    pub api_key_header: Option<String>,
    pub headers: Vec<HeaderRow>,
    pub enabled: bool,
    /// Why it is disabled (`null` while enabled).
    pub disabled_reason: Option<DisabledReason>,
    /// When it was disabled (`null` while enabled).
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub disabled_at: Option<i64>,
    pub last_result: Option<LastResult>,
    /// The Destinations list's health badge, from stored columns.
    #[serde(default)]
    pub health: super::HealthBadge,
    /// When the previous signing secret stops being used, during a rotation.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub previous_secret_expires_at: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub updated_at: i64,
}

/// A destination just created or whose secret was rotated: the only times
/// the signing secret is shown without re-entering a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationWithSecret {
    pub destination: DestinationView,
    pub signing_secret: String,
}

/// What Send Test Alert did and saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestReport {
    /// `POST https://…`
    pub request_line: String,
    /// Headers sent, secrets masked.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<String>>))]
    pub request_headers: Vec<(String, String)>,
    pub ok: bool,
    /// `200 OK`, when a response came.
    pub status: Option<String>,
    pub response_ms: u64,
    /// The first 2 KiB of the response body.
    pub response_body: String,
    pub response_truncated: bool,
    pub failure: Option<Failure>,
}

/// A failure explained in the words of the documentation's Troubleshooting section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Failure {
    /// dns, connect, tls, timeout, http_status, redirect, blocked_address
    pub kind: String,
    /// `"Connection refused" or timeout`, `401 Unauthorized`, …
    pub title: String,
    pub cause: String,
    pub detail: String,
    pub fixes: Vec<String>,
}

/// What submitting the Configure form did, by the button pressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DestinationOutcome {
    Tested(TestReport),
    Created(DestinationWithSecret),
    Updated(DestinationView),
    /// Nothing was saved or sent: the form comes back as typed (Add another header).
    Kept,
}

/// What a page reloaded after a form post without JavaScript still needs:
/// the form as typed, the test result, or a secret to show once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationFlash {
    pub destination_id: Option<i64>,
    pub form: Option<DestinationForm>,
    pub report: Option<TestReport>,
    pub signing_secret: Option<String>,
    pub notice: Option<String>,
}

/// The wizard or a destination's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationPageData {
    pub destination: Option<DestinationView>,
    pub flash: Option<DestinationFlash>,
    /// For a destination disabled automatically: what enabling it may redeliver.
    pub failed_while_failing: Option<FailedWhileFailing>,
}

/// The deliveries of an auto-disabled destination that ended failed since it
/// started failing: what "Enable and redeliver" queues again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedWhileFailing {
    pub failing_since: i64,
    /// Counted up to `REDELIVER_ON_ENABLE_CAP` + 1.
    pub failed: i64,
}

/// The most deliveries "Enable and redeliver" queues again at once.
pub const REDELIVER_ON_ENABLE_CAP: i64 = 100_000;

/// What enabling a destination did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enabled {
    pub destination: DestinationView,
    /// Deliveries queued again.
    pub redelivered: u64,
}

impl Enabled {
    /// What the destination's page says after enabling it, with or without JavaScript.
    pub fn notice(&self) -> String {
        match self.redelivered {
            0 => "Destination enabled.".into(),
            1 => "Destination enabled. 1 failed delivery is queued again.".into(),
            n => format!("Destination enabled. {n} failed deliveries are queued again."),
        }
    }
}

/// A destination disabled automatically, for the Alerts area's banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoDisabled {
    pub id: i64,
    pub name: String,
    pub disabled_at: i64,
}

/// Settings -> Notifications: every destination, and those chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub destinations: Vec<crate::model::RuleDestination>,
    pub chosen: Vec<i64>,
}

/// Destinations per page of the Destinations tab.
pub const DESTINATIONS_PER_PAGE: i64 = 50;

/// One page of the Destinations tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationList {
    pub items: Vec<DestinationView>,
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
}
