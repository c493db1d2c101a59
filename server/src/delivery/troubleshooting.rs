//! Failures explained in the words of the documentation's Troubleshooting
//! section, with what to do about them.

use super::client::{Attempt, AttemptError, ErrorKind};
use app::model::Failure;
use std::time::Duration;

fn fixes(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The documentation's advice, with the timeout this server really uses.
fn unreachable_fixes(timeout: Duration) -> Vec<String> {
    vec![
        "Verify the URL is correct and accessible".into(),
        "Check firewall rules allow Alertwire's IP addresses".into(),
        format!("Ensure the endpoint responds within {}", seconds(timeout)),
    ]
}

/// `30 seconds`, `1 second`, `2.5 seconds`.
fn seconds(timeout: Duration) -> String {
    let ms = timeout.as_millis();
    match (ms / 1000, ms % 1000) {
        (1, 0) => "1 second".into(),
        (s, 0) => format!("{s} seconds"),
        (s, frac) => format!("{s}.{} seconds", format!("{frac:03}").trim_end_matches('0')),
    }
}

/// The explanation for a failed attempt; `None` when it succeeded.
pub fn explain(attempt: &Attempt, timeout: Duration) -> Option<Failure> {
    let AttemptError { kind, message } = attempt.error.as_ref()?;
    Some(explain_failure(*kind, attempt.status, message, timeout))
}

/// The same explanation for an attempt read back from its record; `None`
/// for a success or a kind this version does not know.
pub fn explain_record(
    kind: Option<&str>,
    status: Option<i64>,
    message: Option<&str>,
    timeout: Duration,
) -> Option<Failure> {
    let kind = ErrorKind::parse(kind?)?;
    let status = status.and_then(|s| u16::try_from(s).ok());
    Some(explain_failure(
        kind,
        status,
        message.unwrap_or_default(),
        timeout,
    ))
}

fn explain_failure(
    kind: ErrorKind,
    status: Option<u16>,
    message: &str,
    timeout: Duration,
) -> Failure {
    let (title, cause, fix): (String, &str, Vec<String>) = match kind {
        ErrorKind::Connect => ("\"Connection refused\" or timeout".into(), "Endpoint unreachable or slow.", unreachable_fixes(timeout)),
        ErrorKind::Timeout => ("\"Connection refused\" or timeout".into(), "Endpoint unreachable or slow.", unreachable_fixes(timeout)),
        ErrorKind::Dns => ("Name does not resolve".into(), "The endpoint's host name has no address.", fixes(&[
            "Check the host name in the URL for typos",
            "Make sure the name is published in DNS where Alertwire runs",
        ])),
        ErrorKind::Tls => ("Certificate not trusted".into(), "The endpoint's TLS certificate did not verify.", fixes(&[
            "Webhook URLs must be HTTPS with a valid certificate: self-signed certificates are refused",
            "Check that the certificate covers the host name and has not expired",
            "For a private CA, an operator can trust it with ALERTWIRE_EXTRA_CA_CERTS",
        ])),
        ErrorKind::BlockedAddress => ("Address not allowed".into(), "The URL points to a non-public address.", fixes(&[
            "Use the endpoint's public address",
            "To deliver inside your network, an operator can allow its range with ALERTWIRE_ALLOWED_TARGETS",
        ])),
        ErrorKind::Redirect => ("Redirect not followed".into(), "The endpoint answered with a redirect.", fixes(&[
            "Use the final URL the endpoint redirects to",
            "Your endpoint should respond with a 2xx status code",
        ])),
        ErrorKind::HttpStatus => status_explanation(status.unwrap_or(0)),
    };
    Failure {
        kind: kind.as_str().to_owned(),
        title,
        cause: cause.to_owned(),
        detail: message.to_owned(),
        fixes: fix,
    }
}

fn status_explanation(status: u16) -> (String, &'static str, Vec<String>) {
    match status {
        401 => (
            "\"401 Unauthorized\"".into(),
            "Authentication failed.",
            fixes(&[
                "Verify the token/API key is correct",
                "Check the header name matches your endpoint's expectation",
                "Ensure credentials haven't expired",
            ]),
        ),
        400 => (
            "\"400 Bad Request\"".into(),
            "Endpoint rejected the payload.",
            fixes(&[
                "Check endpoint logs for specific error",
                "Verify endpoint accepts application/json",
                "Test with a simple endpoint first",
            ]),
        ),
        _ => (
            "Response not 2xx".into(),
            "The endpoint did not accept the alert.",
            fixes(&[
                "Your endpoint should respond with a 2xx status code",
                "Check endpoint logs for specific error",
            ]),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(30);

    fn failed(kind: ErrorKind, status: Option<u16>) -> Attempt {
        Attempt {
            duration: Duration::from_millis(5),
            status,
            reason: None,
            response_headers: vec![],
            body: vec![],
            body_truncated: false,
            error: Some(AttemptError {
                kind,
                message: "detail".into(),
            }),
        }
    }

    #[test]
    fn each_kind_gets_the_documented_advice() {
        let unauthorized = explain(&failed(ErrorKind::HttpStatus, Some(401)), T).unwrap();
        assert!(unauthorized.fixes.iter().any(|f| f.contains("header name")));
        let bad_request = explain(&failed(ErrorKind::HttpStatus, Some(400)), T).unwrap();
        assert!(bad_request
            .fixes
            .iter()
            .any(|f| f.contains("application/json")));
        let refused = explain(&failed(ErrorKind::Connect, None), T).unwrap();
        assert!(refused.fixes.iter().any(|f| f.contains("30 seconds")));
        let tls = explain(&failed(ErrorKind::Tls, None), T).unwrap();
        assert_eq!(tls.title, "Certificate not trusted");
        assert_eq!(
            explain(&failed(ErrorKind::BlockedAddress, None), T)
                .unwrap()
                .kind,
            "blocked_address"
        );
        assert_eq!(
            explain(&failed(ErrorKind::Redirect, Some(302)), T)
                .unwrap()
                .title,
            "Redirect not followed"
        );
        assert_eq!(
            explain(&failed(ErrorKind::HttpStatus, Some(500)), T)
                .unwrap()
                .title,
            "Response not 2xx"
        );
    }

    #[test]
    fn the_timeout_advice_names_the_configured_timeout() {
        let slow = |t| explain_record(Some("timeout"), None, Some("timed out"), t).unwrap();
        assert!(slow(Duration::from_secs(10))
            .fixes
            .iter()
            .any(|f| f.ends_with("within 10 seconds")));
        assert!(slow(Duration::from_secs(1))
            .fixes
            .iter()
            .any(|f| f.ends_with("within 1 second")));
        assert!(slow(Duration::from_millis(2500))
            .fixes
            .iter()
            .any(|f| f.ends_with("within 2.5 seconds")));
        let unauthorized = explain_record(Some("http_status"), Some(401), None, T).unwrap();
        assert_eq!(unauthorized.title, "\"401 Unauthorized\"");
        assert_eq!(explain_record(None, Some(200), None, T), None);
        assert_eq!(explain_record(Some("martian"), None, None, T), None);
    }
}
