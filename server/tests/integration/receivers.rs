//! Local HTTPS receivers for the tests, with a CA each test makes.

use server::receiver::tls::{make_local_tls, LocalTls};
use server::receiver::{Behaviour, Received, Receiver};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A receiver whose CA the app trusts (written to `dir/ca.pem`).
pub struct Trusted {
    pub tls: LocalTls,
    pub ca_file: PathBuf,
}

pub fn trusted_ca(dir: &Path) -> Trusted {
    let tls = make_local_tls().expect("test CA");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &tls.ca_pem).expect("write CA");
    Trusted { tls, ca_file }
}

pub async fn receiver(tls: &LocalTls, behaviour: Behaviour) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    Receiver::start(listener, tls.server_config.clone(), behaviour, None).expect("receiver")
}

pub fn url(receiver: &Receiver, host: &str, path: &str) -> String {
    format!("https://{host}:{}{path}", receiver.addr.port())
}

pub async fn one(receiver: &Receiver) -> Received {
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "the receiver should have exactly one request");
    got[0].clone()
}

/// Runs the documentation's Python `verify_signature`, and the `standardwebhooks`
/// package, on what the receiver got. Returns (documented, standard) verdicts.
pub fn verify_with_python(secret: &str, got: &Received) -> (bool, bool) {
    let script = r#"
import hmac, hashlib, json, sys
from standardwebhooks.webhooks import Webhook

def verify_signature(payload, signature, secret):
    expected = hmac.new(
        secret.encode(),
        payload.encode(),
        hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", signature)

data = json.load(sys.stdin)
body = data["body"]
documented = verify_signature(body, data["headers"]["x-anomalyarmor-signature"], data["secret"])
try:
    Webhook(data["secret"]).verify(body.encode(), data["headers"])
    standard = True
except Exception as e:
    print("standardwebhooks:", e, file=sys.stderr)
    standard = False
print(json.dumps({"documented": documented, "standard": standard}))
"#;
    let headers: serde_json::Map<String, serde_json::Value> = got
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let input = serde_json::json!({
        "secret": secret,
        "body": String::from_utf8(got.body.clone()).expect("UTF-8 body"),
        "headers": headers,
    });
    let mut child = Command::new(crate::helpers::python())
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python3 finishes");
    assert!(
        out.status.success(),
        "python3 failed (is standardwebhooks installed? make test installs it)"
    );
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("python verdict");
    (verdict["documented"] == true, verdict["standard"] == true)
}
