//! Destination health: the figures of `GET /api/v1/destinations/{id}/health`,
//! the destination page's charts, its list badge, and Send Test Alert history.

use super::DeliveryView;
use serde::{Deserialize, Serialize};

/// Which stretch of time the health figures cover.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum HealthWindow {
    /// The last 24 hours (24 hourly rows), the default.
    #[default]
    #[serde(rename = "24h")]
    Day,
    /// The last 7 days (168 hourly rows).
    #[serde(rename = "7d")]
    Week,
}

impl HealthWindow {
    pub const ALL: [HealthWindow; 2] = [HealthWindow::Day, HealthWindow::Week];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HealthWindow::Day => "24h",
            HealthWindow::Week => "7d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HealthWindow::Day => "Last 24 hours",
            HealthWindow::Week => "Last 7 days",
        }
    }

    /// Hours in the window.
    pub fn hours(self) -> i64 {
        match self {
            HealthWindow::Day => 24,
            HealthWindow::Week => 168,
        }
    }

    /// Hours per chart bar: hourly bars for a day, daily bars for a week.
    pub fn hours_per_bar(self) -> i64 {
        match self {
            HealthWindow::Day => 1,
            HealthWindow::Week => 24,
        }
    }
}

/// `healthy`, `failing` (its latest attempt failed) or `disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum HealthState {
    Healthy,
    Failing,
    Disabled,
}

/// The Destinations list's badge: the state, or `no_traffic` when an
/// enabled destination had no delivery attempt in the last 7 days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum HealthBadge {
    Healthy,
    Failing,
    Disabled,
    #[default]
    NoTraffic,
}

impl HealthBadge {
    pub fn label(self) -> &'static str {
        match self {
            HealthBadge::Healthy => "Healthy",
            HealthBadge::Failing => "Failing",
            HealthBadge::Disabled => "Disabled",
            HealthBadge::NoTraffic => "No traffic",
        }
    }

    /// The badge's CSS classes.
    pub fn class(self) -> &'static str {
        match self {
            HealthBadge::Healthy => "badge ok health",
            HealthBadge::Failing => "badge failed health",
            HealthBadge::Disabled | HealthBadge::NoTraffic => "badge health",
        }
    }
}

/// Attempts by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OutcomeCounts {
    pub succeeded: i64,
    /// An HTTP 4xx answer.
    pub http_4xx: i64,
    /// An HTTP 5xx answer.
    pub http_5xx: i64,
    pub timeout: i64,
    /// DNS, connection, TLS or a blocked address.
    pub network: i64,
    /// A 3xx (never followed), another status, or not sent at all.
    pub other: i64,
}

impl OutcomeCounts {
    pub fn total(&self) -> i64 {
        self.succeeded + self.failed()
    }

    pub fn failed(&self) -> i64 {
        self.http_4xx + self.http_5xx + self.timeout + self.network + self.other
    }

    /// `(label, count, css class)` in chart order, successes at the bottom.
    pub fn parts(&self) -> [(&'static str, i64, &'static str); 6] {
        [
            ("Succeeded", self.succeeded, "ok"),
            ("HTTP 4xx", self.http_4xx, "c4xx"),
            ("HTTP 5xx", self.http_5xx, "c5xx"),
            ("Timeout", self.timeout, "timeout"),
            ("Connection, TLS or DNS", self.network, "network"),
            ("Other", self.other, "other"),
        ]
    }
}

/// `GET /api/v1/destinations/{id}/health`: alert-delivery attempts in the
/// window (test sends are not counted), from the hourly aggregates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DestinationHealth {
    pub window: HealthWindow,
    pub attempts: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// `succeeded / attempts`, from 0 to 1; `null` without attempts.
    pub success_rate: Option<f64>,
    /// The upper bound of the latency bucket holding the median (`null` without attempts).
    pub p50_ms: Option<i64>,
    /// The same for the 95th percentile.
    pub p95_ms: Option<i64>,
    /// Failed attempts since the last successful one (whatever the window).
    pub consecutive_failures: i64,
    /// The latest failed attempt's error (whatever the window).
    pub last_error: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub last_error_at: Option<i64>,
    pub state: HealthState,
    pub outcomes: OutcomeCounts,
}

/// One bar of a health chart: an hour (24 h window) or a day (7 d window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthBar {
    pub start: i64,
    pub outcomes: OutcomeCounts,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

/// One Send Test Alert of a saved destination (an attempt of kind test).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSendView {
    pub at: i64,
    /// Who sent it: an email or an API key's name.
    pub by: Option<String>,
    pub ok: bool,
    pub status: Option<i64>,
    /// `200 OK`, or what went wrong.
    pub summary: String,
    pub duration_ms: i64,
    pub error: Option<String>,
}

/// The health part of a destination's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationHealthPage {
    pub health: DestinationHealth,
    pub bars: Vec<HealthBar>,
    /// The latest deliveries to it, newest first.
    pub recent: Vec<DeliveryView>,
    /// The latest test sends, newest first.
    pub tests: Vec<TestSendView>,
    /// The server's clock when read, for "3 min ago".
    pub now: i64,
}
