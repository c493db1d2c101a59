//! The one HTTP client every webhook goes through: HTTPS only, certificates
//! always verified, redirects never followed, no proxy from the environment,
//! the address guard on every connection, bounded time and bounded response
//! reading.

use super::resolver::{GuardedResolver, ResolveError};
use crate::domain::address_guard;
use crate::domain::webhook_url::literal_ip;
use reqwest::redirect::Policy;
use reqwest::{Certificate, Client};
use std::error::Error as StdError;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// How much of a response body is kept.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The outer deadline's margin past `--request-timeout`, so reqwest's own
/// timeout (with its clearer error) fires first.
const DEADLINE_SLACK: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid --extra-ca-certs (ALERTWIRE_EXTRA_CA_CERTS): {0}")]
    ExtraCa(String),
    #[error("cannot build the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// Why an attempt failed (stored with every attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Dns,
    Connect,
    Tls,
    Timeout,
    HttpStatus,
    Redirect,
    BlockedAddress,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::Redirect => "redirect",
            ErrorKind::BlockedAddress => "blocked_address",
        }
    }

    /// The kind an attempt record stores.
    pub fn parse(text: &str) -> Option<Self> {
        [
            ErrorKind::Dns,
            ErrorKind::Connect,
            ErrorKind::Tls,
            ErrorKind::Timeout,
            ErrorKind::HttpStatus,
            ErrorKind::Redirect,
            ErrorKind::BlockedAddress,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptError {
    pub kind: ErrorKind,
    pub message: String,
}

/// One request, ready to send.
#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What one attempt did and saw.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub duration: Duration,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub response_headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub body_truncated: bool,
    pub error: Option<AttemptError>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// `200 OK`
    pub fn status_line(&self) -> Option<String> {
        let code = self.status?;
        Some(match &self.reason {
            Some(reason) => format!("{code} {reason}"),
            None => code.to_string(),
        })
    }

    fn failed(started: Instant, kind: ErrorKind, message: String) -> Self {
        Attempt {
            duration: started.elapsed(),
            status: None,
            reason: None,
            response_headers: Vec::new(),
            body: Vec::new(),
            body_truncated: false,
            error: Some(AttemptError { kind, message }),
        }
    }
}

#[derive(Clone)]
pub struct HttpSender {
    client: Client,
    allowed: Arc<Vec<(IpAddr, u8)>>,
    timeout: Duration,
    /// `--extra-ca-certs`, kept to build another client the same way.
    extra_roots: Arc<Vec<Certificate>>,
}

impl HttpSender {
    pub fn new(
        timeout: Duration,
        allowed: Vec<(IpAddr, u8)>,
        extra_ca: Option<&Path>,
    ) -> Result<Self, ClientError> {
        let extra_roots = match extra_ca {
            Some(path) => load_pem_bundle(path)?,
            None => Vec::new(),
        };
        let allowed = Arc::new(allowed);
        Ok(HttpSender {
            client: client(timeout, &allowed, &extra_roots)?,
            allowed,
            timeout,
            extra_roots: Arc::new(extra_roots),
        })
    }

    /// The same sender with a connection pool of its own: connections live
    /// on the runtime that opened them, so a runtime of lower priority gets
    /// its own (`delivery::engine::lane`).
    pub fn with_own_connections(&self) -> Result<Self, ClientError> {
        Ok(HttpSender {
            client: client(self.timeout, &self.allowed, &self.extra_roots)?,
            ..self.clone()
        })
    }

    /// How long one attempt may take (`--request-timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn allowed(&self) -> &[(IpAddr, u8)] {
        &self.allowed
    }

    /// Sends one request; every failure becomes part of the `Attempt`.
    pub async fn send(&self, request: OutgoingRequest) -> Attempt {
        let started = Instant::now();
        // IP-literal hosts never reach the resolver, and loopback names may
        // not resolve at all (saved before they were refused): check them here.
        let blocked = match literal_ip(&request.url) {
            Some(ip) => address_guard::check(ip, &self.allowed).map_err(|b| b.to_string()),
            None => {
                address_guard::check_name(request.url.host_str().unwrap_or_default(), &self.allowed)
                    .map_err(|b| b.to_string())
            }
        };
        if let Err(message) = blocked {
            return Attempt::failed(started, ErrorKind::BlockedAddress, message);
        }
        let mut builder = self.client.post(request.url.clone()).body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let exchange = async {
            match builder.send().await {
                Ok(response) => read_response(started, response).await,
                Err(err) => {
                    let (kind, message) = classify(&err);
                    Attempt::failed(started, kind, message)
                }
            }
        };
        // reqwest's own timeout covers the name lookup, the handshake, the
        // headers and the body; this deadline makes that a guarantee, whatever
        // the endpoint does (RELIABILITY.md, hostile receivers).
        tokio::time::timeout(self.timeout + DEADLINE_SLACK, exchange)
            .await
            .unwrap_or_else(|_| Attempt::failed(started, ErrorKind::Timeout, timed_out()))
    }
}

fn client(
    timeout: Duration,
    allowed: &Arc<Vec<(IpAddr, u8)>>,
    extra_roots: &[Certificate],
) -> Result<Client, ClientError> {
    let mut builder = Client::builder()
        // HTTPS_PROXY and friends are ignored: through a proxy the guarded
        // resolver never sees the target's name, and the proxy reaches it instead.
        .no_proxy()
        .https_only(true)
        .redirect(Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(512)
        .user_agent(concat!("Alertwire/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver {
            allowed: allowed.clone(),
        }));
    for cert in extra_roots {
        builder = builder.add_root_certificate(cert.clone());
    }
    Ok(builder.build()?)
}

fn load_pem_bundle(path: &Path) -> Result<Vec<Certificate>, ClientError> {
    let pem = std::fs::read(path)
        .map_err(|e| ClientError::ExtraCa(format!("cannot read {}: {e}", path.display())))?;
    Certificate::from_pem_bundle(&pem)
        .map_err(|e| ClientError::ExtraCa(format!("{}: {e}", path.display())))
}

async fn read_response(started: Instant, mut response: reqwest::Response) -> Attempt {
    let status = response.status();
    let response_headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut body = Vec::new();
    let mut truncated = false;
    let mut read_error = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_BYTES - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(err) => {
                read_error = Some(classify(&err));
                break;
            }
        }
    }
    let error = status_error(status, location.as_deref())
        .or(read_error.map(|(kind, message)| AttemptError { kind, message }));
    Attempt {
        duration: started.elapsed(),
        status: Some(status.as_u16()),
        reason: status.canonical_reason().map(str::to_owned),
        response_headers,
        body,
        body_truncated: truncated,
        error,
    }
}

fn status_error(status: reqwest::StatusCode, location: Option<&str>) -> Option<AttemptError> {
    let line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let line = line.trim_end();
    if status.is_success() {
        None
    } else if status.is_redirection() {
        let to = location.map(|l| format!(" to {l}")).unwrap_or_default();
        Some(AttemptError {
            kind: ErrorKind::Redirect,
            message: format!(
                "The endpoint answered {line}, redirecting{to}; redirects are never followed"
            ),
        })
    } else {
        Some(AttemptError {
            kind: ErrorKind::HttpStatus,
            message: format!("The endpoint answered {line}"),
        })
    }
}

/// Sorts a transport error into a kind, with a message a person can act on.
fn classify(err: &reqwest::Error) -> (ErrorKind, String) {
    let chain = error_chain(err);
    if let Some(resolve) = find::<ResolveError>(err) {
        return match resolve {
            ResolveError::Blocked(b) => (ErrorKind::BlockedAddress, b.to_string()),
            ResolveError::NotFound { host, .. } => (
                ErrorKind::Dns,
                format!("{host} does not resolve to an address"),
            ),
        };
    }
    if err.is_timeout() {
        return (ErrorKind::Timeout, timed_out());
    }
    // Before the TLS words below: a reset reads "connection reset by peer".
    if let Some(io) = find::<std::io::Error>(err) {
        use std::io::ErrorKind as Io;
        match io.kind() {
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe => {
                return (
                    ErrorKind::Connect,
                    format!("The endpoint reset the connection: {}", last_cause(err)),
                )
            }
            Io::UnexpectedEof => {
                return (
                    ErrorKind::Connect,
                    "The endpoint closed the connection before the answer was complete".into(),
                )
            }
            _ => {}
        }
    }
    if let Some(http) = find::<hyper::Error>(err) {
        if http.is_parse_too_large() {
            // hyper's bounds: 100 headers, about 400 KiB of head.
            return (
                ErrorKind::Connect,
                "The endpoint's response headers are too large (over 100 headers or about 400 KiB)"
                    .into(),
            );
        }
        if http.is_incomplete_message() {
            return (
                ErrorKind::Connect,
                "The endpoint closed the connection before the answer was complete".into(),
            );
        }
    }
    let lower = chain.to_lowercase();
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("peer")
    {
        return (
            ErrorKind::Tls,
            format!("The TLS handshake failed: {}", last_cause(err)),
        );
    }
    if let Some(io) = find::<std::io::Error>(err) {
        if io.kind() == std::io::ErrorKind::ConnectionRefused {
            return (ErrorKind::Connect, "Connection refused".into());
        }
    }
    if err.is_connect() {
        return (
            ErrorKind::Connect,
            format!("Could not connect: {}", last_cause(err)),
        );
    }
    (ErrorKind::Connect, format!("The request failed: {chain}"))
}

fn timed_out() -> String {
    "The endpoint did not answer in time".into()
}

fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

fn last_cause(err: &(dyn StdError + 'static)) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

fn find<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> OutgoingRequest {
        OutgoingRequest {
            url: Url::parse(url).unwrap(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A destination saved before loopback names were refused at save still
    /// gets "blocked address", not "does not resolve", and nothing is sent.
    #[tokio::test]
    async fn loopback_names_are_blocked_before_resolving() {
        let sender = HttpSender::new(Duration::from_secs(2), Vec::new(), None).unwrap();
        for url in ["https://foo.localhost:9/", "https://localhost.:9/"] {
            let attempt = sender.send(request(url)).await;
            let error = attempt.error.unwrap();
            assert_eq!(error.kind, ErrorKind::BlockedAddress, "{url}");
            assert!(error.message.contains("loopback"), "{}", error.message);
        }
    }
}
