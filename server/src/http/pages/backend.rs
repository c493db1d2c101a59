//! The pages' `Backend`: each method calls the same service the REST API
//! uses, and adds what only a browser needs: the session, and the flash that
//! a page reloaded without JavaScript shows.

use super::flash;
use crate::http::sessions;
use crate::services::accounts::SignedIn;
use crate::services::destinations::DEFAULT_GRACE;
use crate::services::{Actor, Services};
use app::backend::{Backend, DestinationSubmission, NewUserInput};
use app::error::AppError;
use app::model::{
    AlertView, ApiKeysPage, AuditFilter, AuditLogData, AutoDisabled, CurrentUser, DeliveryDetail,
    DeliveryFilter, DeliveryPage, DeliveryView, DestinationFlash, DestinationList,
    DestinationOutcome, DestinationPageData, DestinationView, DestinationWithSecret, Enabled,
    Intent, NewApiKey, NotificationSettings, RuleForm, RuleView, RulesPage, UserView,
    ALERTS_PER_PAGE, AUDIT_ENTRIES_PER_PAGE,
};
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use leptos::prelude::use_context;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

/// The request being served, which Leptos keeps in the context of the server
/// function or page that calls the backend.
fn request() -> Option<Parts> {
    use_context::<Parts>()
}

/// The client's peer address, as the sign-in limits use it.
fn client_address() -> Option<IpAddr> {
    request()?
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// `user` acting from this request's address.
fn as_actor(user: &CurrentUser) -> Actor {
    Actor::user(user.id, &user.email, client_address())
}

/// The signed-in user of this request (put there by `guard::resolve_user`),
/// as the audit log records them.
fn actor() -> Result<Actor, AppError> {
    let user = request()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
        .ok_or(AppError::Unauthenticated)?;
    Ok(as_actor(&user))
}

pub struct PageBackend {
    services: Services,
}

impl PageBackend {
    pub fn new(services: Services) -> Self {
        PageBackend { services }
    }

    /// Keeps `flash` for the page reloaded after a plain form post.
    async fn flash(&self, session: &Session, flash: DestinationFlash) -> Result<(), AppError> {
        flash::put_destination(self.services.secrets(), session, &flash).await
    }
}

#[async_trait::async_trait]
impl Backend for PageBackend {
    async fn setup_first_admin(
        &self,
        session: &Session,
        input: NewUserInput,
    ) -> Result<(), AppError> {
        let signed_in = self
            .services
            .setup_first_admin(&Actor::anonymous(client_address()), input)
            .await?;
        sessions::sign_in(session, signed_in).await
    }

    async fn login(
        &self,
        session: &Session,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let signed_in = self.services.login(email, password, client).await?;
        sessions::sign_in(session, signed_in).await
    }

    async fn logout(&self, session: &Session) -> Result<(), AppError> {
        sessions::sign_out(session).await
    }

    async fn change_password(
        &self,
        session: &Session,
        actor: &CurrentUser,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), AppError> {
        let session_epoch = self
            .services
            .change_password(&as_actor(actor), current, new, confirm)
            .await?;
        // Every other session of this user ended with the change; this one goes on.
        let signed_in = SignedIn {
            user_id: actor.id,
            session_epoch,
        };
        sessions::sign_in(session, signed_in).await
    }

    async fn list_users(&self) -> Result<Vec<UserView>, AppError> {
        self.services.list_users().await
    }

    async fn create_user(&self, input: NewUserInput) -> Result<UserView, AppError> {
        self.services.create_user(&actor()?, input).await
    }

    async fn set_user_role(
        &self,
        actor: &CurrentUser,
        user_id: i64,
        role: &str,
    ) -> Result<(), AppError> {
        self.services
            .set_user_role(&as_actor(actor), user_id, role)
            .await
    }

    async fn set_user_active(
        &self,
        actor: &CurrentUser,
        user_id: i64,
        active: bool,
    ) -> Result<(), AppError> {
        self.services
            .set_user_active(&as_actor(actor), user_id, active)
            .await
    }

    async fn api_keys_page(&self, session: &Session) -> Result<ApiKeysPage, AppError> {
        Ok(ApiKeysPage {
            keys: self.services.list_api_keys().await?,
            just_created: flash::take_api_key(self.services.secrets(), session).await?,
        })
    }

    async fn create_api_key(
        &self,
        session: &Session,
        actor: &CurrentUser,
        name: &str,
        role: &str,
    ) -> Result<NewApiKey, AppError> {
        let created = self
            .services
            .create_api_key(name, role, &as_actor(actor))
            .await?;
        flash::put_api_key(self.services.secrets(), session, &created).await?;
        Ok(created)
    }

    async fn revoke_api_key(&self, key_id: i64) -> Result<(), AppError> {
        self.services.revoke_api_key(&actor()?, key_id).await
    }

    async fn destination_list(&self, page: i64) -> Result<DestinationList, AppError> {
        self.services.destination_list(page).await
    }

    async fn destination_page(
        &self,
        session: &Session,
        id: Option<i64>,
    ) -> Result<DestinationPageData, AppError> {
        let destination = match id {
            Some(id) => Some(self.services.destination(id).await?),
            None => None,
        };
        let flash = flash::take_destination(self.services.secrets(), session)
            .await?
            .filter(|f| f.destination_id == id);
        let failed_while_failing = match id {
            Some(id) => self.services.failed_while_failing(id).await?,
            None => None,
        };
        Ok(DestinationPageData {
            destination,
            flash,
            failed_while_failing,
        })
    }

    async fn destination_health(
        &self,
        id: i64,
        window: app::model::HealthWindow,
    ) -> Result<app::model::DestinationHealthPage, AppError> {
        self.services.destination_health_page(id, window).await
    }

    async fn submit_destination(
        &self,
        request: DestinationSubmission<'_>,
    ) -> Result<DestinationOutcome, AppError> {
        let DestinationSubmission {
            session,
            plain_form,
            id,
            form,
            intent,
        } = request;
        let services = &self.services;
        let actor = actor()?;
        let result = match (intent, id) {
            (Intent::Test, _) => services
                .test_destination(&actor, &form, id)
                .await
                .map(DestinationOutcome::Tested),
            (Intent::Save, None) => services
                .create_destination(&actor, &form)
                .await
                .map(DestinationOutcome::Created),
            (Intent::Save, Some(id)) => services
                .update_destination(&actor, id, &form)
                .await
                .map(DestinationOutcome::Updated),
            (Intent::AddHeader, _) => Ok(DestinationOutcome::Kept),
        };
        let mut flash = DestinationFlash {
            destination_id: id,
            ..DestinationFlash::default()
        };
        match &result {
            // Shown once on the new destination's page, with or without JavaScript.
            Ok(DestinationOutcome::Created(created)) => {
                flash.destination_id = Some(created.destination.id);
                flash.signing_secret = Some(created.signing_secret.clone());
                flash.notice = Some("Destination saved.".into());
            }
            Ok(DestinationOutcome::Tested(report)) if plain_form => {
                flash.form = Some(form);
                flash.report = Some(report.clone());
            }
            Ok(DestinationOutcome::Updated(_)) if plain_form => {
                flash.notice = Some("Changes saved.".into())
            }
            Err(AppError::Invalid(_)) | Ok(DestinationOutcome::Kept) if plain_form => {
                flash.form = Some(form)
            }
            _ => return result,
        }
        self.flash(session, flash).await?;
        result
    }

    async fn set_destination_enabled(
        &self,
        id: i64,
        enabled: bool,
    ) -> Result<DestinationView, AppError> {
        self.services
            .set_destination_enabled(&actor()?, id, enabled)
            .await
    }

    async fn delete_destination(&self, id: i64) -> Result<(), AppError> {
        self.services.delete_destination(&actor()?, id).await
    }

    async fn enable_destination(
        &self,
        session: &Session,
        plain_form: bool,
        id: i64,
        redeliver: bool,
    ) -> Result<Enabled, AppError> {
        let enabled = self.services.enable_destination(id, redeliver).await?;
        if plain_form {
            let flash = DestinationFlash {
                destination_id: Some(id),
                notice: Some(enabled.notice()),
                ..DestinationFlash::default()
            };
            self.flash(session, flash).await?;
        }
        Ok(enabled)
    }

    async fn auto_disabled_destinations(&self) -> Result<Vec<AutoDisabled>, AppError> {
        self.services.auto_disabled_destinations().await
    }

    async fn notification_settings(&self) -> Result<NotificationSettings, AppError> {
        self.services.notification_settings().await
    }

    async fn set_notification_destinations(&self, ids: Vec<i64>) -> Result<Vec<i64>, AppError> {
        self.services.set_notification_destinations(&ids).await
    }

    async fn reveal_signing_secret(
        &self,
        session: &Session,
        plain_form: bool,
        actor: &CurrentUser,
        id: i64,
        password: &str,
    ) -> Result<String, AppError> {
        let secret = self
            .services
            .reveal_signing_secret(&as_actor(actor), id, password)
            .await?;
        if plain_form {
            let flash = DestinationFlash {
                destination_id: Some(id),
                signing_secret: Some(secret.clone()),
                ..DestinationFlash::default()
            };
            self.flash(session, flash).await?;
        }
        Ok(secret)
    }

    async fn rotate_signing_secret(
        &self,
        session: &Session,
        plain_form: bool,
        id: i64,
    ) -> Result<DestinationWithSecret, AppError> {
        let rotated = self
            .services
            .rotate_signing_secret(&actor()?, id, DEFAULT_GRACE)
            .await?;
        if plain_form {
            let flash = DestinationFlash {
                destination_id: Some(id),
                signing_secret: Some(rotated.signing_secret.clone()),
                notice: Some("New signing secret created.".into()),
                ..DestinationFlash::default()
            };
            self.flash(session, flash).await?;
        }
        Ok(rotated)
    }

    async fn rules_page(&self) -> Result<RulesPage, AppError> {
        self.services.rules_page().await
    }

    async fn rule(&self, id: i64) -> Result<RuleView, AppError> {
        self.services.rule(id).await
    }

    async fn save_rule(&self, id: Option<i64>, form: RuleForm) -> Result<RuleView, AppError> {
        self.services.save_rule(&actor()?, id, &form).await
    }

    async fn set_rule_enabled(&self, id: i64, enabled: bool) -> Result<RuleView, AppError> {
        self.services.set_rule_enabled(&actor()?, id, enabled).await
    }

    async fn delete_rule(&self, id: i64) -> Result<(), AppError> {
        self.services.delete_rule(&actor()?, id).await
    }

    async fn recent_alerts(
        &self,
        before: Option<i64>,
    ) -> Result<(Vec<AlertView>, Option<i64>), AppError> {
        self.services.recent_alerts(before, ALERTS_PER_PAGE).await
    }

    async fn asset_alerts(
        &self,
        qualified_name: &str,
        before: Option<i64>,
    ) -> Result<(Vec<AlertView>, Option<i64>), AppError> {
        self.services
            .asset_alerts(qualified_name, before, ALERTS_PER_PAGE)
            .await
    }

    async fn alert(&self, public_id: &str) -> Result<AlertView, AppError> {
        self.services.alert(public_id).await
    }

    async fn deliveries(&self, filter: DeliveryFilter) -> Result<DeliveryPage, AppError> {
        self.services.deliveries(&filter).await
    }

    async fn delivery(&self, id: i64) -> Result<DeliveryDetail, AppError> {
        self.services.delivery(id).await
    }

    async fn redeliver(&self, id: i64) -> Result<DeliveryView, AppError> {
        self.services.redeliver(&actor()?, id).await
    }

    async fn audit_log(&self, filter: AuditFilter) -> Result<AuditLogData, AppError> {
        Ok(AuditLogData {
            page: self
                .services
                .audit_log(&filter, AUDIT_ENTRIES_PER_PAGE)
                .await?,
            actors: self.services.audit_actors().await?,
        })
    }

    fn history_kept_ms(&self) -> u64 {
        u64::try_from(self.services.retention().as_millis()).unwrap_or(u64::MAX)
    }

    async fn cancel_delivery(&self, id: i64) -> Result<DeliveryView, AppError> {
        self.services.cancel_delivery(&actor()?, id).await
    }

    fn now_ms(&self) -> i64 {
        crate::clock::now_ms()
    }

    async fn redelivery_preview(
        &self,
        filter: DeliveryFilter,
    ) -> Result<app::model::RedeliveryPreview, AppError> {
        self.services.redelivery_preview(&filter).await
    }

    async fn start_redelivery(
        &self,
        filter: DeliveryFilter,
    ) -> Result<app::model::JobView, AppError> {
        self.services.start_redelivery(&actor()?, &filter).await
    }

    async fn job(&self, id: i64) -> Result<app::model::JobView, AppError> {
        self.services.job(id).await
    }

    async fn cancel_job(&self, id: i64) -> Result<app::model::JobView, AppError> {
        self.services.cancel_job(&actor()?, id).await
    }
}
