//! The Leptos side: server-rendered pages and the server functions behind them.

mod backend;
mod flash;

use super::api::error::{status_of, with_retry_after};
use super::security_headers::provide_page_nonce;
use crate::services::Services;
use app::backend::SharedBackend;
use app::error::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use backend::PageBackend;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use std::sync::{Arc, OnceLock};

/// Server-function error bodies are small unless they echo a submitted
/// value; this bounds the re-read below.
const ERROR_BODY_LIMIT: usize = 1024 * 1024;

pub fn router(services: Services, options: LeptosOptions) -> Router {
    let backend: SharedBackend = Arc::new(PageBackend::new(services));
    let context = move || {
        provide_page_nonce();
        provide_context(backend.clone());
    };
    let routes = route_list();
    // `leptos_routes_with_context` also mounts every server function, with the same context.
    Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context,
            app::shell,
        ))
        .with_state(options)
        .layer(from_fn(server_fn_status))
}

/// The page routes, worked out once per process.
///
/// Generating them runs the app with resource loading switched off by a
/// process-wide flag (leptos_server's `SuppressResourceLoad`): a page render
/// whose resource is first polled meanwhile, in another router of the same
/// process, never finishes (leptos-rs/leptos#4773). Routes depend only on
/// `app::App`, so later routers reuse the first list and never raise the flag
/// while pages are being served.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Gives server-function errors their real HTTP status (server_fn answers 500
/// for every error), except for plain form posts, which get a redirect back.
async fn server_fn_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_error = response
        .headers()
        .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER);
    if !is_error || response.status().is_redirection() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, ERROR_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        // Only an error that echoes a huge submitted value gets this long:
        // the client's mistake, not a 500 (found by the HTTP fuzz run).
        Err(_) => {
            let err = AppError::invalid("form", "A value in the form is far too long");
            let bytes = serde_json::to_vec(&err).unwrap_or_default();
            parts.status = status_of(&err);
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Body::from(bytes));
        }
    };
    let retry = serde_json::from_slice::<AppError>(&bytes)
        .ok()
        .inspect(|err| parts.status = status_of(err));
    let mut response = Response::from_parts(parts, Body::from(bytes));
    if let Some(err) = retry {
        with_retry_after(&mut response, &err);
    }
    response
}

/// A minimal page for failures before Leptos renders anything.
pub fn error_page(err: AppError) -> Response {
    let status = status_of(&err);
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error · Alertwire</title>\
         <link rel=\"stylesheet\" href=\"/pkg/alertwire.css\"></head><body><main class=\"auth-page\">\
         <section class=\"auth-card\"><h1>Something went wrong</h1><p>{err}</p>\
         <a class=\"button primary\" href=\"/\">Try again</a></section></main></body></html>"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}
