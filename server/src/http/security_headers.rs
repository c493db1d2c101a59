//! Security headers on every response: a Content-Security-Policy whose script
//! nonce is fresh for each response and given to the page renderer, so the
//! hydration and resource scripts Leptos writes inline carry it; no framing;
//! no MIME sniffing; same-origin referrers; HSTS behind an https public URL.

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use rand::RngCore;
use std::sync::Arc;
use url::Url;

/// What differs between deployments: HSTS only when people reach the app over https.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    hsts: bool,
}

impl SecurityHeaders {
    pub fn for_public_url(public: &Url) -> Self {
        SecurityHeaders {
            hsts: public.scheme() == "https",
        }
    }
}

/// The nonce of this response's policy, in the request's extensions for the page renderer.
#[derive(Debug, Clone)]
pub struct CspNonce(Arc<str>);

/// One year: browsers then refuse plain http to this host.
const HSTS: &str = "max-age=31536000";

pub async fn add_security_headers(
    State(settings): State<SecurityHeaders>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    set_headers(response.headers_mut(), settings, &nonce);
    response
}

fn set_headers(headers: &mut HeaderMap, settings: SecurityHeaders, nonce: &str) {
    // The nonce is base64url, so the policy is always a valid header value.
    if let Ok(policy) = HeaderValue::try_from(content_security_policy(nonce)) {
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Not no-referrer: the CSRF check falls back to Referer for same-origin posts.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // For browsers without CSP's frame-ancestors.
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if settings.hsts {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
}

/// Scripts only from this origin or inline with the nonce (Leptos's hydration
/// and resource scripts); `'wasm-unsafe-eval'` lets the page compile its WASM.
/// Styles, images and fetches fall back to `default-src 'self'`.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// 128 random bits, base64url as CSP nonces may be written.
fn new_nonce() -> Arc<str> {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(bytes)
        .into()
}

/// Gives the page renderer this response's nonce, replacing the one Leptos
/// made up, so the scripts in the page match the header. Run in the pages'
/// context, where Leptos provides the request's parts.
pub fn provide_page_nonce() {
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(Nonce::from_value(nonce));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_fresh_and_header_safe() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(HeaderValue::try_from(content_security_policy(&a)).is_ok());
    }

    #[test]
    fn hsts_follows_the_public_url() {
        let mut headers = HeaderMap::new();
        let http = SecurityHeaders::for_public_url(&Url::parse("http://127.0.0.1:3000").unwrap());
        set_headers(&mut headers, http, "n");
        assert!(headers.get(STRICT_TRANSPORT_SECURITY).is_none());
        let https =
            SecurityHeaders::for_public_url(&Url::parse("https://alerts.example.com").unwrap());
        set_headers(&mut headers, https, "n");
        assert_eq!(headers[STRICT_TRANSPORT_SECURITY], HSTS);
        assert_eq!(
            headers[CONTENT_SECURITY_POLICY],
            content_security_policy("n").as_str()
        );
    }
}
