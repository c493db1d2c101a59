//! `GET /metrics`: the engine's counters and the queue's depth, in the
//! Prometheus text format; behind `Authorization: Bearer <token>` when
//! `--metrics-token` is set.

use crate::services::Services;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

/// The token `/metrics` requires. Its `Debug` never shows it.
#[derive(Clone)]
pub struct MetricsToken(Arc<str>);

impl MetricsToken {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let token = raw.trim();
        if token.is_empty() {
            return Err(
                "must not be empty: give a token, or unset it to leave /metrics open".into(),
            );
        }
        Ok(MetricsToken(token.into()))
    }

    /// Compares digests, not the strings: the time taken depends on neither
    /// the token's length nor where a guess first differs.
    fn admits(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(presented.as_bytes());
        expected
            .iter()
            .zip(given.iter())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(..)")
    }
}

#[derive(Clone)]
pub struct MetricsState {
    pub services: Services,
    pub token: Option<MetricsToken>,
}

pub async fn metrics(State(state): State<MetricsState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.token {
        if !bearer(&headers).is_some_and(|presented| token.admits(presented)) {
            return (
                StatusCode::UNAUTHORIZED,
                [(WWW_AUTHENTICATE, "Bearer")],
                "Send the metrics token as `Authorization: Bearer <token>`\n",
            )
                .into_response();
        }
    }
    match state.services.metrics_text().await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    // The scheme is case-insensitive (RFC 9110).
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tokens_are_refused() {
        assert!(MetricsToken::parse("").is_err());
        assert!(MetricsToken::parse("  ").is_err());
        assert!(MetricsToken::parse(" s3cret ").is_ok());
    }

    #[test]
    fn only_the_exact_token_is_admitted() {
        let token = MetricsToken::parse("s3cret").unwrap();
        assert!(token.admits("s3cret"));
        for wrong in ["", "s3cre", "s3cret!", "S3CRET", "other"] {
            assert!(!token.admits(wrong), "{wrong}");
        }
        assert_eq!(format!("{token:?}"), "MetricsToken(..)");
    }

    #[test]
    fn bearer_scheme_in_any_case() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
