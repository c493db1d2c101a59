//! Pages keep rendering while another router is built in the same process.
//!
//! Leptos works the route list out by running the app with resource loading
//! switched off by a process-wide flag (leptos-rs/leptos#4773): a render whose
//! resource was first polled in that window never finished. The test suite
//! builds an app per test while others serve pages, so it met this as a rare
//! 120 s request timeout. Routers are now built from one list per process.

use crate::helpers::{runtime, Engine, TestApp};
use leptos::config::LeptosOptions;
use reqwest::header::ACCEPT;
use std::time::Duration;

const ROUTERS: usize = 200;
const RENDERS: usize = 150;

#[test]
fn building_routers_while_pages_render_stalls_no_render() {
    runtime().block_on(async {
        let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
            return;
        };
        let client = app.signed_in("ada@example.com", "admin").await;
        let services = app.services.clone();
        let builder = tokio::task::spawn_blocking(move || {
            for _ in 0..ROUTERS {
                let options = LeptosOptions::builder().output_name("alertwire").build();
                drop(server::http::pages::router(services.clone(), options));
            }
        });
        let mut renders = tokio::task::JoinSet::new();
        for n in 0..RENDERS {
            let (client, url) = (client.clone(), app.url("/alerts/deliveries"));
            renders.spawn(async move {
                // A stalled render never ends: far longer than any real one takes.
                let response = client
                    .get(url)
                    .header(ACCEPT, "text/html")
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .and_then(|r| r.error_for_status());
                let body = match response {
                    Ok(r) => r.text().await,
                    Err(e) => Err(e),
                };
                (n, body.map(|b| b.contains("</html>")))
            });
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut stalled = Vec::new();
        while let Some(done) = renders.join_next().await {
            let (n, whole) = done.expect("render task");
            if !matches!(whole, Ok(true)) {
                stalled.push((n, whole.map_err(|e| e.to_string())));
            }
        }
        builder.await.expect("router builder");
        assert!(
            stalled.is_empty(),
            "renders that never finished: {stalled:?}"
        );
    });
}
