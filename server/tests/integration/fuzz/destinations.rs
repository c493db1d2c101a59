//! Destination validation: the Configure form (URL, authentication, custom
//! headers), the webhook URL alone, header names and values, and the address
//! guard's host parser and checks.

use super::hostile::{hostile_char, hostile_string, near};
use app::model::{DestinationForm, HeaderRow};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use server::domain::address_guard::{check, check_name, non_public_reason, parse_host_ip};
use server::domain::destination::{self, KeptSecrets, MAX_HEADERS};
use server::domain::header::{check_value, reserved_reason, HeaderName};
use server::domain::webhook_url::WebhookUrl;
use std::net::IpAddr;
use url::{Host, Url};

const URLS: [&str; 14] = [
    "https://hooks.example.com/alerts",
    "https://hooks.example.com:8443/a?b=c#d",
    "https://93.184.216.34/x",
    "https://[2606:4700:4700::1111]/x",
    "https://[::ffff:127.0.0.1]/",
    "http://hooks.example.com/",
    "https://127.0.0.1/",
    "https://0x7f.1/",
    "https://%31%32%37.0.0.1/",
    "https://localhost./",
    "https://xn--nxasmq6b.example/",
    "https://user:pass@example.com/",
    "https://10.0.0.1:99999/",
    "ftp://example.com/",
];

/// Operator allow-lists: none, a private network, or odd prefixes.
fn allowed() -> impl Strategy<Value = Vec<(IpAddr, u8)>> {
    prop_oneof![
        3 => Just(Vec::new()),
        1 => Just(vec![(IpAddr::from([10, 0, 0, 0]), 8)]),
        1 => prop::collection::vec((any::<IpAddr>(), any::<u8>()), 0..3),
    ]
}

fn header_row() -> impl Strategy<Value = HeaderRow> {
    (
        near(&[
            "X-Team",
            "Authorization",
            "x-api-key",
            "webhook-id",
            "Host",
            "X-Secret-Token",
            "",
        ]),
        near(&["payments", "Bearer abc", "a\tb", ""]),
        any::<bool>(),
    )
        .prop_map(|(name, value, secret)| HeaderRow {
            name,
            value,
            secret,
        })
}

fn form() -> impl Strategy<Value = DestinationForm> {
    (
        near(&["Payments", "  ", "a"]),
        near(&URLS),
        near(&["none", "bearer", "api_key", ""]),
        near(&["token-123", ""]),
        near(&["X-API-Key", "Authorization", ""]),
        near(&["key-123", ""]),
        prop::collection::vec(header_row(), 0..MAX_HEADERS + 3),
    )
        .prop_map(
            |(name, url, auth_type, bearer_token, api_key_header, api_key, headers)| {
                DestinationForm {
                    name,
                    url,
                    auth_type,
                    bearer_token,
                    api_key_header,
                    api_key,
                    headers,
                }
            },
        )
}

fn kept() -> impl Strategy<Value = KeptSecrets> {
    prop_oneof![
        Just(KeptSecrets::default()),
        (
            near(&["token"]),
            near(&["https://hooks.example.com/", "https://other.example/"])
        )
            .prop_map(|(token, stored)| KeptSecrets {
                bearer_token: Some(token.clone()),
                api_key: Some(token),
                ..KeptSecrets::default()
            }
            .for_url(&stored, "https://hooks.example.com/x")),
    ]
}

#[test]
fn destination_form() {
    let strategy = (form(), allowed(), kept());
    super::run(
        file!(),
        "destination_form",
        super::cases(256),
        strategy,
        |(form, allowed, kept)| {
            let Ok(valid) = destination::parse(&form, &allowed, &kept) else {
                return Ok(());
            };
            prop_assert_eq!(
                WebhookUrl::parse(valid.url.as_str(), &allowed),
                Ok(valid.url.clone())
            );
            prop_assert!(valid.headers.len() <= MAX_HEADERS);
            for h in &valid.headers {
                prop_assert_eq!(HeaderName::parse(h.name.as_str()), Ok(h.name.clone()));
                prop_assert!(reserved_reason(&h.name).is_none());
                prop_assert!(check_value(&h.value, usize::MAX).is_ok());
            }
            Ok(())
        },
    );
}

/// A parsed URL parses again to itself, and is HTTPS to a permitted host.
fn check_url(raw: &str, allowed: &[(IpAddr, u8)]) -> Result<(), TestCaseError> {
    let Ok(url) = WebhookUrl::parse(raw, allowed) else {
        return Ok(());
    };
    prop_assert_eq!(WebhookUrl::parse(url.as_str(), allowed), Ok(url.clone()));
    prop_assert_eq!(url.as_url().scheme(), "https");
    prop_assert!(url.as_url().username().is_empty() && url.as_url().password().is_none());
    prop_assert!(url.check_literal(allowed).is_ok());
    if let Some(name) = url.dns_name() {
        prop_assert!(check_name(name, allowed).is_ok());
    }
    Ok(())
}

#[test]
fn webhook_url() {
    let raw = prop_oneof![
        4 => near(&URLS),
        1 => (near(&["127.0.0.1", "0x7f.1", "[::1]", "example.com", "2130706433"]), near(&["/", ":443/a"]))
            .prop_map(|(host, rest)| format!("https://{host}{rest}")),
    ];
    super::run(
        file!(),
        "webhook_url",
        super::cases(256),
        (raw, allowed()),
        |(raw, allowed)| check_url(&raw, &allowed),
    );
}

#[test]
fn header_names_and_values() {
    let strategy = (hostile_string(40), hostile_string(60));
    super::run(
        file!(),
        "header_names_and_values",
        super::cases(256),
        strategy,
        |(name, value)| {
            if let Ok(parsed) = HeaderName::parse(&name) {
                prop_assert_eq!(HeaderName::parse(parsed.as_str()), Ok(parsed.clone()));
                prop_assert!(
                    reqwest::header::HeaderName::from_bytes(parsed.as_str().as_bytes()).is_ok()
                );
            }
            if check_value(&value, 8192).is_ok() {
                prop_assert!(reqwest::header::HeaderValue::from_str(&value).is_ok());
            }
            Ok(())
        },
    );
}

/// Hosts made of what IPv4 and IPv6 literals are made of.
fn host() -> impl Strategy<Value = String> {
    let ipish = prop::sample::select(vec![
        '0', '1', '2', '7', '8', '9', 'f', 'x', 'X', '.', '.', '%', ':', '\u{3002}', '\u{ff0e}',
        '\u{ff11}',
    ]);
    prop_oneof![
        3 => prop::collection::vec(ipish, 1..16).prop_map(String::from_iter),
        2 => near(&["127.0.0.1", "0x7f.1", "0177.0.0.1", "2130706433", "[::1]", "::ffff:10.0.0.1", "%31%30.0.0.1", "1.2.3.4."]),
        1 => prop::collection::vec(hostile_char(), 0..20).prop_map(String::from_iter),
    ]
}

/// The guard reads a host as the URL parser does, and refuses what is not public.
#[test]
fn address_guard_parser() {
    let strategy = (host(), any::<IpAddr>(), allowed());
    super::run(
        file!(),
        "address_guard_parser",
        super::cases(256),
        strategy,
        |(host, ip, allowed)| {
            let ours = parse_host_ip(&host);
            let _ = check_name(&host, &allowed);
            // Only hosts that stay the whole authority (no port, path or user part)
            // as written: the URL parser drops tabs, newlines and outer spaces first,
            // and reads "[::1]:" as a host and an empty port.
            let whole = !host.contains(['/', '?', '#', '@', '\\'])
                && !host.chars().any(|c| c.is_ascii_control() || c == ' ')
                && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']')));
            if let Some(url) = whole
                .then(|| Url::parse(&format!("https://{host}/")).ok())
                .flatten()
            {
                match url.host() {
                    Some(Host::Ipv4(v4)) => prop_assert_eq!(ours, Some(IpAddr::V4(v4)), "{}", host),
                    Some(Host::Ipv6(v6)) => prop_assert_eq!(ours, Some(IpAddr::V6(v6)), "{}", host),
                    _ => {}
                }
            }
            let canonical = ip.to_canonical();
            prop_assert_eq!(
                check(ip, &[]).is_err(),
                non_public_reason(canonical).is_some()
            );
            let exact = if canonical.is_ipv4() { 32 } else { 128 };
            prop_assert!(check(ip, &[(canonical, exact)]).is_ok());
            let _ = check(ip, &allowed);
            Ok(())
        },
    );
}
