use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::context::{backend, client_address, current_user, session};

/// The signed-in user, or `None` on the sign-in and setup pages.
#[server(prefix = "/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    Ok(current_user())
}

#[server(prefix = "/fn", endpoint = "setup")]
pub async fn setup(
    email: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    let input = crate::backend::NewUserInput {
        email,
        password,
        password_confirm,
        role: "admin".into(),
    };
    backend()?
        .setup_first_admin(&session().await?, input)
        .await?;
    leptos_axum::redirect("/alerts");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    backend()?
        .login(&session().await?, &email, &password, client_address())
        .await?;
    leptos_axum::redirect("/alerts");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    backend()?.logout(&session().await?).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    new_password_confirm: String,
) -> Result<(), AppError> {
    let user = current_user().ok_or(AppError::Unauthenticated)?;
    backend()?
        .change_password(
            &session().await?,
            &user,
            &current_password,
            &new_password,
            &new_password_confirm,
        )
        .await
}
