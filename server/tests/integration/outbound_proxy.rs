//! Proxy settings in the environment must not carry webhooks: through a
//! proxy the guarded resolver never sees the target's name, so the proxy
//! would reach whatever the name points at (ARCHITECTURE.md "Delivery rules").

use crate::processes::Site;
use crate::receivers::{one, receiver};
use serde_json::json;
use server::receiver::Behaviour;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

crate::on_both_engines!(with crate::processes::Site::new;
    proxy_settings_in_the_environment_are_ignored,
);

/// An HTTP CONNECT proxy, as an attacker or a careless host would provide:
/// it records the request line of every connection and tunnels CONNECTs.
struct ConnectProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    async fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(tunnel(client, log.clone()));
            }
        });
        ConnectProxy { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn tunnel(client: TcpStream, log: Arc<Mutex<Vec<String>>>) {
    let mut reader = BufReader::new(client);
    let mut request_line = String::new();
    let read = reader.read_line(&mut request_line).await;
    log.lock().unwrap().push(request_line.trim_end().to_owned());
    if read.is_err() {
        return;
    }
    // The headers, up to the blank line; a CONNECT client sends nothing more
    // before the answer, so nothing is left in the reader's buffer.
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) if line.trim_end().is_empty() => break,
            Ok(_) => {}
        }
    }
    let mut client = reader.into_inner();
    let mut parts = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        let _ = client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    match TcpStream::connect(target).await {
        Ok(mut upstream) => {
            if client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .is_ok()
            {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        }
        Err(_) => {
            let _ = client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    }
}

async fn proxy_settings_in_the_environment_are_ignored(site: &Site) {
    let proxy = ConnectProxy::start().await;
    let rx = receiver(&site.ca.tls, Behaviour::default()).await;
    let proxy_url = proxy.url();
    let process = site
        .start_with_env(&[
            ("HTTPS_PROXY", &proxy_url),
            ("https_proxy", &proxy_url),
            ("HTTP_PROXY", &proxy_url),
            ("http_proxy", &proxy_url),
            ("ALL_PROXY", &proxy_url),
            ("all_proxy", &proxy_url),
            // No exemptions: every host would go through the proxy if it were honoured.
            ("NO_PROXY", ""),
            ("no_proxy", ""),
        ])
        .await;
    let target = format!("https://localhost:{}/through-no-proxy", rx.addr.port());
    let created = site
        .api(
            &process.base,
            reqwest::Method::POST,
            "/destinations",
            Some(json!({"name": "Behind a proxy?", "url": target})),
        )
        .await;
    let id = created["destination"]["id"].as_i64().unwrap();
    let tested = site
        .api(
            &process.base,
            reqwest::Method::POST,
            &format!("/destinations/{id}/test"),
            None,
        )
        .await;
    assert_eq!(tested["test"]["ok"], true, "{tested}");
    assert_eq!(
        proxy.seen(),
        Vec::<String>::new(),
        "the proxy from the environment must see no connection"
    );
    let got = one(&rx).await;
    assert_eq!(got.path, "/through-no-proxy");
}
