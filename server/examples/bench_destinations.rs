//! Benchmark for the destinations pages (issue: webhook destinations, "Speed").
//!
//! Prints:
//! - server render time of the Destinations tab with 1,000 destinations;
//! - Send Test Alert round trip against a local HTTPS receiver that answers
//!   after a fixed delay, and the overhead beyond that delay.
//!
//! Run: `cargo run --release -p server --example bench_destinations`
//! (SQLite in a temporary directory; nothing else needed.)

use server::cli::Settings;
use server::configuration::Config;
use server::receiver::tls::make_local_tls;
use server::receiver::{Behaviour, Receiver};
use server::startup::Application;
use std::time::{Duration, Instant};

const DESTINATIONS: usize = 1_000;
const PAGE_LOADS: usize = 200;
const TESTS: usize = 200;
const RECEIVER_DELAY: Duration = Duration::from_millis(20);
const PASSWORD: &str = "benchmark password";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name}: n={} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1000.0,
        percentile(&samples, 0.90).as_secs_f64() * 1000.0,
        percentile(&samples, 0.99).as_secs_f64() * 1000.0,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("alertwire_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let tls = make_local_tls()?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem)?;
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.join("bench.db").display()),
        listen: "127.0.0.1:0".into(),
        public_url: None,
        secret_key_file: dir.join("secret.key").display().to_string(),
        retry_schedule: "0s,1m,5m,15m,1h".into(),
        request_timeout: "30s".into(),
        allowed_targets: "127.0.0.0/8".into(),
        extra_ca_certs: Some(ca.display().to_string()),
        delivery_lease: "60s".into(),
        max_in_flight_per_destination: "8".into(),
        metrics_token: None,
        auto_disable_after: "5d".into(),
        retention: "30d".into(),
        bulk_batch: "200".into(),
        bulk_pause: "200ms".into(),
        log_format: "text".into(),
    };
    let app = Application::build(Config::from_settings(&settings)?).await?;
    let base = format!("http://{}", app.local_addr());
    let services = app.services().clone();
    tokio::spawn(app.run_until(std::future::pending()));

    services
        .create_user(
            &server::services::Actor::command_line(),
            app::backend::NewUserInput {
                email: "bench@example.com".into(),
                password: PASSWORD.into(),
                password_confirm: PASSWORD.into(),
                role: "admin".into(),
            },
        )
        .await?;
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    client
        .post(format!("{base}/fn/login"))
        .header("origin", &base)
        .form(&[("email", "bench@example.com"), ("password", PASSWORD)])
        .send()
        .await?
        .error_for_status()?;

    let created = Instant::now();
    for i in 0..DESTINATIONS {
        let form = app::model::DestinationForm {
            name: format!("Destination {i:04}"),
            // Public address literals: no DNS lookups while setting up.
            url: format!("https://93.184.216.34/alerts/{i}"),
            auth_type: "bearer".into(),
            bearer_token: format!("token-{i}"),
            ..Default::default()
        };
        services
            .create_destination(&server::services::Actor::command_line(), &form)
            .await?;
    }
    println!(
        "created {DESTINATIONS} destinations in {:.1}s",
        created.elapsed().as_secs_f64()
    );

    let mut renders = Vec::with_capacity(PAGE_LOADS);
    for _ in 0..PAGE_LOADS {
        let started = Instant::now();
        let page = client
            .get(format!("{base}/alerts/destinations"))
            .header("accept", "text/html")
            .send()
            .await?;
        let html = page.error_for_status()?.text().await?;
        renders.push(started.elapsed());
        assert!(html.contains("Showing 1–50 of 1000"));
    }
    report(
        &format!(
            "GET /alerts/destinations with {DESTINATIONS} destinations, first page (full response)"
        ),
        renders,
    );
    let mut last_pages = Vec::with_capacity(PAGE_LOADS);
    for _ in 0..PAGE_LOADS {
        let started = Instant::now();
        let page = client
            .get(format!("{base}/alerts/destinations?page=20"))
            .header("accept", "text/html")
            .send()
            .await?;
        let html = page.error_for_status()?.text().await?;
        last_pages.push(started.elapsed());
        assert!(html.contains("Destination 0999"));
    }
    report(
        "GET /alerts/destinations?page=20, the last page (full response)",
        last_pages,
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let behaviour = Behaviour {
        delay: RECEIVER_DELAY,
        ..Behaviour::default()
    };
    let receiver = Receiver::start(listener, tls.server_config.clone(), behaviour, None)?;
    let url = format!("https://localhost:{}/bench", receiver.addr.port());
    let mut round_trips = Vec::with_capacity(TESTS);
    let mut overheads = Vec::with_capacity(TESTS);
    for _ in 0..TESTS {
        let started = Instant::now();
        let response = client
            .post(format!("{base}/fn/submit_destination"))
            .header("origin", &base)
            .form(&[
                ("form[name]", "Bench"),
                ("form[url]", url.as_str()),
                ("intent", "test"),
            ])
            .send()
            .await?
            .error_for_status()?;
        let body: serde_json::Value = response.json().await?;
        let elapsed = started.elapsed();
        assert_eq!(body["Tested"]["ok"], true, "{body}");
        round_trips.push(elapsed);
        overheads.push(elapsed.saturating_sub(RECEIVER_DELAY));
    }
    report(
        &format!(
            "Send Test Alert round trip (receiver answers after {}ms)",
            RECEIVER_DELAY.as_millis()
        ),
        round_trips,
    );
    report(
        "Send Test Alert overhead beyond the receiver's own time",
        overheads,
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
