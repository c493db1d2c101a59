//! A local HTTPS webhook receiver: for trying the product, and for tests and
//! benchmarks. It records what it receives and can answer failures on purpose.

pub mod hostile;
mod report;
pub mod tls;

pub use report::describe;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

/// How the receiver answers.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// The status of a normal answer.
    pub status: u16,
    /// The first this many requests get `500` instead.
    pub fail_first: u32,
    /// Waits this long before answering.
    pub delay: Duration,
    /// Sent as `Location` (with a 3xx status).
    pub location: Option<String>,
    /// Sent as `Retry-After` (with a 429 or 503 status).
    pub retry_after: Option<String>,
    /// Keep every request for `received` (off for long benchmark runs).
    pub record: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            status: 200,
            fail_first: 0,
            delay: Duration::ZERO,
            location: None,
            retry_after: None,
            record: true,
        }
    }
}

/// Called with every request as it arrives.
pub type OnReceive = Arc<dyn Fn(&Received) + Send + Sync>;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct Shared {
    behaviour: Behaviour,
    seen: Arc<AtomicU32>,
    log: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
    on_receive: Option<OnReceive>,
    in_flight: Arc<AtomicU32>,
    most_in_flight: Arc<AtomicU32>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Shared,
}

impl Receiver {
    /// Serves HTTPS on `listener` with `tls` until the process ends.
    pub fn start(
        listener: TcpListener,
        tls: Arc<tokio_rustls::rustls::ServerConfig>,
        behaviour: Behaviour,
        on_receive: Option<OnReceive>,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let shared = Shared {
            behaviour,
            seen: Arc::new(AtomicU32::new(0)),
            log: Arc::new(Mutex::new(Vec::new())),
            arrived: Arc::new(Notify::new()),
            on_receive,
            in_flight: Arc::new(AtomicU32::new(0)),
            most_in_flight: Arc::new(AtomicU32::new(0)),
        };
        let router = Router::new().fallback(answer).with_state(shared.clone());
        tokio::spawn(accept_loop(listener, TlsAcceptor::from(tls), router));
        Ok(Receiver { addr, shared })
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// How many requests arrived in all (recorded or not).
    pub fn count(&self) -> u32 {
        self.shared.seen.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at the same time.
    pub fn most_in_flight(&self) -> u32 {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` requests arrived, or `timeout` passed.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, router: Router) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            // A client that does not trust the certificate ends here.
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

async fn answer(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = Received {
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    if let Some(callback) = &shared.on_receive {
        callback(&received);
    }
    if shared.behaviour.record {
        if let Ok(mut log) = shared.log.lock() {
            log.push(received);
        }
    }
    let n = shared.seen.fetch_add(1, Ordering::SeqCst);
    shared.arrived.notify_waiters();
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let b = &shared.behaviour;
    if !b.delay.is_zero() {
        tokio::time::sleep(b.delay).await;
    }
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let status = if n < b.fail_first { 500 } else { b.status };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        format!("{{\"received\":true,\"status\":{}}}", status.as_u16()),
    )
        .into_response();
    if let Some(location) = b.location.as_deref().and_then(|l| l.parse().ok()) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    if let Some(wait) = b.retry_after.as_deref().and_then(|w| w.parse().ok()) {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, wait);
    }
    response
}
