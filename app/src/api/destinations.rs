use crate::error::AppError;
use crate::model::{
    AutoDisabled, DestinationForm, DestinationHealthPage, DestinationList, DestinationOutcome,
    DestinationPageData, DestinationView, DestinationWithSecret, Enabled, Intent,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::context::{backend, plain_form_post, require_role, session},
    crate::backend::DestinationSubmission,
    crate::domain::Role,
    crate::model::HealthWindow,
};

#[server(prefix = "/fn", endpoint = "destinations")]
pub async fn list_destinations(page: Option<i64>) -> Result<DestinationList, AppError> {
    require_role(Role::Viewer)?;
    backend()?.destination_list(page.unwrap_or(1)).await
}

#[server(prefix = "/fn", endpoint = "destination_page")]
pub async fn destination_page(id: Option<i64>) -> Result<DestinationPageData, AppError> {
    require_role(Role::Viewer)?;
    backend()?.destination_page(&session().await?, id).await
}

/// A destination's health (`window` `24h`, the default, or `7d`), recent
/// deliveries and test sends.
#[server(prefix = "/fn", endpoint = "destination_health")]
pub async fn destination_health(
    id: i64,
    window: Option<String>,
) -> Result<DestinationHealthPage, AppError> {
    require_role(Role::Viewer)?;
    let window = match window.as_deref() {
        None | Some("") => HealthWindow::default(),
        Some(raw) => {
            HealthWindow::parse(raw).ok_or_else(|| AppError::invalid("window", "Use 24h or 7d"))?
        }
    };
    backend()?.destination_health(id, window).await
}

/// Send Test Alert (`intent=test`) or Save (`intent=save`) from the Configure form.
#[server(prefix = "/fn", endpoint = "submit_destination")]
pub async fn submit_destination(
    form: DestinationForm,
    intent: Intent,
    id: Option<i64>,
) -> Result<DestinationOutcome, AppError> {
    require_role(Role::Editor)?;
    let session = session().await?;
    let request = DestinationSubmission {
        session: &session,
        plain_form: plain_form_post(),
        id,
        form,
        intent,
    };
    let outcome = backend()?.submit_destination(request).await?;
    if let DestinationOutcome::Created(created) = &outcome {
        leptos_axum::redirect(&format!("/alerts/destinations/{}", created.destination.id));
    }
    Ok(outcome)
}

#[server(prefix = "/fn", endpoint = "set_destination_enabled")]
pub async fn set_destination_enabled(id: i64, enabled: bool) -> Result<DestinationView, AppError> {
    require_role(Role::Editor)?;
    backend()?.set_destination_enabled(id, enabled).await
}

/// Enables a destination; `redeliver` (admins) also queues again what ended
/// failed while it was failing, when it was disabled automatically.
#[server(prefix = "/fn", endpoint = "enable_destination")]
pub async fn enable_destination(
    id: i64,
    #[server(default)] redeliver: bool,
) -> Result<Enabled, AppError> {
    require_role(if redeliver { Role::Admin } else { Role::Editor })?;
    backend()?
        .enable_destination(&session().await?, plain_form_post(), id, redeliver)
        .await
}

/// The destinations disabled automatically, for the Alerts area's banner (editors and admins).
#[server(prefix = "/fn", endpoint = "auto_disabled_destinations")]
pub async fn auto_disabled_destinations() -> Result<Vec<AutoDisabled>, AppError> {
    require_role(Role::Editor)?;
    backend()?.auto_disabled_destinations().await
}

#[server(prefix = "/fn", endpoint = "delete_destination")]
pub async fn delete_destination(id: i64) -> Result<(), AppError> {
    require_role(Role::Editor)?;
    backend()?.delete_destination(id).await?;
    leptos_axum::redirect("/alerts/destinations");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "reveal_signing_secret")]
pub async fn reveal_signing_secret(id: i64, password: String) -> Result<String, AppError> {
    let actor = require_role(Role::Editor)?;
    backend()?
        .reveal_signing_secret(&session().await?, plain_form_post(), &actor, id, &password)
        .await
}

#[server(prefix = "/fn", endpoint = "rotate_signing_secret")]
pub async fn rotate_signing_secret(id: i64) -> Result<DestinationWithSecret, AppError> {
    require_role(Role::Editor)?;
    backend()?
        .rotate_signing_secret(&session().await?, plain_form_post(), id)
        .await
}
