//! The raw ceiling: a plain Rust HTTPS client posting the same body to the
//! same receiver as fast as it can, so every figure has its ratio in the same run.

use super::Error;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Requests per second over `connections` HTTP/1.1 connections (one client
/// each, as the engine keeps one connection per request in flight).
pub async fn measure(
    addr: SocketAddr,
    ca_pem: &str,
    body: Vec<u8>,
    connections: usize,
    requests: usize,
) -> Result<f64, Error> {
    let url = format!("https://localhost:{}/ceiling", addr.port());
    let left = Arc::new(AtomicUsize::new(requests));
    let body = axum::body::Bytes::from(body);
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(
            reqwest::Client::builder()
                .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
                .build()?,
        );
    }
    // One request on each connection first, so the handshakes are not timed (the engine's are warm too).
    for client in &clients {
        client.post(&url).body(body.clone()).send().await?;
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        let (url, left, body) = (url.clone(), left.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            while left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("webhook-id", "msg_ceiling")
                    .header("webhook-timestamp", "1764560000")
                    .header("webhook-signature", format!("v1,{}", "A".repeat(44)))
                    .body(body.clone())
                    .send()
                    .await?;
                response.bytes().await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(requests as f64 / started.elapsed().as_secs_f64())
}
