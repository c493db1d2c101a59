//! `Services` as the pages' `Backend`.

use super::Services;
use app::backend::{Backend, DestinationSubmission, NewUserInput};
use app::error::AppError;
use app::model::{
    AlertView, ApiKeysPage, CurrentUser, DeliveryDetail, DeliveryFilter, DeliveryPage,
    DeliveryView, DestinationList, DestinationOutcome, DestinationPageData, DestinationView,
    DestinationWithSecret, NewApiKey, RuleForm, RuleView, RulesPage, UserView,
};
use tower_sessions::Session;

#[async_trait::async_trait]
impl Backend for Services {
    async fn setup_first_admin(
        &self,
        session: &Session,
        input: NewUserInput,
    ) -> Result<(), AppError> {
        Services::setup_first_admin(self, session, input).await
    }

    async fn login(&self, session: &Session, email: &str, password: &str) -> Result<(), AppError> {
        Services::login(self, session, email, password).await
    }

    async fn logout(&self, session: &Session) -> Result<(), AppError> {
        Services::logout(self, session).await
    }

    async fn change_password(
        &self,
        actor: &CurrentUser,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), AppError> {
        Services::change_password(self, actor, current, new, confirm).await
    }

    async fn list_users(&self) -> Result<Vec<UserView>, AppError> {
        Services::list_users(self).await
    }

    async fn create_user(&self, input: NewUserInput) -> Result<UserView, AppError> {
        Services::create_user(self, input).await
    }

    async fn set_user_role(
        &self,
        actor: &CurrentUser,
        user_id: i64,
        role: &str,
    ) -> Result<(), AppError> {
        Services::set_user_role(self, actor, user_id, role).await
    }

    async fn set_user_active(
        &self,
        actor: &CurrentUser,
        user_id: i64,
        active: bool,
    ) -> Result<(), AppError> {
        Services::set_user_active(self, actor, user_id, active).await
    }

    async fn api_keys_page(&self, session: &Session) -> Result<ApiKeysPage, AppError> {
        Services::api_keys_page(self, session).await
    }

    async fn create_api_key(
        &self,
        session: &Session,
        actor: &CurrentUser,
        name: &str,
    ) -> Result<NewApiKey, AppError> {
        Services::create_api_key_in_session(self, session, actor, name).await
    }

    async fn revoke_api_key(&self, key_id: i64) -> Result<(), AppError> {
        Services::revoke_api_key(self, key_id).await
    }

    async fn destination_list(&self, page: i64) -> Result<DestinationList, AppError> {
        Services::destination_list(self, page).await
    }

    async fn destination_page(
        &self,
        session: &Session,
        id: Option<i64>,
    ) -> Result<DestinationPageData, AppError> {
        Services::destination_page(self, session, id).await
    }

    async fn submit_destination(
        &self,
        request: DestinationSubmission<'_>,
    ) -> Result<DestinationOutcome, AppError> {
        Services::submit_destination(self, request).await
    }

    async fn set_destination_enabled(
        &self,
        id: i64,
        enabled: bool,
    ) -> Result<DestinationView, AppError> {
        Services::set_destination_enabled(self, id, enabled).await
    }

    async fn delete_destination(&self, id: i64) -> Result<(), AppError> {
        Services::delete_destination(self, id).await
    }

    async fn reveal_signing_secret(
        &self,
        session: &Session,
        plain_form: bool,
        actor: &CurrentUser,
        id: i64,
        password: &str,
    ) -> Result<String, AppError> {
        Services::reveal_secret_for_page(self, session, plain_form, actor, id, password).await
    }

    async fn rotate_signing_secret(
        &self,
        session: &Session,
        plain_form: bool,
        id: i64,
    ) -> Result<DestinationWithSecret, AppError> {
        Services::rotate_secret_for_page(self, session, plain_form, id).await
    }

    async fn rules_page(&self) -> Result<RulesPage, AppError> {
        Services::rules_page(self).await
    }

    async fn rule(&self, id: i64) -> Result<RuleView, AppError> {
        Services::rule(self, id).await
    }

    async fn save_rule(&self, id: Option<i64>, form: RuleForm) -> Result<RuleView, AppError> {
        Services::save_rule(self, id, &form).await
    }

    async fn set_rule_enabled(&self, id: i64, enabled: bool) -> Result<RuleView, AppError> {
        Services::set_rule_enabled(self, id, enabled).await
    }

    async fn delete_rule(&self, id: i64) -> Result<(), AppError> {
        Services::delete_rule(self, id).await
    }

    async fn recent_alerts(
        &self,
        before: Option<i64>,
    ) -> Result<(Vec<AlertView>, Option<i64>), AppError> {
        Services::recent_alerts(self, before).await
    }

    async fn alert(&self, public_id: &str) -> Result<AlertView, AppError> {
        Services::alert(self, public_id).await
    }

    async fn deliveries(&self, filter: DeliveryFilter) -> Result<DeliveryPage, AppError> {
        Services::deliveries(self, &filter).await
    }

    async fn delivery(&self, id: i64) -> Result<DeliveryDetail, AppError> {
        Services::delivery(self, id).await
    }

    async fn redeliver(&self, id: i64) -> Result<DeliveryView, AppError> {
        Services::redeliver(self, id).await
    }
}
