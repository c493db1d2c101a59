//! `Services` as the pages' `Backend`.

use super::Services;
use app::backend::{Backend, NewUserInput};
use app::error::AppError;
use app::model::{ApiKeysPage, CurrentUser, NewApiKey, UserView};
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
}
