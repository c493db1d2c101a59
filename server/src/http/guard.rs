//! Resolves the signed-in user for every page and server-function request,
//! and sends page requests where they belong: to setup while no user exists,
//! to sign-in without a session, away from sign-in and setup with one.

use super::sessions;
use crate::services::Services;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

pub async fn resolve_user(
    State(services): State<Services>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match sessions::current_user(&services, &session).await {
        Ok(user) => user,
        Err(err) => return super::pages::error_page(err),
    };
    // Server functions and live streams answer 401 themselves: a redirect to
    // the sign-in page means nothing to them.
    let path = request.uri().path();
    let is_page = matches!(*request.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/fn/")
        && path != super::live::PATH;
    if is_page {
        let users_exist = match services.users_exist().await {
            Ok(exist) => exist,
            Err(err) => return super::pages::error_page(err),
        };
        if let Some(target) = page_redirect(request.uri().path(), users_exist, user.is_some()) {
            return Redirect::to(target).into_response();
        }
    }
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

/// Where a page request must go instead, if anywhere.
fn page_redirect(path: &str, users_exist: bool, signed_in: bool) -> Option<&'static str> {
    match (path, users_exist, signed_in) {
        ("/setup", false, _) => None,
        (_, false, _) => Some("/setup"),
        ("/setup" | "/login", true, true) => Some("/alerts"),
        ("/setup", true, false) => Some("/login"),
        ("/login", true, false) => None,
        (_, true, false) => Some("/login"),
        ("/", true, true) => Some("/alerts"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::page_redirect;

    #[test]
    fn redirects() {
        assert_eq!(page_redirect("/alerts", false, false), Some("/setup"));
        assert_eq!(page_redirect("/login", false, false), Some("/setup"));
        assert_eq!(page_redirect("/setup", false, false), None);
        assert_eq!(page_redirect("/setup", true, false), Some("/login"));
        assert_eq!(page_redirect("/setup", true, true), Some("/alerts"));
        assert_eq!(page_redirect("/alerts", true, false), Some("/login"));
        assert_eq!(page_redirect("/login", true, false), None);
        assert_eq!(page_redirect("/login", true, true), Some("/alerts"));
        assert_eq!(page_redirect("/", true, true), Some("/alerts"));
        assert_eq!(page_redirect("/settings/users", true, true), None);
    }
}
