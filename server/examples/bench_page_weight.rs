//! Bytes on the wire for the first and a second visit of the Destinations page
//! (issue 11, "Page weight"): the HTML and every `/pkg` file the page names
//! or its scripts import, fetched by a client that asks for compression
//! (`br, gzip`), beside the same files fetched uncompressed in the same run.
//! Then the same totals for six more pages of the split bundle (`app::routes`),
//! each of which names its own pack in a preload link, and for the sign-in
//! page seen signed out.
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

/// Every `/pkg/...` address in the page: the stylesheet, the module and
/// WASM the hydration script preloads, and the pack of a split page.
fn assets(html: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for piece in html.split(['"', '\'']) {
        if piece.starts_with("/pkg/") && !found.iter().any(|f| f == piece) {
            found.push(piece.to_owned());
        }
    }
    found
}

/// The modules a script imports from beside it (`from "./x.js"`): the main
/// script imports the split bundle's loader, which the page does not name.
fn imports(script: &str) -> Vec<String> {
    script
        .split("from ")
        .skip(1)
        .filter_map(|rest| {
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let name = rest[1..].split(quote).next()?;
            name.strip_prefix("./").map(|n| format!("/pkg/{n}"))
        })
        .collect()
}

/// One visit of `page`: each file, fetched plain and then asking for compression.
type Visit = Vec<(String, Fetched, Fetched)>;

async fn visit(client: &reqwest::Client, base: &str, page: &str) -> Result<Visit, Error> {
    let (plain, body) = fetch(client, &format!("{base}{page}"), "identity").await?;
    let mut files = assets(&String::from_utf8(body)?);
    if !files.iter().any(|f| f.ends_with(".wasm")) {
        return Err(format!("{page} names no WASM: is the site built? {files:?}").into());
    }
    let packed = fetch(client, &format!("{base}{page}"), "br, gzip").await?.0;
    let mut rows = vec![(page.to_owned(), plain, packed)];
    let mut next = 0;
    while let Some(file) = files.get(next).cloned() {
        next += 1;
        let url = format!("{base}{file}");
        let (plain, body) = fetch(client, &url, "identity").await?;
        if file.ends_with(".js") {
            for import in imports(&String::from_utf8_lossy(&body)) {
                if !files.contains(&import) {
                    files.push(import);
                }
            }
        }
        let packed = fetch(client, &url, "br, gzip").await?.0;
        rows.push((file, plain, packed));
    }
    Ok(rows)
}

/// Bytes on the wire for the whole first visit and for its WASM alone, and
/// how many `/pkg` files it fetched.
fn totals(rows: &Visit) -> (usize, usize, usize) {
    let wire = rows.iter().map(|r| r.2.wire).sum();
    let wasm = rows
        .iter()
        .filter(|r| r.0.ends_with(".wasm"))
        .map(|r| r.2.wire)
        .sum();
    let files = rows.iter().filter(|r| r.0.starts_with("/pkg/")).count();
    (wire, wasm, files)
}

fn print_row(page: &str, rows: &Visit) {
    let (wire, wasm, files) = totals(rows);
    println!(
        "{page:<40} {:>11.1} KB {:>11.1} KB {files:>8}",
        wire as f64 / 1024.0,
        wasm as f64 / 1024.0
    );
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
    let mut first = None;
    for i in 0..5 {
        let form = app::model::DestinationForm {
            name: format!("Destination {i}"),
            url: format!("https://93.184.216.34/alerts/{i}"),
            ..Default::default()
        };
        let made = services.create_destination(&admin, &form).await?;
        first.get_or_insert(made.destination.id);
    }

    let rows = visit(&client, &base, PAGE).await?;
    println!(
        "{:<52} {:>12} {:>12} {:>9} {:>10}",
        "first visit of the Destinations page", "plain", "on the wire", "encoding", "cached"
    );
    let (mut plain_total, mut second) = (0, 0);
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
        if !packed.immutable {
            second += packed.wire;
        }
    }
    let (wire_total, wasm_wire, _) = totals(&rows);
    println!("first visit: {wire_total} bytes on the wire ({:.1} KB; uncompressed {plain_total} bytes, {:.1}x smaller) (target: under 400 KB)", wire_total as f64 / 1024.0, plain_total as f64 / wire_total.max(1) as f64);
    println!(
        "the WASM bundle: {wasm_wire} bytes on the wire ({:.1} KB) (target: at most 300 KB)",
        wasm_wire as f64 / 1024.0
    );
    println!("second visit: {second} bytes (only what is not cached for good)");

    // Six more pages, each a group of the split bundle with its own pack (a
    // delivery's page would need a delivery).
    let id = first.unwrap_or(1);
    let pages = [
        "/alerts/destinations/new".to_owned(),
        "/alerts/destinations/new/webhook".to_owned(),
        format!("/alerts/destinations/{id}"),
        "/alerts/rules".to_owned(),
        "/alerts/deliveries".to_owned(),
        "/settings/api-keys".to_owned(),
    ];
    println!(
        "\n{:<40} {:>14} {:>14} {:>8}",
        "first visit of", "on the wire", "of it WASM", "files"
    );
    for page in pages {
        print_row(&page, &visit(&client, &base, &page).await?);
    }
    // Signed out: the sign-in page, where every new session starts.
    let signed_out = reqwest::Client::new();
    print_row(
        "/login (signed out)",
        &visit(&signed_out, &base, "/login").await?,
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
