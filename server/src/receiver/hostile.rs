//! Webhook endpoints that misbehave on purpose, for the reliability tests and
//! `bench_hostile` (RELIABILITY.md, hostile receivers): raw TCP and TLS, so
//! they can do what no well-behaved HTTP server does.

use super::tls::{server_config, TlsError};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// One way to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// Completes the handshake, reads the request, never answers.
    Silent,
    /// Answers the head, then the body one byte a second.
    Trickle,
    /// Answers `200` with a chunked body that never ends.
    EndlessBody,
    /// Answers a head of 1 MiB of headers (1,024 of 1 KiB).
    HugeHeaders,
    /// Answers the head and part of the body, then resets the connection.
    Reset,
    /// Presents a certificate from the trusted CA that expired in 2021.
    ExpiredCertificate,
    /// Presents a certificate from the trusted CA for another host name.
    WrongHost,
    /// Accepts the connection and never answers the TLS `ClientHello`.
    StallHandshake,
}

impl Hostile {
    pub const ALL: [Hostile; 8] = [
        Hostile::Silent,
        Hostile::Trickle,
        Hostile::EndlessBody,
        Hostile::HugeHeaders,
        Hostile::Reset,
        Hostile::ExpiredCertificate,
        Hostile::WrongHost,
        Hostile::StallHandshake,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Hostile::Silent => "accepts, never answers",
            Hostile::Trickle => "trickles 1 byte/s",
            Hostile::EndlessBody => "endless body",
            Hostile::HugeHeaders => "1 MiB of headers",
            Hostile::Reset => "reset mid-response",
            Hostile::ExpiredCertificate => "expired certificate",
            Hostile::WrongHost => "certificate for another host",
            Hostile::StallHandshake => "stalls the TLS handshake",
        }
    }
}

/// A CA (to trust with `ALERTWIRE_EXTRA_CA_CERTS`) and the server
/// configurations the endpoints present: valid for `localhost`, expired, and
/// for another host.
pub struct HostileTls {
    pub ca_pem: String,
    valid: Arc<ServerConfig>,
    expired: Arc<ServerConfig>,
    other_host: Arc<ServerConfig>,
}

impl HostileTls {
    pub fn new() -> Result<Self, TlsError> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name
            .push(DnType::CommonName, "Alertwire hostile test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate()?;
        let ca_pem = ca.self_signed(&ca_key)?.pem();
        let issuer = Issuer::new(ca, ca_key);
        let leaf = |names: &[&str], expired: bool| -> Result<Arc<ServerConfig>, TlsError> {
            let mut params =
                CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
            if expired {
                params.not_before = date_time_ymd(2020, 1, 1);
                params.not_after = date_time_ymd(2021, 1, 1);
            }
            let key = KeyPair::generate()?;
            let cert = params.signed_by(&key, &issuer)?;
            let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
            server_config(vec![cert.der().clone()], der)
        };
        Ok(HostileTls {
            valid: leaf(&["localhost", "127.0.0.1"], false)?,
            expired: leaf(&["localhost", "127.0.0.1"], true)?,
            other_host: leaf(&["other.example"], false)?,
            ca_pem,
        })
    }
}

/// A running hostile endpoint; dropping it stops accepting (connections
/// already open end when the sender gives up on them).
pub struct HostileServer {
    pub addr: SocketAddr,
    behaviour: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl HostileServer {
    pub async fn start(behaviour: Hostile, tls: &HostileTls) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let current = Arc::new(AtomicUsize::new(index(behaviour)));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (counter, chosen) = (accepted.clone(), current.clone());
        let configs = [
            tls.valid.clone(),
            tls.expired.clone(),
            tls.other_host.clone(),
        ];
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                let behaviour = Hostile::ALL[chosen.load(Ordering::Relaxed)];
                let config = match behaviour {
                    Hostile::ExpiredCertificate => configs[1].clone(),
                    Hostile::WrongHost => configs[2].clone(),
                    _ => configs[0].clone(),
                };
                tokio::spawn(serve(behaviour, TlsAcceptor::from(config), stream));
            }
        });
        Ok(HostileServer {
            addr,
            behaviour: current,
            accepted,
            task,
        })
    }

    pub fn behaviour(&self) -> Hostile {
        Hostile::ALL[self.behaviour.load(Ordering::Relaxed)]
    }

    /// Changes how new connections are treated (the benchmark's phases).
    pub fn set(&self, behaviour: Hostile) {
        self.behaviour.store(index(behaviour), Ordering::Relaxed);
    }

    /// `https://localhost:<port>/hook`
    pub fn url(&self) -> String {
        format!("https://localhost:{}/hook", self.addr.port())
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

fn index(behaviour: Hostile) -> usize {
    Hostile::ALL
        .iter()
        .position(|b| *b == behaviour)
        .unwrap_or_default()
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(behaviour: Hostile, acceptor: TlsAcceptor, stream: TcpStream) {
    if behaviour == Hostile::StallHandshake {
        return drain(stream).await;
    }
    if behaviour == Hostile::Reset {
        // A zero linger makes the close a reset; it never blocks the thread.
        let _ = stream.set_zero_linger();
    }
    // The certificate cases end here: the sender refuses the handshake.
    let Ok(mut tls) = acceptor.accept(stream).await else {
        return;
    };
    if read_request(&mut tls).await.is_err() {
        return;
    }
    let _ = answer(behaviour, &mut tls).await;
}

async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    behaviour: Hostile,
    stream: &mut S,
) -> std::io::Result<()> {
    match behaviour {
        Hostile::Silent | Hostile::ExpiredCertificate | Hostile::WrongHost => {
            drain(stream).await;
        }
        Hostile::Trickle => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                .await?;
            loop {
                stream.write_all(b"x").await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Hostile::EndlessBody => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await?;
            let chunk = [b'x'; 16 * 1024];
            loop {
                stream.write_all(b"4000\r\n").await?;
                stream.write_all(&chunk).await?;
                stream.write_all(b"\r\n").await?;
            }
        }
        Hostile::HugeHeaders => {
            stream.write_all(b"HTTP/1.1 200 OK\r\n").await?;
            let value = "y".repeat(1024);
            for n in 0..1024 {
                stream
                    .write_all(format!("x-filler-{n}: {value}\r\n").as_bytes())
                    .await?;
            }
            stream.write_all(b"Content-Length: 0\r\n\r\n").await?;
            stream.flush().await?;
            drain(stream).await;
        }
        Hostile::Reset => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
                .await?;
            stream.flush().await?;
            // Time for the part to arrive: a reset discards what is still unsent.
            tokio::time::sleep(Duration::from_millis(200)).await;
            // Dropped without close_notify, on a socket with zero linger: a reset.
        }
        Hostile::StallHandshake => {}
    }
    Ok(())
}

/// Reads and discards until the peer goes away, answering nothing.
async fn drain<S: AsyncRead + Unpin>(mut stream: S) {
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// Reads one request: the head, then `Content-Length` bytes of body.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<()> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let mut have = seen.len() - end - 4;
            while have < length {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                have += n;
            }
            return Ok(());
        }
    }
}
