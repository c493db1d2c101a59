//! Failures explained in the words of the documentation's Troubleshooting
//! section, with what to do about them.

use super::client::{Attempt, AttemptError, ErrorKind};
use app::model::Failure;

fn fixes(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

const UNREACHABLE_FIXES: &[&str] = &[
    "Verify the URL is correct and accessible",
    "Check firewall rules allow Alertwire's IP addresses",
    "Ensure the endpoint responds within 30 seconds",
];

/// The explanation for a failed attempt; `None` when it succeeded.
pub fn explain(attempt: &Attempt) -> Option<Failure> {
    let AttemptError { kind, message } = attempt.error.as_ref()?;
    let (title, cause, fix): (String, &str, Vec<String>) = match kind {
        ErrorKind::Connect => ("\"Connection refused\" or timeout".into(), "Endpoint unreachable or slow.", fixes(UNREACHABLE_FIXES)),
        ErrorKind::Timeout => ("\"Connection refused\" or timeout".into(), "Endpoint unreachable or slow.", fixes(UNREACHABLE_FIXES)),
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
        ErrorKind::HttpStatus => status_explanation(attempt.status.unwrap_or(0)),
    };
    Some(Failure {
        kind: kind.as_str().to_owned(),
        title,
        cause: cause.to_owned(),
        detail: message.clone(),
        fixes: fix,
    })
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
    use std::time::Duration;

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
        let unauthorized = explain(&failed(ErrorKind::HttpStatus, Some(401))).unwrap();
        assert!(unauthorized.fixes.iter().any(|f| f.contains("header name")));
        let bad_request = explain(&failed(ErrorKind::HttpStatus, Some(400))).unwrap();
        assert!(bad_request
            .fixes
            .iter()
            .any(|f| f.contains("application/json")));
        let refused = explain(&failed(ErrorKind::Connect, None)).unwrap();
        assert!(refused.fixes.iter().any(|f| f.contains("30 seconds")));
        let tls = explain(&failed(ErrorKind::Tls, None)).unwrap();
        assert_eq!(tls.title, "Certificate not trusted");
        assert_eq!(
            explain(&failed(ErrorKind::BlockedAddress, None))
                .unwrap()
                .kind,
            "blocked_address"
        );
        assert_eq!(
            explain(&failed(ErrorKind::Redirect, Some(302)))
                .unwrap()
                .title,
            "Redirect not followed"
        );
        assert_eq!(
            explain(&failed(ErrorKind::HttpStatus, Some(500)))
                .unwrap()
                .title,
            "Response not 2xx"
        );
    }
}
