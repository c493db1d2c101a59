//! Settings -> Notifications: which destinations receive operational events
//! (`destination.disabled`, see `auto_disable`).

use super::{internal, Services};
use crate::store::notifications as rows;
use app::error::AppError;
use app::model::{NotificationSettings, RuleDestination};

/// The most destinations one choice may name.
pub const MAX_NOTIFICATION_DESTINATIONS: usize = 1000;

impl Services {
    /// The chosen destinations (deleted ones left out), by id.
    pub async fn notification_destinations(&self) -> Result<Vec<i64>, AppError> {
        rows::chosen(self.db()).await.map_err(internal)
    }

    /// Replaces the choice. Unknown or deleted ids are refused (field
    /// `destination_ids`) and nothing changes; repeated ids count once.
    pub async fn set_notification_destinations(&self, ids: &[i64]) -> Result<Vec<i64>, AppError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() > MAX_NOTIFICATION_DESTINATIONS {
            return Err(AppError::invalid(
                "destination_ids",
                format!("Choose at most {MAX_NOTIFICATION_DESTINATIONS} destinations"),
            ));
        }
        match rows::replace(self.db(), &ids).await.map_err(internal)? {
            Ok(()) => {
                tracing::info!(destinations = ?ids, "notification destinations changed");
                Ok(ids)
            }
            Err(missing) => {
                let listed = missing
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let message = if missing.len() == 1 {
                    format!("There is no destination {listed} (unknown or deleted)")
                } else {
                    format!("There are no destinations {listed} (unknown or deleted)")
                };
                Err(AppError::invalid("destination_ids", message))
            }
        }
    }

    /// What the Notifications page shows: every destination, and the chosen ones.
    pub async fn notification_settings(&self) -> Result<NotificationSettings, AppError> {
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
        Ok(NotificationSettings {
            destinations,
            chosen: self.notification_destinations().await?,
        })
    }
}
