use crate::error::AppError;
use crate::model::UserView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::context::{backend, require_role},
    crate::domain::Role,
};

#[server(prefix = "/fn", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    require_role(Role::Admin)?;
    backend()?.list_users().await
}

#[server(prefix = "/fn", endpoint = "create_user")]
pub async fn create_user(
    email: String,
    password: String,
    password_confirm: String,
    role: String,
) -> Result<UserView, AppError> {
    require_role(Role::Admin)?;
    let input = crate::backend::NewUserInput {
        email,
        password,
        password_confirm,
        role,
    };
    backend()?.create_user(input).await
}

#[server(prefix = "/fn", endpoint = "set_user_role")]
pub async fn set_user_role(user_id: i64, role: String) -> Result<(), AppError> {
    let actor = require_role(Role::Admin)?;
    backend()?.set_user_role(&actor, user_id, &role).await
}

#[server(prefix = "/fn", endpoint = "set_user_active")]
pub async fn set_user_active(user_id: i64, active: bool) -> Result<(), AppError> {
    let actor = require_role(Role::Admin)?;
    backend()?.set_user_active(&actor, user_id, active).await
}
