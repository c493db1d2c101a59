//! The built site's files under `/pkg`: the WASM, JS and CSS the pages load.
//!
//! `scripts/build.sh` names them by content (`alertwire.<hash>.wasm`), writes
//! the hashes to `<site>/hash.txt` (the file Leptos reads to name them in
//! each page) and a brotli and a gzip copy beside each. A hashed name never
//! changes content, so it is cached for good; anything else is revalidated.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::Router;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

/// A year, and never revalidated: the name changes when the content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unhashed names (a build without hashes, the error page's stylesheet).
const REVALIDATE: &str = "no-cache";

/// The file the build writes the content hashes to, if this site has one.
pub fn hash_file(site_root: &Path) -> Option<PathBuf> {
    let path = site_root.join("hash.txt");
    path.is_file().then_some(path)
}

/// Serves `<site_root>/pkg`, precompressed copies first.
pub fn router(site_root: &Path) -> Router {
    let files = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(from_fn(cache_control))
}

async fn cache_control(request: Request, next: Next) -> Response<Body> {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().as_u16() == 304 {
        let value = if hashed { IMMUTABLE } else { REVALIDATE };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// `name.<16 hex digits>.ext`: the names `scripts/build.sh` gives.
fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let mut parts = file.split('.');
    let _stem = parts.next();
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(hash), Some(_ext), None) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
    )
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn only_content_hashed_names_are_immutable() {
        assert!(is_hashed("/alertwire.0123456789abcdef.wasm"));
        assert!(is_hashed("/pkg/alertwire.0123456789abcdef.css"));
        assert!(!is_hashed("/alertwire.css"));
        assert!(!is_hashed("/alertwire.wasm"));
        assert!(!is_hashed("/alertwire.0123456789abcdeg.js"));
        assert!(!is_hashed("/alertwire.0123456789abcdef.wasm.br"));
        assert!(!is_hashed("/alertwire.01234567.js"));
    }
}
