//! What a server function needs from the request: the backend, the session
//! and the signed-in user (resolved once per request by the server's middleware).

use crate::backend::SharedBackend;
use crate::domain::Role;
use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::use_context;
use tower_sessions::Session;

pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or_else(|| {
        tracing::error!("no backend in the Leptos context");
        AppError::Internal
    })
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|err| {
        tracing::error!(%err, "no session layer on this request");
        AppError::Internal
    })
}

/// The user the middleware attached to this request, if any.
pub fn current_user() -> Option<CurrentUser> {
    use_context::<axum::http::request::Parts>()?
        .extensions
        .get::<CurrentUser>()
        .cloned()
}

pub fn require_role(needed: Role) -> Result<CurrentUser, AppError> {
    let user = current_user().ok_or(AppError::Unauthenticated)?;
    if user.role.at_least(needed) {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The peer's address (the server is served with connection info).
pub fn client_address() -> Option<std::net::IpAddr> {
    use_context::<axum::http::request::Parts>()?
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}

/// True for a browser form post without JavaScript (it will reload the page).
pub fn plain_form_post() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}
