use super::DeliveryStatus;
use serde::{Deserialize, Serialize};

/// Where a delivery stands as a person asks about it: a pending delivery that
/// has failed at least once is `retrying`. The Deliveries tab's and the API's
/// `status` filter, and the badge on every delivery row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum DeliveryState {
    Pending,
    Retrying,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 4] = [
        DeliveryState::Pending,
        DeliveryState::Retrying,
        DeliveryState::Delivered,
        DeliveryState::Failed,
    ];

    /// The stored status, and whether a pending delivery has failed since it was (re)queued.
    pub fn of(status: DeliveryStatus, retrying: bool) -> Self {
        match status {
            DeliveryStatus::Pending if retrying => DeliveryState::Retrying,
            DeliveryStatus::Pending => DeliveryState::Pending,
            DeliveryStatus::Delivered => DeliveryState::Delivered,
            DeliveryStatus::Failed => DeliveryState::Failed,
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| "status is pending, retrying, delivered or failed".to_owned())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Pending => "Pending",
            DeliveryState::Retrying => "Retrying",
            DeliveryState::Delivered => "Delivered",
            DeliveryState::Failed => "Failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_and_follow_the_status() {
        for s in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(s.as_str()), Ok(s));
        }
        assert!(DeliveryState::parse("lost").is_err());
        assert_eq!(
            DeliveryState::of(DeliveryStatus::Pending, true),
            DeliveryState::Retrying
        );
        assert_eq!(
            DeliveryState::of(DeliveryStatus::Pending, false),
            DeliveryState::Pending
        );
        assert_eq!(
            DeliveryState::of(DeliveryStatus::Failed, true),
            DeliveryState::Failed
        );
    }
}
