//! The seam between the pages and the server's services.
//!
//! `app` only declares what it needs; the `server` crate implements it at its
//! HTTP edge (`server/src/http/pages/backend.rs`, where sessions and flashes
//! live) and puts one `SharedBackend` into the Leptos context. Dependencies
//! point one way: server -> app.

use crate::error::AppError;
use crate::model::{
    AlertView, ApiKeysPage, AuditFilter, AuditLogData, AutoDisabled, CurrentUser, DeliveryDetail,
    DeliveryFilter, DeliveryPage, DeliveryView, DestinationForm, DestinationList,
    DestinationOutcome, DestinationPageData, DestinationView, DestinationWithSecret, Enabled,
    Intent, JobView, NewApiKey, NotificationSettings, RedeliveryPreview, RuleForm, RuleView,
    RulesPage, UserView,
};
use std::net::IpAddr;
use std::sync::Arc;
use tower_sessions::Session;

/// Form input for user creation (first-run setup and Settings -> Users).
pub struct NewUserInput {
    pub email: String,
    pub password: String,
    pub password_confirm: String,
    pub role: String,
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Creates the first admin and signs them in; refused once any user exists.
    async fn setup_first_admin(
        &self,
        session: &Session,
        input: NewUserInput,
    ) -> Result<(), AppError>;
    /// `client` is the peer address, for the per-address sign-in limit.
    async fn login(
        &self,
        session: &Session,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AppError>;
    async fn logout(&self, session: &Session) -> Result<(), AppError>;
    /// Ends the user's other sessions; `session` stays signed in.
    async fn change_password(
        &self,
        session: &Session,
        actor: &CurrentUser,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), AppError>;

    async fn list_users(&self) -> Result<Vec<UserView>, AppError>;
    async fn create_user(&self, input: NewUserInput) -> Result<UserView, AppError>;
    async fn set_user_role(
        &self,
        actor: &CurrentUser,
        user_id: i64,
        role: &str,
    ) -> Result<(), AppError>;
    async fn set_user_active(
        &self,
        actor: &CurrentUser,
        user_id: i64,
        active: bool,
    ) -> Result<(), AppError>;

    async fn api_keys_page(&self, session: &Session) -> Result<ApiKeysPage, AppError>;
    /// `role` is a `KeyRole` as text (`ingest`, `viewer`, `editor`, `admin`).
    async fn create_api_key(
        &self,
        session: &Session,
        actor: &CurrentUser,
        name: &str,
        role: &str,
    ) -> Result<NewApiKey, AppError>;
    async fn revoke_api_key(&self, key_id: i64) -> Result<(), AppError>;

    /// Page `page` (1-based) of the Destinations tab.
    async fn destination_list(&self, page: i64) -> Result<DestinationList, AppError>;
    /// The destination (or none, for the wizard) and what a plain form post left for this page.
    async fn destination_page(
        &self,
        session: &Session,
        id: Option<i64>,
    ) -> Result<DestinationPageData, AppError>;
    /// Send Test Alert or Save; `plain_form` when the browser posted without JavaScript.
    async fn submit_destination(
        &self,
        request: DestinationSubmission<'_>,
    ) -> Result<DestinationOutcome, AppError>;
    async fn set_destination_enabled(
        &self,
        id: i64,
        enabled: bool,
    ) -> Result<DestinationView, AppError>;
    async fn delete_destination(&self, id: i64) -> Result<(), AppError>;
    /// Enables a destination; `redeliver` also queues again what ended failed
    /// while it was failing (auto-disabled ones only).
    async fn enable_destination(
        &self,
        session: &Session,
        plain_form: bool,
        id: i64,
        redeliver: bool,
    ) -> Result<Enabled, AppError>;
    /// A destination's health for `window`, its recent deliveries and test sends.
    async fn destination_health(
        &self,
        id: i64,
        window: crate::model::HealthWindow,
    ) -> Result<crate::model::DestinationHealthPage, AppError>;
    /// Destinations disabled automatically (the Alerts area's banner).
    async fn auto_disabled_destinations(&self) -> Result<Vec<AutoDisabled>, AppError>;
    /// Settings -> Notifications.
    async fn notification_settings(&self) -> Result<NotificationSettings, AppError>;
    async fn set_notification_destinations(&self, ids: Vec<i64>) -> Result<Vec<i64>, AppError>;
    async fn reveal_signing_secret(
        &self,
        session: &Session,
        plain_form: bool,
        actor: &CurrentUser,
        id: i64,
        password: &str,
    ) -> Result<String, AppError>;
    async fn rotate_signing_secret(
        &self,
        session: &Session,
        plain_form: bool,
        id: i64,
    ) -> Result<DestinationWithSecret, AppError>;

    /// The Rules tab: every rule, and the destinations a rule can send to.
    async fn rules_page(&self) -> Result<RulesPage, AppError>;
    async fn rule(&self, id: i64) -> Result<RuleView, AppError>;
    /// Creates (`id` none) or replaces a rule.
    async fn save_rule(&self, id: Option<i64>, form: RuleForm) -> Result<RuleView, AppError>;
    async fn set_rule_enabled(&self, id: i64, enabled: bool) -> Result<RuleView, AppError>;
    async fn delete_rule(&self, id: i64) -> Result<(), AppError>;

    /// Newest alerts first; `before` is the cursor the previous page returned.
    async fn recent_alerts(
        &self,
        before: Option<i64>,
    ) -> Result<(Vec<AlertView>, Option<i64>), AppError>;
    /// The alerts of one asset, newest first, like `recent_alerts`.
    async fn asset_alerts(
        &self,
        qualified_name: &str,
        before: Option<i64>,
    ) -> Result<(Vec<AlertView>, Option<i64>), AppError>;
    /// One alert by its public id (`alert_…`).
    async fn alert(&self, public_id: &str) -> Result<AlertView, AppError>;

    async fn deliveries(&self, filter: DeliveryFilter) -> Result<DeliveryPage, AppError>;
    async fn delivery(&self, id: i64) -> Result<DeliveryDetail, AppError>;
    /// Queues a delivered or failed delivery again (admins only).
    async fn redeliver(&self, id: i64) -> Result<DeliveryView, AppError>;
    /// Stops a queued delivery's attempts; its last error says who (the signed-in user).
    async fn cancel_delivery(&self, id: i64) -> Result<DeliveryView, AppError>;

    /// The server's clock (Unix ms): pages count "3 min ago" from it.
    fn now_ms(&self) -> i64;

    /// Settings -> Audit log: one page, and the actors its filter offers.
    async fn audit_log(&self, filter: AuditFilter) -> Result<AuditLogData, AppError>;
    /// How long history is kept, in milliseconds (`--retention`).
    fn history_kept_ms(&self) -> u64;

    /// Bulk recovery (admins): what "Redeliver failed" would take with this
    /// filter, starting it, following and cancelling the job.
    async fn redelivery_preview(
        &self,
        filter: DeliveryFilter,
    ) -> Result<RedeliveryPreview, AppError>;
    async fn start_redelivery(&self, filter: DeliveryFilter) -> Result<JobView, AppError>;
    async fn job(&self, id: i64) -> Result<JobView, AppError>;
    async fn cancel_job(&self, id: i64) -> Result<JobView, AppError>;
}

/// One submission of the Configure form.
pub struct DestinationSubmission<'a> {
    pub session: &'a Session,
    pub plain_form: bool,
    pub id: Option<i64>,
    pub form: DestinationForm,
    pub intent: Intent,
}

pub type SharedBackend = Arc<dyn Backend>;
