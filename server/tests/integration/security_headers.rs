//! Security headers on every response: pages, server functions, the bundle,
//! the REST API; HSTS only behind an https public URL.

use crate::helpers::{Engine, TestApp};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

crate::on_both_engines!(
    every_response_carries_the_security_headers,
    inline_scripts_carry_the_nonce_the_policy_names,
);

mod https {
    crate::on_both_engines!(with crate::security_headers::behind_https; hsts_only_behind_an_https_public_url);
    use super::hsts_only_behind_an_https_public_url;
}

/// An app whose public URL is https (behind a TLS-terminating proxy).
async fn behind_https(engine: Engine) -> Option<TestApp> {
    TestApp::spawn_with(engine, |s| {
        s.public_url = Some("https://alerts.example.com".into());
    })
    .await
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The policy's directives, by name.
fn directives(policy: &str) -> Vec<(String, Vec<String>)> {
    policy
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace().map(str::to_owned);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

fn directive(policy: &str, name: &str) -> Vec<String> {
    directives(policy)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {policy}"))
        .1
}

/// The nonce `script-src` allows.
fn nonce(policy: &str) -> String {
    directive(policy, "script-src")
        .iter()
        .find_map(|s| {
            s.strip_prefix("'nonce-")?
                .strip_suffix('\'')
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no nonce in {policy}"))
}

fn assert_secure(what: &str, headers: &HeaderMap, https: bool) {
    let policy = header(headers, "content-security-policy");
    assert_eq!(directive(policy, "default-src"), ["'self'"], "{what}");
    let scripts = directive(policy, "script-src");
    assert!(scripts.contains(&"'self'".to_owned()), "{what}: {policy}");
    assert!(
        scripts.contains(&"'wasm-unsafe-eval'".to_owned()),
        "{what}: {policy}"
    );
    assert!(
        !policy.contains("'unsafe-inline'") && !policy.contains("'unsafe-eval'"),
        "{what}: {policy}"
    );
    assert!(!nonce(policy).is_empty());
    assert_eq!(directive(policy, "frame-ancestors"), ["'none'"], "{what}");
    assert_eq!(directive(policy, "base-uri"), ["'self'"], "{what}");
    assert_eq!(directive(policy, "form-action"), ["'self'"], "{what}");
    assert_eq!(directive(policy, "object-src"), ["'none'"], "{what}");
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    // same-origin, not no-referrer: the CSRF check falls back to Referer.
    assert_eq!(header(headers, "referrer-policy"), "same-origin", "{what}");
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    match https {
        true => assert_eq!(
            header(headers, "strict-transport-security"),
            "max-age=31536000",
            "{what}"
        ),
        false => assert!(
            headers.get("strict-transport-security").is_none(),
            "{what}: HSTS on an http:// public URL would lock browsers out"
        ),
    }
}

/// A page, a server function's answer, the bundle, the REST API and the probes.
async fn check_every_kind_of_response(app: &TestApp, https: bool) {
    let client = TestApp::browser();
    let page = app.get(&client, "/setup").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_secure("a page", page.headers(), https);

    let redirect = app.get(&client, "/alerts").await;
    assert!(redirect.status().is_redirection());
    assert_secure("a redirect", redirect.headers(), https);

    let function = app
        .call(
            &client,
            "login",
            &[("email", "nobody@example.com"), ("password", "wrong")],
        )
        .await;
    assert!(function.status().is_client_error(), "{}", function.status());
    assert_secure("a server function's answer", function.headers(), https);

    let asset = client
        .get(app.url("/pkg/alertwire.css"))
        .send()
        .await
        .unwrap();
    assert_secure("/pkg", asset.headers(), https);

    let api = client
        .get(app.url("/api/v1/destinations"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert_secure("/api/v1", api.headers(), https);

    for path in ["/healthz", "/metrics", "/no/such/page"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_secure(path, response.headers(), https);
    }
}

async fn every_response_carries_the_security_headers(app: &TestApp) {
    check_every_kind_of_response(app, false).await;
}

async fn hsts_only_behind_an_https_public_url(app: &TestApp) {
    check_every_kind_of_response(app, true).await;
}

/// Every inline script of a page (hydration, resource data) must carry the
/// header's nonce, or the browser refuses to run it and the page never hydrates.
async fn inline_scripts_carry_the_nonce_the_policy_names(app: &TestApp) {
    let client = TestApp::browser();
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let page = app.get(&client, "/setup").await;
        let policy = header(page.headers(), "content-security-policy").to_owned();
        let nonce = nonce(&policy);
        let html = page.text().await.unwrap();
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "the page has its hydration script");
        for script in scripts {
            let tag = &script[..script.find('>').unwrap()];
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "a script without the header's nonce {nonce}: <script{tag}>"
            );
        }
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a fresh nonce for every response");
}
