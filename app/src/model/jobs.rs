//! Background jobs: a bulk redelivery of the failed deliveries a filter matches.

use super::DeliveryFilter;
use serde::{Deserialize, Serialize};

/// The most deliveries one bulk redelivery takes.
pub const MAX_JOB_DELIVERIES: i64 = 100_000;

/// Where a job stands. `queued` and `running` are active: at most one active
/// job per filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum JobState {
    Queued,
    Running,
    Done,
    Cancelled,
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Cancelled,
        JobState::Failed,
    ];

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| format!("unknown job state {raw:?}"))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Cancelled => "cancelled",
            JobState::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobState::Queued => "Queued",
            JobState::Running => "Running",
            JobState::Done => "Done",
            JobState::Cancelled => "Cancelled",
            JobState::Failed => "Failed",
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// For rows read from the database.
impl TryFrom<String> for JobState {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

/// A job as the API (`{"job": Job}`) and its page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobView {
    pub id: i64,
    /// Always `redeliver` for now.
    pub kind: String,
    pub state: JobState,
    /// Deliveries that matched when the job was created.
    pub total: i64,
    /// Deliveries queued again so far.
    pub done: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub started_at: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub finished_at: Option<i64>,
    /// Who started it: a user's email or an API key's name.
    pub created_by: String,
    /// Why it ended `failed` or `cancelled`.
    pub error: Option<String>,
    /// What it redelivers (times absolute, RFC 3339).
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub filter: DeliveryFilter,
}

/// What a bulk redelivery would take, shown before it is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeliveryPreview {
    /// Failed deliveries that match now.
    pub count: i64,
    pub cap: i64,
    /// The filter with absolute times: what the confirm button sends.
    pub filter: DeliveryFilter,
    /// The filter in words ("to Ops hook, created from ... to ...").
    pub description: String,
    /// An active job with the same filter.
    pub running: Option<i64>,
}
