//! A certificate authority made on the spot, and a server certificate it
//! signs for the loopback names, so a local receiver can speak real HTTPS
//! that the sender verifies (trusting the CA through ALERTWIRE_EXTRA_CA_CERTS).

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot make a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot configure TLS: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A CA (its PEM, to be trusted by the sender) and a server configuration
/// with a certificate from that CA for `localhost`, `127.0.0.1` and `::1`.
pub struct LocalTls {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub server_config: Arc<ServerConfig>,
}

pub fn make_local_tls() -> Result<LocalTls, TlsError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Alertwire local test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let mut leaf_params = CertificateParams::new(names)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let server_config = server_config(vec![leaf_cert.der().clone()], key)?;
    Ok(LocalTls {
        ca_pem: ca_cert.pem(),
        cert_pem: leaf_cert.pem(),
        key_pem: leaf_key.serialize_pem(),
        server_config,
    })
}

pub(crate) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// Keeps the CA and certificate in `dir`, so the sender's trust survives restarts:
/// loads them when present, makes and writes them when not. Returns the CA's path.
pub fn load_or_make(dir: &Path) -> Result<(LocalTls, PathBuf), TlsError> {
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    let existing = (
        std::fs::read_to_string(&ca),
        std::fs::read_to_string(&cert),
        std::fs::read_to_string(&key),
    );
    if let (Ok(ca_pem), Ok(cert_pem), Ok(key_pem)) = existing {
        let chain =
            rustls_pemfile::certs(&mut cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
        let private = rustls_pemfile::private_key(&mut key_pem.as_bytes())?
            .ok_or_else(|| std::io::Error::other(format!("no private key in {}", key.display())))?;
        let server_config = server_config(chain, private)?;
        return Ok((
            LocalTls {
                ca_pem,
                cert_pem,
                key_pem,
                server_config,
            },
            ca,
        ));
    }
    let tls = make_local_tls()?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(&cert, &tls.cert_pem)?;
    write_private(&key, &tls.key_pem)?;
    // The CA last: its presence means the set is complete.
    std::fs::write(&ca, &tls.ca_pem)?;
    Ok((tls, ca))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
