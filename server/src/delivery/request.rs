//! Builds the signed HTTP request for one delivery attempt (ARCHITECTURE.md "Wire format of a delivery").

use super::client::OutgoingRequest;
use super::signer::{anomalyarmor_signature, standard_signatures};
use crate::domain::destination::Auth;
use crate::domain::header::CustomHeader;
use url::Url;

/// What is sent where, and with which secrets.
pub struct Signed<'a> {
    pub url: &'a Url,
    pub auth: &'a Auth,
    pub headers: &'a [CustomHeader],
    /// The current signing secret first, then the previous one during a rotation.
    pub secrets: &'a [&'a str],
    pub msg_id: &'a str,
    pub timestamp: i64,
    pub body: Vec<u8>,
}

pub const MASK: &str = "••••••••";

pub fn build(s: Signed<'_>) -> OutgoingRequest {
    let current = s.secrets.first().copied().unwrap_or_default();
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        (
            "user-agent".to_owned(),
            concat!("Alertwire/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
        (
            "x-anomalyarmor-signature".to_owned(),
            anomalyarmor_signature(current, &s.body),
        ),
        ("webhook-id".to_owned(), s.msg_id.to_owned()),
        ("webhook-timestamp".to_owned(), s.timestamp.to_string()),
        (
            "webhook-signature".to_owned(),
            standard_signatures(s.secrets, s.msg_id, s.timestamp, &s.body),
        ),
    ];
    match s.auth {
        Auth::None => {}
        Auth::Bearer(token) => {
            headers.push(("authorization".to_owned(), format!("Bearer {token}")))
        }
        Auth::ApiKey { header, key } => headers.push((header.as_str().to_owned(), key.clone())),
    }
    for h in s.headers {
        headers.push((h.name.as_str().to_owned(), h.value.clone()));
    }
    OutgoingRequest {
        url: s.url.clone(),
        headers,
        body: s.body,
    }
}

/// The headers as they may be shown or stored: the authentication value and
/// secret custom headers masked.
pub fn masked(
    request: &OutgoingRequest,
    auth: &Auth,
    custom: &[CustomHeader],
) -> Vec<(String, String)> {
    let secret_header = match auth {
        Auth::None => None,
        Auth::Bearer(_) => Some("authorization"),
        Auth::ApiKey { header, .. } => Some(header.as_str()),
    };
    let is_secret = |name: &str| custom.iter().any(|h| h.secret && h.name.as_str() == name);
    request
        .headers
        .iter()
        .map(|(name, value)| match (secret_header, auth) {
            (Some(h), Auth::Bearer(_)) if h == name => (name.clone(), format!("Bearer {MASK}")),
            (Some(h), _) if h == name => (name.clone(), MASK.to_owned()),
            _ if is_secret(name) => (name.clone(), MASK.to_owned()),
            _ => (name.clone(), value.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_wire_format_and_mask_secrets() {
        let url = Url::parse("https://hooks.example.com/a").unwrap();
        let auth = Auth::Bearer("tok".into());
        let custom = [
            CustomHeader {
                name: crate::domain::header::HeaderName::parse("X-Team").unwrap(),
                value: "data".to_owned(),
                secret: false,
            },
            CustomHeader {
                name: crate::domain::header::HeaderName::parse("X-Session").unwrap(),
                value: "hush".to_owned(),
                secret: true,
            },
        ];
        let request = build(Signed {
            url: &url,
            auth: &auth,
            headers: &custom,
            secrets: &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            msg_id: "msg_1",
            timestamp: 1_700_000_000,
            body: b"{}".to_vec(),
        });
        let get = |n: &str| {
            request
                .headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("content-type").unwrap(), "application/json");
        assert!(get("user-agent").unwrap().starts_with("Alertwire/"));
        assert!(get("x-anomalyarmor-signature")
            .unwrap()
            .starts_with("sha256="));
        assert_eq!(get("webhook-id").unwrap(), "msg_1");
        assert_eq!(get("webhook-timestamp").unwrap(), "1700000000");
        assert!(get("webhook-signature").unwrap().starts_with("v1,"));
        assert_eq!(get("authorization").unwrap(), "Bearer tok");
        assert_eq!(get("x-team").unwrap(), "data");
        assert_eq!(get("x-session").unwrap(), "hush", "sent as is");
        let shown = masked(&request, &auth, &custom);
        let shown_auth = shown.iter().find(|(k, _)| k == "authorization").unwrap();
        assert_eq!(shown_auth.1, format!("Bearer {MASK}"));
        assert!(!shown.iter().any(|(_, v)| v.contains("tok")));
        assert!(shown.contains(&("x-session".into(), MASK.into())));
        assert!(shown.contains(&("x-team".into(), "data".into())));
    }
}
