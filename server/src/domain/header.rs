//! HTTP header names and values a user may configure.

/// A valid header-name token (RFC 9110), stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderName(String);

impl HeaderName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("Enter a header name".into());
        }
        if name.len() > 256 {
            return Err("Header names can be at most 256 characters".into());
        }
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if !name.chars().all(token) {
            return Err(format!(
                "{name:?} is not a valid header name: use letters, digits and - only"
            ));
        }
        Ok(HeaderName(name.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The API key header when none is named.
    pub fn x_api_key() -> Self {
        HeaderName("x-api-key".to_owned())
    }
}

/// A custom header as it is sent. A secret one is sealed at rest, never
/// shown again, and masked in attempt records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomHeader {
    pub name: HeaderName,
    pub value: String,
    pub secret: bool,
}

/// Names that carry credentials are secret whether or not the form says so.
pub fn is_sensitive(name: &HeaderName) -> bool {
    let n = name.as_str();
    matches!(n, "authorization" | "proxy-authorization" | "cookie")
        || ["token", "key", "secret", "password"]
            .iter()
            .any(|word| n.contains(word))
}

/// Names the sender sets itself; a user header may not replace them.
pub fn reserved_reason(name: &HeaderName) -> Option<&'static str> {
    match name.as_str() {
        "host"
        | "content-length"
        | "transfer-encoding"
        | "connection"
        | "keep-alive"
        | "te"
        | "upgrade"
        | "trailer"
        | "proxy-authorization"
        | "proxy-connection" => Some("is set by the HTTP client for every request"),
        "content-type" => Some("is always application/json"),
        "user-agent" => Some("identifies Alertwire and its version"),
        "x-anomalyarmor-signature" => Some("carries the HMAC signature of each request"),
        n if n.starts_with("webhook-") => Some("is reserved for the Standard Webhooks headers"),
        _ => None,
    }
}

/// A header value: printable, no CR or LF, at most `max` bytes.
pub fn check_value(value: &str, max: usize) -> Result<(), String> {
    if value.contains(['\r', '\n']) {
        return Err("Values cannot contain line breaks".into());
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err("Values can only contain printable characters".into());
    }
    if !value.is_ascii() {
        return Err("Values can only contain ASCII characters".into());
    }
    if value.len() > max {
        return Err(format!("Values can be at most {} KiB", max / 1024));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names() {
        assert_eq!(HeaderName::parse(" X-Team ").unwrap().as_str(), "x-team");
        assert!(HeaderName::parse("X_API.Key~1").is_ok());
        for bad in ["", "X Team", "X:Team", "Ümlaut", "a\r\nb", "(x)"] {
            assert!(HeaderName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reserved_names() {
        for name in [
            "Host",
            "Content-Type",
            "content-length",
            "Transfer-Encoding",
            "Connection",
            "User-Agent",
            "X-AnomalyArmor-Signature",
            "webhook-id",
            "Webhook-Signature",
            "webhook-anything",
        ] {
            let parsed = HeaderName::parse(name).unwrap();
            assert!(reserved_reason(&parsed).is_some(), "{name}");
        }
        assert!(reserved_reason(&HeaderName::parse("X-Team").unwrap()).is_none());
        assert!(
            reserved_reason(&HeaderName::parse("Authorization").unwrap()).is_none(),
            "depends on the auth choice"
        );
    }

    #[test]
    fn credential_names_are_sensitive() {
        for name in [
            "Authorization",
            "Cookie",
            "X-Api-Key",
            "X-Auth-Token",
            "Client-Secret",
            "X-Password",
        ] {
            assert!(is_sensitive(&HeaderName::parse(name).unwrap()), "{name}");
        }
        for name in ["X-Team", "X-Environment", "Accept-Language"] {
            assert!(!is_sensitive(&HeaderName::parse(name).unwrap()), "{name}");
        }
    }

    #[test]
    fn values() {
        assert!(check_value("Bearer abc-123", 4096).is_ok());
        assert!(check_value("a\tb", 4096).is_ok());
        assert!(check_value("a\r\nX-Evil: 1", 4096).is_err());
        assert!(check_value("a\nb", 4096).is_err());
        assert!(check_value("a\u{0}b", 4096).is_err());
        assert!(check_value("né", 4096).is_err());
        assert!(check_value(&"x".repeat(4097), 4096).is_err());
        assert!(check_value(&"x".repeat(4096), 4096).is_ok());
    }
}
