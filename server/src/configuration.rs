//! Turns the raw settings into a validated `Config`, or one clear error
//! naming the setting at fault.

use crate::cli::Settings;
use crate::http::metrics::MetricsToken;
use crate::store::DbTarget;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DbTarget,
    pub listen: SocketAddr,
    /// `None` means `http://<the address actually bound>`.
    pub public_url: Option<Url>,
    pub secret_key_file: PathBuf,
    pub retry_schedule: Vec<Duration>,
    pub request_timeout: Duration,
    pub allowed_targets: Vec<Cidr>,
    pub extra_ca_certs: Option<PathBuf>,
    pub delivery_lease: Duration,
    pub max_in_flight_per_destination: i64,
    /// `None`: `/metrics` needs no token.
    pub metrics_token: Option<MetricsToken>,
    /// `None`: auto-disable is off (`0`).
    pub auto_disable_after: Option<Duration>,
    /// History older than this is removed.
    pub retention: Duration,
    /// Deliveries per transaction of a bulk job.
    pub bulk_batch: i64,
    /// Between two batches of a bulk job.
    pub bulk_pause: Duration,
    /// Queued deliveries past which ingest is refused.
    pub max_queued: i64,
}

/// Leases are short so a crashed process's work is picked up within a minute.
pub const MAX_LEASE: Duration = Duration::from_secs(60);
/// The longest `--auto-disable-after`.
pub const MAX_AUTO_DISABLE_AFTER: Duration = Duration::from_secs(365 * 24 * 3600);
const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
#[error("invalid {flag} ({env}): {message}")]
pub struct ConfigError {
    pub flag: &'static str,
    pub env: &'static str,
    pub message: String,
}

fn bad(flag: &'static str, env: &'static str) -> impl Fn(String) -> ConfigError {
    move |message| ConfigError { flag, env, message }
}

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let database = DbTarget::parse(s.database_url.trim())
            .map_err(bad("--database-url", "DATABASE_URL"))?;
        let listen: SocketAddr = s.listen.trim().parse().map_err(|_| {
            bad("--listen", "ALERTWIRE_LISTEN")(format!(
                "{:?} is not an address like 127.0.0.1:3000",
                s.listen
            ))
        })?;
        let public_url = parse_public_url(s.public_url.as_deref())
            .map_err(bad("--public-url", "ALERTWIRE_PUBLIC_URL"))?;
        let retry_schedule = parse_schedule(&s.retry_schedule)
            .map_err(bad("--retry-schedule", "ALERTWIRE_RETRY_SCHEDULE"))?;
        let request_timeout = parse_duration(&s.request_timeout)
            .map_err(bad("--request-timeout", "ALERTWIRE_REQUEST_TIMEOUT"))?;
        if request_timeout.is_zero() {
            return Err(bad("--request-timeout", "ALERTWIRE_REQUEST_TIMEOUT")(
                "must be more than zero".into(),
            ));
        }
        let allowed_targets = parse_cidrs(&s.allowed_targets)
            .map_err(bad("--allowed-targets", "ALERTWIRE_ALLOWED_TARGETS"))?;
        let extra_ca_certs = match s.extra_ca_certs.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(path) => {
                Some(check_pem(path).map_err(bad("--extra-ca-certs", "ALERTWIRE_EXTRA_CA_CERTS"))?)
            }
        };
        let lease_error = bad("--delivery-lease", "ALERTWIRE_DELIVERY_LEASE");
        let delivery_lease = parse_duration(&s.delivery_lease).map_err(&lease_error)?;
        if delivery_lease > MAX_LEASE {
            return Err(lease_error("can be at most 60s".into()));
        }
        if delivery_lease <= request_timeout {
            return Err(lease_error(format!(
                "must be longer than the request timeout ({}ms), or attempts in flight would be taken over",
                request_timeout.as_millis()
            )));
        }
        let max_in_flight_per_destination = s
            .max_in_flight_per_destination
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                bad(
                    "--max-in-flight-per-destination",
                    "ALERTWIRE_MAX_IN_FLIGHT_PER_DESTINATION",
                )("must be a whole number from 1 to 1000".into())
            })?;
        let metrics_token = s
            .metrics_token
            .as_deref()
            .map(MetricsToken::parse)
            .transpose()
            .map_err(bad("--metrics-token", "ALERTWIRE_METRICS_TOKEN"))?;
        let auto_disable_after =
            parse_duration_up_to(&s.auto_disable_after, MAX_AUTO_DISABLE_AFTER)
                .map_err(bad("--auto-disable-after", "ALERTWIRE_AUTO_DISABLE_AFTER"))?;
        let retention =
            parse_retention(&s.retention).map_err(bad("--retention", "ALERTWIRE_RETENTION"))?;
        let bulk_batch = s
            .bulk_batch
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                bad("--bulk-batch", "ALERTWIRE_BULK_BATCH")(
                    "must be a whole number from 1 to 10000".into(),
                )
            })?;
        let bulk_pause =
            parse_duration(&s.bulk_pause).map_err(bad("--bulk-pause", "ALERTWIRE_BULK_PAUSE"))?;
        if bulk_pause > Duration::from_secs(60) {
            return Err(bad("--bulk-pause", "ALERTWIRE_BULK_PAUSE")(
                "can be at most 1m".into(),
            ));
        }
        let max_queued = s
            .max_queued
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                bad("--max-queued", "ALERTWIRE_MAX_QUEUED")(
                    "must be a whole number, 1 or more".into(),
                )
            })?;
        Ok(Config {
            database,
            listen,
            public_url,
            secret_key_file: PathBuf::from(s.secret_key_file.trim()),
            retry_schedule,
            request_timeout,
            allowed_targets,
            extra_ca_certs,
            delivery_lease,
            max_in_flight_per_destination,
            metrics_token,
            auto_disable_after: (!auto_disable_after.is_zero()).then_some(auto_disable_after),
            retention,
            bulk_batch,
            bulk_pause,
            max_queued,
        })
    }

    /// The public URL, given the address the listener actually bound.
    pub fn resolved_public_url(&self, bound: SocketAddr) -> Result<Url, url::ParseError> {
        match &self.public_url {
            Some(url) => Ok(url.clone()),
            None => Url::parse(&format!("http://{bound}")),
        }
    }
}

fn parse_public_url(raw: Option<&str>) -> Result<Option<Url>, String> {
    let text = match raw.map(str::trim) {
        None | Some("") => return Ok(None),
        Some(t) => t.to_string(),
    };
    let url = Url::parse(&text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{text:?} must be an http:// or https:// URL with a host"
        ));
    }
    Ok(Some(url))
}

/// `250ms`, `30s`, `5m`, `1h`, `2d`; a bare `0` is zero. At most a week.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    parse_duration_up_to(raw, WEEK)
}

/// A retention window: a duration from one second to ten years (`30d`).
pub fn parse_retention(raw: &str) -> Result<Duration, String> {
    let window = parse_duration_up_to(raw, Duration::from_secs(3650 * 86_400))?;
    if window < Duration::from_secs(1) {
        return Err(format!(
            "{:?} is shorter than a second: write e.g. 90s, 12h or 30d",
            raw.trim()
        ));
    }
    Ok(window)
}

/// A duration as `parse_duration` reads it, at most `max`.
pub fn parse_duration_up_to(raw: &str, max: Duration) -> Result<Duration, String> {
    let text = raw.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 250ms, 30s, 5m, 1h or 2d"))?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => {
            return Err(format!(
                "{text:?} has no unit: write 250ms, 30s, 5m, 1h or 2d"
            ))
        }
    }
    .filter(|ms| u128::from(*ms) <= max.as_millis())
    .ok_or_else(|| format!("{text:?} is longer than {}", span(max)))?;
    Ok(Duration::from_millis(ms))
}

/// `a week`, `365 days`: the limit in an error message.
fn span(max: Duration) -> String {
    match max.as_secs() / 86_400 {
        7 => "a week".into(),
        days => format!("{days} days"),
    }
}

fn parse_schedule(raw: &str) -> Result<Vec<Duration>, String> {
    let delays = raw
        .split(',')
        .map(parse_duration)
        .collect::<Result<Vec<_>, _>>()?;
    if delays.is_empty() || delays.len() > 20 {
        return Err("give between 1 and 20 delays, e.g. 0s,1m,5m,15m,1h".into());
    }
    Ok(delays)
}

/// An IPv4 or IPv6 network, e.g. `127.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not a CIDR like 127.0.0.0/8 or ::1/128"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has a prefix length over {max}"))?,
        };
        Ok(Cidr { addr, prefix })
    }

    /// As the address guard takes it.
    pub fn pair(self) -> (IpAddr, u8) {
        (self.addr, self.prefix)
    }
}

fn parse_cidrs(raw: &str) -> Result<Vec<Cidr>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Cidr::parse)
        .collect()
}

fn check_pem(path: &str) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!("{path} holds no PEM certificate"));
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(" 30s "), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(2 * 86_400)));
        for bad in ["", "s", "10", "8d", "1w", "-1s", "1.5s", "9999999h", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        let year = MAX_AUTO_DISABLE_AFTER;
        assert_eq!(
            parse_duration_up_to("30d", year),
            Ok(Duration::from_secs(30 * 86_400))
        );
        assert!(parse_duration_up_to("366d", year)
            .unwrap_err()
            .contains("longer than 365 days"));
    }

    #[test]
    fn retention_windows() {
        assert_eq!(parse_retention("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_retention("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_retention(" 12h "), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(
            parse_retention("365d"),
            Ok(Duration::from_secs(365 * 86_400))
        );
        for bad in ["0", "0s", "500ms", "3651d", "30", "30 days", ""] {
            assert!(parse_retention(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn default_schedule() {
        let s = parse_schedule("0s,1m,5m,15m,1h").unwrap();
        let secs: Vec<u64> = s.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [0, 60, 300, 900, 3600]);
        assert!(parse_schedule("0s,,1m").is_err());
    }

    #[test]
    fn cidrs() {
        assert_eq!(
            Cidr::parse("127.0.0.0/8").unwrap().pair(),
            ("127.0.0.0".parse().unwrap(), 8)
        );
        assert_eq!(
            Cidr::parse("::1").unwrap().pair(),
            ("::1".parse().unwrap(), 128)
        );
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nonsense").is_err());
        assert_eq!(parse_cidrs(" 127.0.0.0/8 , ::1/128 ").unwrap().len(), 2);
        assert!(parse_cidrs("").unwrap().is_empty());
    }

    #[test]
    fn database_urls() {
        assert!(DbTarget::parse("sqlite://data/x.db").is_ok());
        assert!(DbTarget::parse("postgres://postgres@127.0.0.1/test").is_ok());
        assert!(DbTarget::parse("mysql://x").is_err());
        assert!(DbTarget::parse("not a url").is_err());
    }
}
