//! Bytes on the wire for the first and a second visit of the Destinations page
//! (issue 11, "Page weight"): the HTML and every `/pkg` file the page names,
//! fetched by a client that asks for compression (`br, gzip`), beside the same
//! files fetched uncompressed in the same run.
//!
//! A second visit downloads again only what is not cached for good: files
//! sent with `Cache-Control: immutable` come from the browser's cache.
//!
//! Needs the built site (`make build`, or `scripts/build.sh`; `LEPTOS_SITE_ROOT`
//! as the server reads it). Run: `make bench-page`.

mod support;

type Error = Box<dyn std::error::Error + Send + Sync>;

const PAGE: &str = "/alerts/destinations";

struct Fetched {
    wire: usize,
    encoding: String,
    immutable: bool,
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    encodings: &str,
) -> Result<(Fetched, Vec<u8>), Error> {
    let response = client
        .get(url)
        .header("accept", "text/html,*/*")
        .header("accept-encoding", encodings)
        .send()
        .await?
        .error_for_status()?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let encoding = header("content-encoding");
    let immutable = header("cache-control").contains("immutable");
    let body = response.bytes().await?.to_vec();
    Ok((
        Fetched {
            wire: body.len(),
            encoding,
            immutable,
        },
        body,
    ))
}

/// Every `/pkg/...` address in the page: the stylesheet, and the module and
/// WASM the hydration script preloads.
fn assets(html: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for piece in html.split(['"', '\'']) {
        if piece.starts_with("/pkg/") && !found.iter().any(|f| f == piece) {
            found.push(piece.to_owned());
        }
    }
    found
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("alertwire_bench_page_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let database_url = format!("sqlite://{}", dir.join("bench.db").display());
    let started = support::start_in_process(&database_url, &dir).await?;
    let client = support::signed_in_admin(&started).await?;
    let (base, services) = (started.base.clone(), started.services.clone());
    let admin = server::services::Actor::command_line();
    for i in 0..5 {
        let form = app::model::DestinationForm {
            name: format!("Destination {i}"),
            url: format!("https://93.184.216.34/alerts/{i}"),
            ..Default::default()
        };
        services.create_destination(&admin, &form).await?;
    }

    let (page, body) = fetch(&client, &format!("{base}{PAGE}"), "identity").await?;
    let html = String::from_utf8(body)?;
    let files = assets(&html);
    if !files.iter().any(|f| f.ends_with(".wasm")) {
        return Err(format!("the page names no WASM: is the site built? {files:?}").into());
    }
    let mut rows = vec![(
        PAGE.to_owned(),
        page,
        fetch(&client, &format!("{base}{PAGE}"), "br, gzip")
            .await?
            .0,
    )];
    for file in files {
        let url = format!("{base}{file}");
        let plain = fetch(&client, &url, "identity").await?.0;
        let packed = fetch(&client, &url, "br, gzip").await?.0;
        rows.push((file, plain, packed));
    }
    println!(
        "{:<52} {:>12} {:>12} {:>9} {:>10}",
        "first visit of the Destinations page", "plain", "on the wire", "encoding", "cached"
    );
    let (mut plain_total, mut wire_total, mut second) = (0, 0, 0);
    for (name, plain, packed) in &rows {
        println!(
            "{name:<52} {:>12} {:>12} {:>9} {:>10}",
            plain.wire,
            packed.wire,
            if packed.encoding.is_empty() {
                "none"
            } else {
                &packed.encoding
            },
            if packed.immutable { "for good" } else { "no" }
        );
        plain_total += plain.wire;
        wire_total += packed.wire;
        if !packed.immutable {
            second += packed.wire;
        }
    }
    let wasm_wire: usize = rows
        .iter()
        .filter(|r| r.0.ends_with(".wasm"))
        .map(|r| r.2.wire)
        .sum();
    println!("first visit: {wire_total} bytes on the wire ({:.1} KB; uncompressed {plain_total} bytes, {:.1}x smaller) (target: under 400 KB)", wire_total as f64 / 1024.0, plain_total as f64 / wire_total.max(1) as f64);
    println!(
        "the WASM bundle: {wasm_wire} bytes on the wire ({:.1} KB) (target: at most 300 KB)",
        wasm_wire as f64 / 1024.0
    );
    println!("second visit: {second} bytes (only what is not cached for good)");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
