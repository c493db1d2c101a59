//! Server functions of Settings -> Notifications (admins).

use crate::error::AppError;
use crate::model::NotificationSettings;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::context::{backend, plain_form_post, require_role},
    crate::domain::Role,
};

#[server(prefix = "/fn", endpoint = "notification_settings")]
pub async fn load_notification_settings() -> Result<NotificationSettings, AppError> {
    require_role(Role::Admin)?;
    backend()?.notification_settings().await
}

/// Replaces the destinations that receive operational events. The
/// checkboxes are named `destination_ids[<n>]`; none ticked sends none.
#[server(prefix = "/fn", endpoint = "save_notification_settings")]
pub async fn save_notification_settings(
    #[server(default)] destination_ids: Vec<i64>,
) -> Result<Vec<i64>, AppError> {
    require_role(Role::Admin)?;
    let chosen = destination_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    match backend()?
        .set_notification_destinations(destination_ids)
        .await
    {
        Ok(saved) => {
            if plain_form_post() {
                leptos_axum::redirect("/settings/notifications?saved=1");
            }
            Ok(saved)
        }
        // The checkboxes come back as sent, for a page reloaded without JavaScript.
        Err(AppError::Invalid(mut errors)) => {
            if errors.value_for("destination_ids").is_none() {
                errors.keep("destination_ids", &chosen);
            }
            Err(AppError::Invalid(errors))
        }
        Err(other) => Err(other),
    }
}
