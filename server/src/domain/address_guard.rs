//! Address guard: keeps webhook deliveries away from non-public networks.
//!
//! A target URL is chosen by a user, so without this guard a user could make
//! Alertwire send requests to itself, to the cloud metadata service
//! (169.254.169.254) or to anything else on the network it runs in (SSRF).
//!
//! The guard is applied twice:
//! - when a target URL is saved, if its host is an IP literal
//!   ([`parse_host_ip`]), so the user gets a clear error straight away;
//! - at connection time, on every address DNS returns for the host. This is
//!   the check that counts: a DNS name can point anywhere and can change
//!   between saving and sending (DNS rebinding), so the caller must check each
//!   resolved address and connect to exactly the address it checked.
//!
//! Operators can exempt networks (`ALERTWIRE_ALLOWED_TARGETS`), for example to
//! deliver to an internal service; [`check`] takes them as
//! (network address, prefix length) pairs.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const UNSPECIFIED: &str = "an unspecified address";
const LOOPBACK: &str = "a loopback address";
const PRIVATE: &str = "a private address";
const DOCUMENTATION: &str = "a documentation address";
const BENCHMARKING: &str = "a benchmarking address";
const MULTICAST: &str = "a multicast address";
const RESERVED: &str = "a reserved address";
const IETF_ASSIGNMENT: &str = "an IETF protocol assignment address";
const ORCHID: &str = "an ORCHID address";

/// Non-public IPv4 ranges from the IANA special-purpose registry. Where ranges
/// overlap the more specific one comes first, since the first match wins.
const IPV4_RANGES: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::UNSPECIFIED, 32, UNSPECIFIED),
    (Ipv4Addr::UNSPECIFIED, 8, "a \"this network\" address"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, PRIVATE),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "a shared (CGNAT) address"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, LOOPBACK),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "a link-local address (this includes the cloud metadata address)",
    ),
    (Ipv4Addr::new(172, 16, 0, 0), 12, PRIVATE),
    (Ipv4Addr::new(192, 0, 0, 0), 24, IETF_ASSIGNMENT),
    (Ipv4Addr::new(192, 0, 2, 0), 24, DOCUMENTATION),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "a deprecated 6to4 relay anycast address",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, PRIVATE),
    (Ipv4Addr::new(198, 18, 0, 0), 15, BENCHMARKING),
    (Ipv4Addr::new(198, 51, 100, 0), 24, DOCUMENTATION),
    (Ipv4Addr::new(203, 0, 113, 0), 24, DOCUMENTATION),
    (Ipv4Addr::new(224, 0, 0, 0), 4, MULTICAST),
    (Ipv4Addr::BROADCAST, 32, "a broadcast address"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, RESERVED),
];

/// Non-public IPv6 ranges, first match wins. Addresses embedding an IPv4
/// address (mapped, NAT64, 6to4) are handled before this table is consulted.
const IPV6_RANGES: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, UNSPECIFIED),
    (Ipv6Addr::LOCALHOST, 128, LOOPBACK),
    // IPv4-compatible (::a.b.c.d) is deprecated (RFC 4291) and never
    // legitimately used, so it is refused whatever IPv4 address it holds.
    (
        Ipv6Addr::UNSPECIFIED,
        96,
        "a deprecated IPv4-compatible IPv6 address",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "a local-use NAT64 address",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "a discard-only address",
    ),
    // 2001::/23 holds IETF protocol assignments; none is a webhook receiver.
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        32,
        "a Teredo address",
    ),
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, BENCHMARKING),
    (Ipv6Addr::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28, ORCHID),
    (Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28, ORCHID),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        IETF_ASSIGNMENT,
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        DOCUMENTATION,
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        DOCUMENTATION,
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "an IPv6 unique-local address",
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        "a link-local address",
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "a deprecated IPv6 site-local address",
    ),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, MULTICAST),
];

const NAT64: Ipv6Addr = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0);
const SIX_TO_FOUR: Ipv6Addr = Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0);
const GLOBAL_UNICAST: Ipv6Addr = Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0);

/// The end of every refusal, for addresses and names alike.
const PUBLIC_ONLY: &str = "Alertwire only sends to public addresses \
     (an operator can allow it with ALERTWIRE_ALLOWED_TARGETS)";

/// An address Alertwire refuses to send to, with the reason shown to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedAddress {
    pub ip: IpAddr,
    pub reason: &'static str,
}

impl fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}; {PUBLIC_ONLY}", self.ip, self.reason)
    }
}

impl std::error::Error for BlockedAddress {}

/// A host name that always means this machine, refused like a loopback address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedName {
    pub host: String,
}

impl fmt::Display for BlockedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is a name for {LOOPBACK}; {PUBLIC_ONLY}", self.host)
    }
}

impl std::error::Error for BlockedName {}

/// Names that distributions map to a loopback address in `/etc/hosts`.
const LOOPBACK_HOST_NAMES: &[&str] = &[
    "localhost.localdomain",
    "localhost4",
    "localhost4.localdomain4",
    "localhost6",
    "localhost6.localdomain6",
    "ip6-localhost",
    "ip6-loopback",
];

/// Whether `host` (a DNS name from a URL) means this machine: `localhost`
/// and every name under it (RFC 6761), with or without trailing dots, and
/// the loopback names of `/etc/hosts`. Such names may not resolve at all
/// (`foo.localhost`, `localhost.`), so the resolved-address check alone
/// cannot be relied on to refuse them.
#[must_use]
pub fn is_loopback_name(host: &str) -> bool {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || LOOPBACK_HOST_NAMES.contains(&name.as_str())
}

/// Refuses a loopback name unless the operator allows loopback
/// (`127.0.0.0/8` or `::1` in `allowed`).
///
/// # Errors
///
/// [`BlockedName`] if `host` is a loopback name and loopback is not allowed.
#[must_use = "an unchecked result lets the request through"]
pub fn check_name(host: &str, allowed: &[(IpAddr, u8)]) -> Result<(), BlockedName> {
    let loopback_allowed = check(Ipv4Addr::LOCALHOST.into(), allowed).is_ok()
        || check(Ipv6Addr::LOCALHOST.into(), allowed).is_ok();
    if loopback_allowed || !is_loopback_name(host) {
        return Ok(());
    }
    Err(BlockedName {
        host: host.to_owned(),
    })
}

/// Refuses `ip` unless it is public or inside one of the `allowed`
/// (network address, prefix length) pairs.
///
/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) reach the IPv4 host, so they
/// are checked, allow-listed and reported as that IPv4 address.
///
/// # Errors
///
/// [`BlockedAddress`] if `ip` is not public and no allowed network holds it.
#[must_use = "an unchecked result lets the request through"]
pub fn check(ip: IpAddr, allowed: &[(IpAddr, u8)]) -> Result<(), BlockedAddress> {
    let ip = ip.to_canonical();
    if allowed
        .iter()
        .any(|&(network, prefix)| in_network(ip, network, prefix))
    {
        return Ok(());
    }
    match non_public_reason(ip) {
        None => Ok(()),
        Some(reason) => Err(BlockedAddress { ip, reason }),
    }
}

/// Why `ip` is not publicly routable, or `None` if it is.
#[must_use]
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => ipv4_reason(ip),
        IpAddr::V6(ip) => ipv6_reason(ip),
    }
}

fn ipv4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    IPV4_RANGES
        .iter()
        .find(|&&(network, prefix, _)| same_prefix(ip.into(), network.into(), prefix))
        .map(|&(_, _, reason)| reason)
}

fn ipv6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        // The very same host as the IPv4 address, so judged exactly like it.
        return ipv4_reason(v4);
    }
    if let Some((v4, reason)) = embedded_ipv4(ip) {
        // Traffic is relayed to the embedded IPv4 address; public ones pass.
        return ipv4_reason(v4).map(|_| reason);
    }
    let listed = IPV6_RANGES
        .iter()
        .find(|&&(network, prefix, _)| same_prefix_v6(ip, network, prefix))
        .map(|&(_, _, reason)| reason);
    // Only 2000::/3 is allocated for global unicast; the rest is reserved.
    listed.or((!same_prefix_v6(ip, GLOBAL_UNICAST, 3)).then_some(RESERVED))
}

/// The IPv4 address a NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`) address
/// leads to, with the reason to give if that IPv4 address is not public.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<(Ipv4Addr, &'static str)> {
    let o = ip.octets();
    if same_prefix_v6(ip, NAT64, 96) {
        let v4 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
        return Some((v4, "a NAT64 address of a non-public IPv4 address"));
    }
    if same_prefix_v6(ip, SIX_TO_FOUR, 16) {
        let v4 = Ipv4Addr::new(o[2], o[3], o[4], o[5]);
        return Some((v4, "a 6to4 address of a non-public IPv4 address"));
    }
    None
}

/// Whether `ip` is inside `network`/`prefix`. A network written as
/// IPv4-mapped IPv6 is read as IPv4, matching what `check` does to `ip`.
/// A prefix longer than the address matches nothing rather than guessing.
fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    let (network, prefix) = canonical_network(network, prefix);
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => same_prefix(ip.into(), net.into(), prefix),
        (IpAddr::V6(ip), IpAddr::V6(net)) => same_prefix_v6(ip, net, prefix),
        _ => false,
    }
}

fn canonical_network(network: IpAddr, prefix: u8) -> (IpAddr, u8) {
    match network {
        IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
            Some(v4) => (IpAddr::V4(v4), prefix - 96),
            None => (network, prefix),
        },
        _ => (network, prefix),
    }
}

/// Whether two IPv4 addresses agree on their first `prefix` bits; never
/// for a prefix over 32.
fn same_prefix(a: u32, b: u32, prefix: u8) -> bool {
    let Some(host_bits) = 32u32.checked_sub(prefix.into()) else {
        return false;
    };
    // checked_shr: shifting by the full width (a /0 network) is an overflow.
    (a ^ b).checked_shr(host_bits).unwrap_or(0) == 0
}

/// Whether two IPv6 addresses agree on their first `prefix` bits; never
/// for a prefix over 128.
fn same_prefix_v6(a: Ipv6Addr, b: Ipv6Addr, prefix: u8) -> bool {
    let Some(host_bits) = 128u32.checked_sub(prefix.into()) else {
        return false;
    };
    let diff = u128::from(a) ^ u128::from(b);
    diff.checked_shr(host_bits).unwrap_or(0) == 0
}

/// Reads `host` (from a URL, without port) as an IP address if it is one.
///
/// IPv4 follows the WHATWG URL host parser, which browsers and most URL
/// libraries share: 1 to 4 dot-separated parts in decimal, octal (leading 0)
/// or hex (0x), the last part filling the remaining bytes (127.1 is
/// 127.0.0.1, 2130706433 too), and one trailing dot allowed. Percent-escapes
/// and full-width digits and dots are undone first, as URL parsing does.
/// IPv6 may be bracketed or not. DNS names and invalid numbers give `None`;
/// the connection-time check still covers whatever those resolve to.
///
/// The URL crate's own host parser answers first, so every mapping it does
/// (IDNA drops U+FEFF and soft hyphens, for one) is read the same way here;
/// the hand parser below covers what it refuses as a host.
pub fn parse_host_ip(host: &str) -> Option<IpAddr> {
    match url::Host::parse(host) {
        Ok(url::Host::Ipv4(v4)) => return Some(IpAddr::V4(v4)),
        Ok(url::Host::Ipv6(v6)) => return Some(IpAddr::V6(v6)),
        _ => {}
    }
    if let Some(inner) = host.strip_prefix('[') {
        return inner.strip_suffix(']')?.parse().ok().map(IpAddr::V6);
    }
    if host.contains(':') {
        return host.parse().ok().map(IpAddr::V6);
    }
    parse_ipv4(&normalise_host(host)?).map(IpAddr::V4)
}

fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts = host
        .split('.')
        .map(parse_ipv4_part)
        .collect::<Option<Vec<u32>>>()?;
    let (&last, init) = parts.split_last()?;
    if init.len() > 3 || init.iter().any(|&part| part > 255) {
        return None;
    }
    // The last part fills every byte the earlier parts did not.
    let last_bits = 8 * (4 - u32::try_from(init.len()).ok()?);
    if last_bits < 32 && last >> last_bits != 0 {
        return None;
    }
    let high = init.iter().fold(0u32, |acc, &part| (acc << 8) | part);
    Some(Ipv4Addr::from(
        high.checked_shl(last_bits).unwrap_or(0) | last,
    ))
}

/// One IPv4 part: "0x" hex (may be empty, meaning 0), leading-0 octal or
/// decimal. Signs, empty parts and values over 32 bits are rejected.
fn parse_ipv4_part(part: &str) -> Option<u32> {
    let (digits, radix) = match part.strip_prefix("0x").or(part.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None if part.len() > 1 && part.starts_with('0') => (&part[1..], 8),
        None if part.is_empty() => return None,
        None => (part, 10),
    };
    if digits.is_empty() {
        return Some(0);
    }
    // from_str_radix alone would also accept a leading '+'.
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

/// Undoes the encodings a URL parser removes before reading an IPv4 host:
/// percent-escapes, and full-width characters that IDNA maps to ASCII.
fn normalise_host(host: &str) -> Option<String> {
    Some(percent_decode(host)?.chars().map(fold_full_width).collect())
}

fn fold_full_width(c: char) -> char {
    match c {
        '\u{3002}' | '\u{FF61}' => '.',
        // U+FF01..=U+FF5E are full-width forms of ASCII '!'..='~'.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        // A '%' not followed by two hex digits stays as it is, as in URLs.
        let escaped = bytes.get(i + 1..i + 3).and_then(hex_byte);
        match escaped {
            Some(decoded) if byte == b'%' => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let &[high, low] = pair else {
        return None;
    };
    let digit = |b: u8| char::from(b).to_digit(16);
    u8::try_from(digit(high)? * 16 + digit(low)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(host: &str) -> IpAddr {
        parse_host_ip(host).unwrap_or_else(|| panic!("{host} should parse as an IP"))
    }

    fn assert_blocked(host: &str) {
        assert!(check(ip(host), &[]).is_err(), "{host} should be blocked");
    }

    fn assert_public(host: &str) {
        assert_eq!(check(ip(host), &[]), Ok(()), "{host} should pass");
    }

    fn reason(host: &str) -> &'static str {
        match check(ip(host), &[]) {
            Err(blocked) => blocked.reason,
            Ok(()) => panic!("{host} should be blocked"),
        }
    }

    fn net(network: &str, prefix: u8) -> (IpAddr, u8) {
        (ip(network), prefix)
    }

    #[test]
    fn blocks_loopback() {
        assert_eq!(reason("127.0.0.1"), LOOPBACK);
    }

    #[test]
    fn blocks_loopback_shorthand() {
        assert_blocked("127.1");
    }

    #[test]
    fn blocks_loopback_as_whole_hex_number() {
        assert_blocked("0x7f000001");
    }

    #[test]
    fn blocks_loopback_as_whole_decimal_number() {
        assert_blocked("2130706433");
    }

    #[test]
    fn blocks_loopback_in_octal() {
        assert_blocked("0177.0.0.1");
    }

    #[test]
    fn blocks_loopback_hex_shorthand() {
        assert_blocked("0x7f.1");
    }

    #[test]
    fn blocks_ipv6_loopback() {
        assert_eq!(reason("[::1]"), LOOPBACK);
    }

    #[test]
    fn blocks_ipv4_mapped_loopback() {
        assert_eq!(reason("[::ffff:127.0.0.1]"), LOOPBACK);
        assert_eq!(reason("[::ffff:7f00:1]"), LOOPBACK);
    }

    #[test]
    fn blocks_cloud_metadata_address() {
        assert!(reason("169.254.169.254").contains("metadata"));
    }

    #[test]
    fn blocks_private_ranges() {
        for host in ["10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1"] {
            assert_eq!(reason(host), PRIVATE, "{host}");
        }
    }

    #[test]
    fn blocks_cgnat() {
        assert_eq!(reason("100.64.0.1"), "a shared (CGNAT) address");
        assert_blocked("100.127.255.255");
    }

    #[test]
    fn passes_addresses_just_outside_private_ranges() {
        for host in ["172.32.0.1", "172.15.255.255", "100.128.0.1", "192.169.0.1"] {
            assert_public(host);
        }
    }

    #[test]
    fn blocks_ipv6_link_local() {
        assert_eq!(reason("[fe80::1]"), "a link-local address");
    }

    #[test]
    fn blocks_ipv6_unique_local() {
        assert_eq!(reason("[fc00::1]"), "an IPv6 unique-local address");
        assert_blocked("[fd12:3456::1]");
    }

    #[test]
    fn blocks_unspecified() {
        assert_eq!(reason("0.0.0.0"), UNSPECIFIED);
        assert_eq!(reason("0"), UNSPECIFIED);
        assert_eq!(reason("[::]"), UNSPECIFIED);
    }

    #[test]
    fn blocks_this_network() {
        assert_eq!(reason("0.1.2.3"), "a \"this network\" address");
    }

    #[test]
    fn blocks_multicast() {
        assert_eq!(reason("224.0.0.1"), MULTICAST);
        assert_eq!(reason("[ff02::1]"), MULTICAST);
    }

    #[test]
    fn blocks_broadcast_and_reserved() {
        assert_eq!(reason("255.255.255.255"), "a broadcast address");
        assert_eq!(reason("240.0.0.1"), RESERVED);
    }

    #[test]
    fn blocks_ipv4_documentation() {
        for host in ["192.0.2.1", "198.51.100.7", "203.0.113.9"] {
            assert_eq!(reason(host), DOCUMENTATION, "{host}");
        }
    }

    #[test]
    fn blocks_benchmarking() {
        assert_eq!(reason("198.18.0.1"), BENCHMARKING);
        assert_eq!(reason("198.19.255.255"), BENCHMARKING);
        assert_public("198.20.0.1");
    }

    #[test]
    fn blocks_ietf_assignments_and_6to4_relay() {
        assert_eq!(reason("192.0.0.8"), IETF_ASSIGNMENT);
        assert_blocked("192.88.99.1");
    }

    #[test]
    fn blocks_ipv6_documentation() {
        assert_eq!(reason("[2001:db8::1]"), DOCUMENTATION);
        assert_eq!(reason("[3fff::1]"), DOCUMENTATION);
    }

    #[test]
    fn blocks_nat64_of_private_address() {
        assert!(reason("[64:ff9b::a00:1]").contains("NAT64"));
    }

    #[test]
    fn passes_nat64_of_public_address() {
        assert_public("[64:ff9b::808:808]");
    }

    #[test]
    fn blocks_local_use_nat64() {
        assert_eq!(reason("[64:ff9b:1::808:808]"), "a local-use NAT64 address");
    }

    #[test]
    fn blocks_6to4_of_private_address() {
        assert!(reason("[2002:c0a8:0101::1]").contains("6to4"));
    }

    #[test]
    fn passes_6to4_of_public_address() {
        assert_public("[2002:0808:0808::1]");
    }

    #[test]
    fn blocks_teredo() {
        assert_eq!(reason("[2001::1]"), "a Teredo address");
    }

    #[test]
    fn blocks_orchid_and_other_ietf_ipv6_assignments() {
        assert_eq!(reason("[2001:10::1]"), ORCHID);
        assert_eq!(reason("[2001:20::1]"), ORCHID);
        assert_eq!(reason("[2001:2::1]"), BENCHMARKING);
        assert_eq!(reason("[2001:3::1]"), IETF_ASSIGNMENT);
        assert_public("[2001:200::1]");
    }

    #[test]
    fn blocks_discard_only_and_site_local() {
        assert_eq!(reason("[100::1]"), "a discard-only address");
        assert_eq!(reason("[fec0::1]"), "a deprecated IPv6 site-local address");
    }

    #[test]
    fn blocks_ipv4_compatible_even_of_public_address() {
        assert_blocked("[::a00:1]");
        assert_blocked("[::808:808]");
    }

    #[test]
    fn blocks_ipv6_outside_global_unicast() {
        assert_eq!(reason("[4000::1]"), RESERVED);
        assert_eq!(reason("[1::1]"), RESERVED);
    }

    #[test]
    fn passes_public_ipv4() {
        for host in ["8.8.8.8", "1.1.1.1", "93.184.216.34"] {
            assert_public(host);
        }
    }

    #[test]
    fn passes_public_ipv6() {
        assert_public("[2606:4700:4700::1111]");
    }

    #[test]
    fn passes_ipv4_mapped_public_address() {
        assert_public("[::ffff:8.8.8.8]");
    }

    #[test]
    fn non_public_reason_is_none_for_public_addresses() {
        assert_eq!(non_public_reason(ip("8.8.8.8")), None);
        assert_eq!(non_public_reason(ip("::ffff:1.1.1.1")), None);
    }

    #[test]
    fn every_loopback_name_form_is_a_loopback_name() {
        for host in [
            "localhost",
            "LOCALHOST",
            "LocalHost",
            "localhost.",
            "localhost..",
            "foo.localhost",
            "foo.localhost.",
            "a.b.c.localhost",
            "FOO.LOCALHOST",
            "localhost.localdomain",
            "localhost.localdomain.",
            "localhost6",
            "localhost6.localdomain6",
            "ip6-localhost",
            "ip6-loopback",
        ] {
            assert!(is_loopback_name(host), "{host}");
            let refused = check_name(host, &[]).unwrap_err().to_string();
            assert!(refused.contains("loopback"), "{refused}");
            assert!(
                refused.contains("only sends to public addresses"),
                "{refused}"
            );
        }
    }

    #[test]
    fn names_that_only_look_like_localhost_pass() {
        for host in [
            "example.com",
            "localhost.example.com",
            "mylocalhost",
            "localhostx",
            "notlocalhost.com",
            "localhost-api.example.com",
        ] {
            assert!(!is_loopback_name(host), "{host}");
            assert_eq!(check_name(host, &[]), Ok(()), "{host}");
        }
    }

    #[test]
    fn allowing_loopback_allows_loopback_names() {
        assert_eq!(check_name("foo.localhost", &[net("127.0.0.0", 8)]), Ok(()));
        assert_eq!(check_name("localhost.", &[net("::1", 128)]), Ok(()));
        assert!(check_name("localhost", &[net("10.0.0.0", 8)]).is_err());
    }

    #[test]
    fn dns_names_are_not_ip_literals() {
        for host in [
            "example.com",
            "1.2.3.4.example.com",
            "localhost",
            "0x7f.example",
            "deadbeef",
        ] {
            assert_eq!(parse_host_ip(host), None, "{host}");
        }
    }

    #[test]
    fn parses_shorthand_forms() {
        assert_eq!(ip("127.1"), ip("127.0.0.1"));
        assert_eq!(ip("10.1"), ip("10.0.0.1"));
        assert_eq!(ip("1.2.3"), ip("1.2.0.3"));
    }

    #[test]
    fn parses_whole_number_forms() {
        assert_eq!(ip("2130706433"), ip("127.0.0.1"));
        assert_eq!(ip("0x7f000001"), ip("127.0.0.1"));
        assert_eq!(ip("017700000001"), ip("127.0.0.1"));
        assert_eq!(ip("0xFFFFFFFF"), ip("255.255.255.255"));
    }

    #[test]
    fn parses_mixed_radix_forms() {
        assert_eq!(ip("0x7f.0.0.1"), ip("127.0.0.1"));
        assert_eq!(ip("0177.0x0.00.1"), ip("127.0.0.1"));
        assert_eq!(ip("0XA9.0376.43518"), ip("169.254.169.254"));
    }

    #[test]
    fn empty_hex_part_is_zero() {
        assert_eq!(ip("0x"), ip("0.0.0.0"));
    }

    #[test]
    fn accepts_one_trailing_dot() {
        assert_eq!(ip("127.0.0.1."), ip("127.0.0.1"));
        assert_eq!(parse_host_ip("127.0.0.1.."), None);
    }

    #[test]
    fn rejects_out_of_range_numbers() {
        for host in [
            "0x100000000",
            "4294967296",
            "256.1.1.1",
            "1.2.3.256",
            "1.256.1",
            "1.2.65536",
        ] {
            assert_eq!(parse_host_ip(host), None, "{host}");
        }
    }

    #[test]
    fn rejects_malformed_ipv4() {
        for host in ["", ".", "1..1", "+1", "1.2.3.4.5", "08", "0x1g", "-1"] {
            assert_eq!(parse_host_ip(host), None, "{host:?}");
        }
    }

    #[test]
    fn undoes_percent_escapes_and_full_width_digits() {
        assert_eq!(ip("%31%32%37.0.0.1"), ip("127.0.0.1"));
        assert_eq!(ip("１２７．０．０．１"), ip("127.0.0.1"));
        assert_eq!(ip("127。0。0。1"), ip("127.0.0.1"));
    }

    #[test]
    fn drops_what_idna_ignores() {
        // Found by the fuzz target: the URL parser maps these away.
        assert_eq!(ip("\u{feff}127.0.0.1"), ip("127.0.0.1"));
        assert_eq!(ip("12\u{ad}7.0.0.1"), ip("127.0.0.1"));
    }

    #[test]
    fn parses_unbracketed_ipv6() {
        assert_eq!(parse_host_ip("::1"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }

    #[test]
    fn rejects_malformed_brackets() {
        for host in ["[::1", "[127.0.0.1]", "[::1]:80", "[::1%eth0]"] {
            assert_eq!(parse_host_ip(host), None, "{host}");
        }
    }

    #[test]
    fn allow_list_exempts_loopback_network() {
        assert_eq!(check(ip("127.0.0.1"), &[net("127.0.0.0", 8)]), Ok(()));
    }

    #[test]
    fn allow_list_exempts_single_ipv6_address() {
        assert_eq!(check(ip("::1"), &[net("::1", 128)]), Ok(()));
        assert!(check(ip("::2"), &[net("::1", 128)]).is_err());
    }

    #[test]
    fn allow_list_does_not_leak_to_other_networks() {
        assert!(check(ip("10.0.0.1"), &[net("127.0.0.0", 8)]).is_err());
        assert!(check(ip("::1"), &[net("127.0.0.0", 8)]).is_err());
    }

    #[test]
    fn ipv4_mapped_addresses_are_checked_as_ipv4() {
        let allowed = [net("127.0.0.0", 8)];
        assert_eq!(check(ip("[::ffff:127.0.0.1]"), &allowed), Ok(()));
        let blocked = check(ip("[::ffff:10.0.0.1]"), &allowed);
        assert_eq!(blocked.map_err(|b| b.ip), Err(ip("10.0.0.1")));
    }

    #[test]
    fn allow_list_entry_may_be_written_ipv4_mapped() {
        assert_eq!(
            check(ip("127.0.0.1"), &[net("::ffff:127.0.0.0", 104)]),
            Ok(())
        );
    }

    #[test]
    fn allow_list_entry_with_impossible_prefix_matches_nothing() {
        assert!(check(ip("127.0.0.1"), &[net("127.0.0.1", 33)]).is_err());
        assert!(check(ip("::1"), &[net("::1", 129)]).is_err());
    }

    #[test]
    fn zero_prefix_allows_whole_family_only() {
        let allowed = [net("0.0.0.0", 0)];
        assert_eq!(check(ip("10.0.0.1"), &allowed), Ok(()));
        assert!(check(ip("fe80::1"), &allowed).is_err());
    }

    #[test]
    fn error_message_explains_how_to_allow() {
        let message = check(ip("127.0.0.1"), &[]).map_err(|b| b.to_string());
        let expected = "127.0.0.1 is a loopback address; Alertwire only sends to public \
                        addresses (an operator can allow it with ALERTWIRE_ALLOWED_TARGETS)";
        assert_eq!(message, Err(expected.to_string()));
    }

    #[test]
    fn blocked_address_is_a_std_error() {
        let error: Box<dyn std::error::Error> = match check(ip("10.0.0.1"), &[]) {
            Err(blocked) => Box::new(blocked),
            Ok(()) => panic!("10.0.0.1 should be blocked"),
        };
        assert!(error
            .to_string()
            .starts_with("10.0.0.1 is a private address"));
    }
}
