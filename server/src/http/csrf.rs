//! Refuses state-changing browser requests that come from another origin,
//! on top of SameSite=Lax cookies.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use url::Url;

/// The origins pages may be served from: the public URL's, and when that is a
/// loopback address, its other loopback spellings on the same port.
#[derive(Debug, Clone)]
pub struct AllowedOrigins(Arc<Vec<String>>);

impl AllowedOrigins {
    pub fn for_public_url(public: &Url) -> Self {
        let origin = public.origin().ascii_serialization();
        let mut allowed = vec![origin];
        let loopback = matches!(public.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if loopback {
            let port = public.port().map(|p| format!(":{p}")).unwrap_or_default();
            for host in ["127.0.0.1", "localhost", "[::1]"] {
                allowed.push(format!("{}://{host}{port}", public.scheme()));
            }
        }
        AllowedOrigins(Arc::new(allowed))
    }

    fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }
}

pub async fn refuse_cross_origin(
    State(allowed): State<AllowedOrigins>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
        .map(str::to_owned)
        .or_else(|| {
            let referer = headers.get(header::REFERER)?.to_str().ok()?;
            Some(Url::parse(referer).ok()?.origin().ascii_serialization())
        });
    match origin {
        Some(origin) if allowed.allows(&origin) => next.run(request).await,
        other => {
            tracing::warn!(origin = ?other, path = %request.uri().path(), "cross-origin request refused");
            (
                StatusCode::FORBIDDEN,
                "Cross-origin request refused: open Alertwire at its public URL and try again.",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_spellings_are_one_origin() {
        let allowed = AllowedOrigins::for_public_url(&Url::parse("http://127.0.0.1:3000").unwrap());
        assert!(allowed.allows("http://127.0.0.1:3000"));
        assert!(allowed.allows("http://localhost:3000"));
        assert!(!allowed.allows("http://localhost:3001"));
        assert!(!allowed.allows("https://evil.example"));
    }

    #[test]
    fn public_host_is_exact() {
        let allowed =
            AllowedOrigins::for_public_url(&Url::parse("https://alerts.example.com/").unwrap());
        assert!(allowed.allows("https://alerts.example.com"));
        assert!(!allowed.allows("http://alerts.example.com"));
        assert!(!allowed.allows("http://localhost"));
    }
}
