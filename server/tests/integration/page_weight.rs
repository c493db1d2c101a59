//! What a browser downloads: the site's files compressed at build time and
//! cached for good under content-hashed names; pages compressed as they go.

use crate::helpers::{runtime, unique_name, TestApp};
use reqwest::header::{
    HeaderMap, HeaderName, ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE,
};
use reqwest::StatusCode;
use std::io::Read;
use std::path::Path;

const WASM: &str = "alertwire.0123456789abcdef.wasm";

/// A built site as `scripts/build.sh` leaves it, with recognisable copies.
fn site(dir: &Path) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join(WASM), b"\0asm plain").unwrap();
    std::fs::write(pkg.join(format!("{WASM}.br")), b"brotli copy").unwrap();
    std::fs::write(pkg.join(format!("{WASM}.gz")), b"gzip copy").unwrap();
    std::fs::write(pkg.join("alertwire.css"), b"body {}").unwrap();
}

async fn serve(dir: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().nest("/pkg", server::http::assets::router(dir));
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn fetch(url: &str, encodings: &str) -> Fetched {
    let mut request = reqwest::Client::new().get(url);
    if !encodings.is_empty() {
        request = request.header(ACCEPT_ENCODING, encodings);
    }
    let response = request.send().await.unwrap();
    Fetched {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

fn header(headers: &HeaderMap, name: HeaderName) -> &str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[test]
fn site_files_go_precompressed_and_hashed_names_are_cached_for_good() {
    runtime().block_on(async {
        let dir = tempdir();
        site(&dir);
        let base = serve(&dir).await;
        let url = format!("{base}/pkg/{WASM}");

        let br = fetch(&url, "gzip, deflate, br").await;
        assert_eq!(br.status, StatusCode::OK);
        assert_eq!(header(&br.headers, CONTENT_ENCODING), "br");
        assert_eq!(header(&br.headers, CONTENT_TYPE), "application/wasm");
        assert_eq!(br.body, b"brotli copy");
        assert_eq!(
            header(&br.headers, CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );

        let gz = fetch(&url, "gzip").await;
        assert_eq!(header(&gz.headers, CONTENT_ENCODING), "gzip");
        assert_eq!(gz.body, b"gzip copy");

        let plain = fetch(&url, "").await;
        assert_eq!(header(&plain.headers, CONTENT_ENCODING), "");
        assert_eq!(plain.body, b"\0asm plain");

        // Unhashed names can change under the same address: revalidated.
        let css = fetch(&format!("{base}/pkg/alertwire.css"), "br").await;
        assert_eq!(css.status, StatusCode::OK);
        assert_eq!(header(&css.headers, CACHE_CONTROL), "no-cache");

        let missing = fetch(&format!("{base}/pkg/alertwire.fedcba9876543210.wasm"), "br").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(header(&missing.headers, CACHE_CONTROL), "");
        let _ = std::fs::remove_dir_all(&dir);
    });
}

async fn pages_are_compressed_and_live_streams_are_not(app: &TestApp) {
    let client = app.signed_in("ada@example.com", "admin").await;
    let response = client
        .get(app.url("/alerts/destinations"))
        .header(ACCEPT, "text/html")
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(response.headers(), CONTENT_ENCODING), "br");
    let compressed = response.bytes().await.unwrap();
    let mut html = String::new();
    brotli::Decompressor::new(&compressed[..], 4096)
        .read_to_string(&mut html)
        .unwrap();
    assert!(html.contains("Destinations"), "{html}");
    assert!(
        compressed.len() * 2 < html.len(),
        "{} of {}",
        compressed.len(),
        html.len()
    );

    let gzip = client
        .get(app.url("/api/v1/openapi.json"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(gzip.headers(), CONTENT_ENCODING), "gzip");

    // Server-sent events must reach the page as they happen, not when a
    // compressor's buffer fills.
    let live = client
        .get(app.url("/live/deliveries"))
        .header(ACCEPT, "text/event-stream")
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert_eq!(header(live.headers(), CONTENT_ENCODING), "");
}

crate::on_both_engines!(pages_are_compressed_and_live_streams_are_not);

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_name());
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
