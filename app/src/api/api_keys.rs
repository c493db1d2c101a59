use crate::error::AppError;
use crate::model::{ApiKeysPage, NewApiKey};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::context::{backend, require_role, session},
    crate::domain::{KeyRole, Role},
};

#[server(prefix = "/fn", endpoint = "api_keys")]
pub async fn get_api_keys() -> Result<ApiKeysPage, AppError> {
    require_role(Role::Admin)?;
    backend()?.api_keys_page(&session().await?).await
}

/// A new key; without a role it gets the least one, `ingest`.
#[server(prefix = "/fn", endpoint = "create_api_key")]
pub async fn create_api_key(name: String, role: Option<String>) -> Result<NewApiKey, AppError> {
    let actor = require_role(Role::Admin)?;
    let role = role.unwrap_or_else(|| KeyRole::Ingest.as_str().to_owned());
    backend()?
        .create_api_key(&session().await?, &actor, &name, &role)
        .await
}

#[server(prefix = "/fn", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(key_id: i64) -> Result<(), AppError> {
    require_role(Role::Admin)?;
    backend()?.revoke_api_key(key_id).await
}
