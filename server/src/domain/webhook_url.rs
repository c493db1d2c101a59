//! A webhook endpoint URL that passed every rule (ARCHITECTURE.md "Delivery rules").

use super::address_guard::{self, BlockedAddress};
use std::net::IpAddr;
use url::{Host, Url};

pub const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// Parses and checks a URL; `allowed` are the operator's exempt networks.
    pub fn parse(raw: &str, allowed: &[(IpAddr, u8)]) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("Enter the endpoint URL".into());
        }
        if text.len() > MAX_URL_LEN {
            return Err(format!("URLs can be at most {MAX_URL_LEN} characters"));
        }
        let url = Url::parse(text)
            .map_err(|_| "Enter a full URL, like https://example.com/alerts".to_string())?;
        match url.scheme() {
            "https" => {}
            "http" => return Err(HTTPS_ONLY.into()),
            _ => return Err("Webhook URLs must be HTTPS, like https://example.com/alerts".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "Remove the user name and password from the URL; use Authentication instead".into(),
            );
        }
        match literal_ip(&url) {
            Some(ip) => address_guard::check(ip, allowed).map_err(|b| b.to_string())?,
            None if url.host_str().is_none_or(str::is_empty) => {
                return Err("Enter a full URL, like https://example.com/alerts".into())
            }
            // A name for this machine may not resolve (foo.localhost), so refuse it by name.
            None => address_guard::check_name(url.host_str().unwrap_or_default(), allowed)
                .map_err(|b| b.to_string())?,
        }
        Ok(WebhookUrl(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host name when the URL names one (not an IP literal): it must be resolved and checked.
    pub fn dns_name(&self) -> Option<&str> {
        match self.0.host() {
            Some(Host::Domain(name)) => Some(name),
            _ => None,
        }
    }

    /// Checks the address of an IP-literal URL again (the allow-list may have changed).
    pub fn check_literal(&self, allowed: &[(IpAddr, u8)]) -> Result<(), BlockedAddress> {
        match literal_ip(&self.0) {
            Some(ip) => address_guard::check(ip, allowed),
            None => Ok(()),
        }
    }
}

/// The documentation's answer to "Can I use a self-signed or HTTP endpoint?".
pub const HTTPS_ONLY: &str = "Webhook URLs must be HTTPS: this protects the authentication header \
     and the asset metadata in transit";

/// The URL parser already reads 127.1, 0x7f000001, 2130706433 and 0177.0.0.1
/// as 127.0.0.1 (WHATWG host parsing), so the host arrives as an address.
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(name) => address_guard::parse_host_ip(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> bool {
        WebhookUrl::parse(url, &[]).is_ok()
    }

    #[test]
    fn accepts_public_https_urls() {
        assert!(ok("https://hooks.example.com/alerts"));
        assert!(ok("  https://hooks.example.com:8443/a?b=c  "));
        assert!(ok("https://93.184.216.34/x"));
        assert!(ok("https://[2606:4700:4700::1111]/x"));
    }

    #[test]
    fn refuses_http_and_other_schemes() {
        assert_eq!(
            WebhookUrl::parse("http://hooks.example.com/", &[]).unwrap_err(),
            HTTPS_ONLY
        );
        assert!(WebhookUrl::parse("ftp://hooks.example.com/", &[])
            .unwrap_err()
            .contains("HTTPS"));
        assert!(!ok("hooks.example.com/alerts"));
        assert!(!ok(""));
        assert!(!ok("https://"));
    }

    #[test]
    fn refuses_credentials_and_overlong_urls() {
        assert!(WebhookUrl::parse("https://user:pw@hooks.example.com/", &[])
            .unwrap_err()
            .contains("user name"));
        assert!(!ok("https://user@hooks.example.com/"));
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(WebhookUrl::parse(&long, &[]).unwrap_err().contains("2048"));
    }

    #[test]
    fn refuses_every_spelling_of_loopback_and_private_addresses() {
        for url in [
            "https://127.0.0.1/",
            "https://127.1/",
            "https://0x7f000001/",
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://169.254.169.254/",
            "https://10.0.0.1/",
            "https://100.64.0.1/",
            "https://[fe80::1]/",
            "https://[fc00::1]/",
            "https://0.0.0.0/",
            "https://192.168.0.10:8443/hook",
        ] {
            let err = WebhookUrl::parse(url, &[]).unwrap_err();
            assert!(
                err.contains("only sends to public addresses"),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn refuses_every_loopback_name() {
        for url in [
            "https://localhost/",
            "https://LOCALHOST/",
            "https://localhost./",
            "https://foo.localhost/",
            "https://foo.localhost./hook",
            "https://a.b.localhost:8443/",
            "https://localhost.localdomain/",
            "https://ip6-localhost/",
            "https://%6Cocalhost/",
            "https://\u{ff4c}\u{ff4f}\u{ff43}\u{ff41}\u{ff4c}\u{ff48}\u{ff4f}\u{ff53}\u{ff54}/",
        ] {
            let err = WebhookUrl::parse(url, &[]).unwrap_err();
            assert!(
                err.contains("loopback") && err.contains("only sends to public addresses"),
                "{url}: {err}"
            );
        }
        assert!(ok("https://localhost.example.com/"));
    }

    #[test]
    fn allowing_loopback_allows_loopback_names() {
        let loopback = [("127.0.0.0".parse().unwrap(), 8)];
        assert!(WebhookUrl::parse("https://localhost:9443/", &loopback).is_ok());
        assert!(WebhookUrl::parse("https://foo.localhost./", &loopback).is_ok());
        let v6 = [("::1".parse().unwrap(), 128)];
        assert!(WebhookUrl::parse("https://localhost/", &v6).is_ok());
        let private = [("10.0.0.0".parse().unwrap(), 8)];
        assert!(WebhookUrl::parse("https://localhost/", &private).is_err());
    }

    #[test]
    fn the_allow_list_exempts_networks() {
        let loopback = [("127.0.0.0".parse().unwrap(), 8)];
        assert!(WebhookUrl::parse("https://127.0.0.1:9443/", &loopback).is_ok());
        assert!(WebhookUrl::parse("https://10.0.0.1/", &loopback).is_err());
    }

    #[test]
    fn names_are_left_for_resolution() {
        let url = WebhookUrl::parse("https://hooks.example.com/", &[]).unwrap();
        assert_eq!(url.dns_name(), Some("hooks.example.com"));
        assert_eq!(
            WebhookUrl::parse("https://93.184.216.34/", &[])
                .unwrap()
                .dns_name(),
            None
        );
    }
}
