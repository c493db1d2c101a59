//! The Add Destination wizard's server side: Send Test Alert, Save, the
//! signed request a receiver gets, failures explained, secrets at rest.

use crate::helpers::{location, Engine, TestApp, PASSWORD};
use crate::receivers::{one, receiver, trusted_ca, url, verify_with_python, Trusted};
use app::error::AppError;
use app::model::{DestinationOutcome, DestinationWithSecret, TestReport};
use reqwest::{Client, StatusCode};
use server::receiver::Behaviour;
use std::time::Duration;

/// An app that trusts a test CA and may send to loopback, plus that CA.
pub struct Env {
    pub app: TestApp,
    pub ca: Trusted,
    pub engine: Engine,
    pub editor: Client,
    /// Where the CA's file is, removed with the env.
    ca_dir: std::path::PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.ca_dir);
    }
}

impl Env {
    pub async fn new(engine: Engine) -> Option<Env> {
        Self::with(engine, |_| {}).await
    }

    /// Like `new`, with more settings changed by `adjust`.
    pub async fn with(
        engine: Engine,
        adjust: impl FnOnce(&mut server::cli::Settings),
    ) -> Option<Env> {
        let dir = std::env::temp_dir().join(format!(
            "alertwire_ca_{}_{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).ok()?;
        let ca = trusted_ca(&dir);
        let ca_file = ca.ca_file.display().to_string();
        let app = TestApp::spawn_with(engine, |s| {
            s.extra_ca_certs = Some(ca_file);
            s.allowed_targets = "127.0.0.0/8,::1/128".into();
            s.request_timeout = "2s".into();
            adjust(s);
        })
        .await?;
        let editor = app.signed_in("editor@example.com", "editor").await;
        Some(Env {
            app,
            ca,
            engine,
            editor,
            ca_dir: dir,
        })
    }
}

pub fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

crate::on_both_engines!(with crate::destinations::Env::new;
    saved_destination_test_alert_is_signed_and_verifies,
    send_test_alert_works_before_saving,
    failures_are_explained,
    loopback_is_refused_without_the_allow_list,
    secrets_are_encrypted_at_rest,
    viewers_see_destinations_but_cannot_change_or_test_them,
    bad_input_is_refused_field_by_field_and_changes_nothing,
    reveal_and_rotate_the_signing_secret,
    enable_disable_and_delete,
    the_list_is_paged,
    without_javascript_test_and_save_work_with_reloads,
    without_javascript_header_rows_are_added_one_post_at_a_time,
);

pub fn form<'a>(name: &'a str, url: &'a str) -> Vec<(&'static str, &'a str)> {
    // No auth_type: the form treats a missing choice as None.
    vec![("form[name]", name), ("form[url]", url)]
}

async fn submit(env: &Env, fields: &[(&str, &str)]) -> reqwest::Response {
    env.app
        .call(&env.editor, "submit_destination", fields)
        .await
}

async fn outcome(response: reqwest::Response) -> DestinationOutcome {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The report of a Send Test Alert submission.
async fn tested(response: reqwest::Response) -> TestReport {
    match outcome(response).await {
        DestinationOutcome::Tested(report) => report,
        other => panic!("expected Tested, got {other:?}"),
    }
}

pub async fn create(
    env: &Env,
    name: &str,
    url: &str,
    extra: &[(&'static str, &str)],
) -> DestinationWithSecret {
    let mut fields = form(name, url);
    fields.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    fields.extend_from_slice(extra);
    fields.push(("intent", "save"));
    match outcome(submit(env, &fields).await).await {
        DestinationOutcome::Created(created) => created,
        other => panic!("expected Created, got {other:?}"),
    }
}

async fn test_saved(env: &Env, id: i64, name: &str, url: &str) -> TestReport {
    let id = id.to_string();
    let mut fields = form(name, url);
    fields.extend([("intent", "test"), ("id", id.as_str())]);
    tested(submit(env, &fields).await).await
}

async fn saved_destination_test_alert_is_signed_and_verifies(env: &Env) {
    let rx = receiver(&env.ca.tls, Behaviour::default()).await;
    let target = url(&rx, "localhost", "/alerts");
    let created = create(
        env,
        "Internal Alerting System",
        &target,
        &[
            ("form[auth_type]", "bearer"),
            ("form[bearer_token]", "tok-123"),
            ("form[headers][0][name]", "X-Team"),
            ("form[headers][0][value]", "data-platform"),
        ],
    )
    .await;
    assert!(created.signing_secret.starts_with("whsec_"));
    // Testing a saved destination keeps its stored token (the form leaves it empty).
    let id = created.destination.id.to_string();
    let mut fields = form("Internal Alerting System", &target);
    fields.extend([
        ("form[auth_type]", "bearer"),
        ("form[headers][0][name]", "X-Team"),
        ("form[headers][0][value]", "data-platform"),
        ("intent", "test"),
        ("id", id.as_str()),
    ]);
    let report = tested(submit(env, &fields).await).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.status.as_deref(), Some("200 OK"));
    assert_eq!(report.request_line, format!("POST {target}"));
    assert!(report.response_body.contains("received"));
    let shown_auth = report
        .request_headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    assert!(
        !shown_auth.1.contains("tok-123"),
        "secrets are masked in the report"
    );

    let got = one(&rx).await;
    assert_eq!(got.path, "/alerts");
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert!(got.header("user-agent").unwrap().starts_with("Alertwire/"));
    assert_eq!(got.header("authorization"), Some("Bearer tok-123"));
    assert_eq!(got.header("x-team"), Some("data-platform"));
    assert!(got.header("webhook-id").unwrap().starts_with("msg_"));
    let ts: i64 = got.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!((ts - server::clock::now_ms() / 1000).abs() < 60);
    assert!(got.header("webhook-signature").unwrap().starts_with("v1,"));
    assert!(got
        .header("x-anomalyarmor-signature")
        .unwrap()
        .starts_with("sha256="));

    let body: server::delivery::payload::WebhookPayload =
        serde_json::from_slice(&got.body).expect("documented shape");
    assert_eq!(body.event_type, "alert.test");
    assert!(body.alert.id.starts_with("alert_"));
    assert_eq!(body.alert.status, "triggered");
    assert_eq!(body.event.kind, "schema_change");
    assert!(body.links.alert_url.starts_with(&env.app.base));

    let (documented, standard) = verify_with_python(&created.signing_secret, &got);
    assert!(
        documented,
        "the documentation's verify_signature accepts X-AnomalyArmor-Signature"
    );
    assert!(standard, "standardwebhooks accepts webhook-signature");
    let (wrong, _) = verify_with_python("whsec_c29tZSBvdGhlciBzZWNyZXQgdGhhdCBpcyBsb25n", &got);
    assert!(!wrong, "a different secret does not verify");

    let list = env.app.services.list_destinations().await.unwrap();
    let last = list[0].last_result.clone().expect("last result recorded");
    assert!(last.ok);
    assert_eq!(last.summary, "200 OK");
}

async fn send_test_alert_works_before_saving(env: &Env) {
    let rx = receiver(&env.ca.tls, Behaviour::default()).await;
    let target = url(&rx, "127.0.0.1", "/hook");
    let mut fields = form("Unsaved", &target);
    fields.extend([
        ("form[auth_type]", "api_key"),
        ("form[api_key_header]", "X-Custom-Key"),
        ("form[api_key]", "k-999"),
        ("intent", "test"),
    ]);
    let report = tested(submit(env, &fields).await).await;
    assert!(report.ok);
    assert_eq!(one(&rx).await.header("x-custom-key"), Some("k-999"));
    assert!(
        env.app
            .services
            .list_destinations()
            .await
            .unwrap()
            .is_empty(),
        "testing saves nothing"
    );
}

async fn failing_report(env: &Env, behaviour: Behaviour) -> TestReport {
    let rx = receiver(&env.ca.tls, behaviour).await;
    let target = url(&rx, "localhost", "/");
    let mut fields = form("Failing", &target);
    fields.push(("intent", "test"));
    tested(submit(env, &fields).await).await
}

async fn failures_are_explained(env: &Env) {
    let status = |code| Behaviour {
        status: code,
        ..Behaviour::default()
    };
    let r = failing_report(env, status(401)).await;
    assert!(!r.ok);
    assert_eq!(r.status.as_deref(), Some("401 Unauthorized"));
    let f = r.failure.unwrap();
    assert_eq!(f.kind, "http_status");
    assert!(f.title.contains("401 Unauthorized"));
    assert!(f.fixes.iter().any(|x| x.contains("header name")));

    let f = failing_report(env, status(400)).await.failure.unwrap();
    assert!(f.title.contains("400 Bad Request"));
    assert!(f.fixes.iter().any(|x| x.contains("application/json")));

    let f = failing_report(env, status(500)).await.failure.unwrap();
    assert_eq!(f.title, "Response not 2xx");
    assert!(f.detail.contains("500 Internal Server Error"));

    let redirect = Behaviour {
        status: 302,
        location: Some("https://elsewhere.example/".into()),
        ..Behaviour::default()
    };
    let f = failing_report(env, redirect).await.failure.unwrap();
    assert_eq!(f.kind, "redirect");
    assert!(f.detail.contains("https://elsewhere.example/"));

    let slow = Behaviour {
        delay: Duration::from_secs(4),
        ..Behaviour::default()
    };
    let f = failing_report(env, slow).await.failure.unwrap();
    assert_eq!(f.kind, "timeout");
    // The configured timeout (2 s in these tests), not the documentation's 30 s.
    assert!(
        f.fixes.iter().any(|x| x.ends_with("within 2 seconds")),
        "{:?}",
        f.fixes
    );

    // A certificate from a CA nobody trusts.
    let stranger = server::receiver::tls::make_local_tls().unwrap();
    let rx = receiver(&stranger, Behaviour::default()).await;
    let target = url(&rx, "localhost", "/");
    let mut fields = form("Untrusted", &target);
    fields.push(("intent", "test"));
    let report = tested(submit(env, &fields).await).await;
    let f = report.failure.unwrap();
    assert_eq!(f.kind, "tls", "{f:?}");
    assert_eq!(f.title, "Certificate not trusted");
    assert!(rx.received().is_empty());

    // A closed port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let closed = format!("https://127.0.0.1:{port}/");
    let mut fields = form("Closed", &closed);
    fields.push(("intent", "test"));
    let report = tested(submit(env, &fields).await).await;
    let f = report.failure.unwrap();
    assert_eq!(f.kind, "connect");
    assert!(f.title.contains("Connection refused"));
    assert!(f.fixes.iter().any(|x| x.contains("Verify the URL")));
}

async fn loopback_is_refused_without_the_allow_list(env: &Env) {
    let ca_file = env.ca.ca_file.display().to_string();
    let Some(strict) = TestApp::spawn_with(env.engine, |s| s.extra_ca_certs = Some(ca_file)).await
    else {
        return;
    };
    let editor = strict.signed_in("e@example.com", "editor").await;
    let rx = receiver(&env.ca.tls, Behaviour::default()).await;
    // An address literal is refused when saving and when testing.
    for intent in ["save", "test"] {
        let target = url(&rx, "127.0.0.1", "/");
        let mut fields = form("Loopback", &target);
        fields.push(("intent", intent));
        let r = strict.call(&editor, "submit_destination", &fields).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let err: AppError = r.json().await.unwrap();
        assert!(err
            .form()
            .unwrap()
            .message_for("url")
            .unwrap()
            .contains("loopback"));
    }
    // Names for this machine are refused by name when saving and when testing, resolving
    // or not (the connection-time check on resolved addresses is resolver.rs's test).
    for host in ["localhost", "localhost.", "foo.localhost"] {
        for intent in ["save", "test"] {
            let target = url(&rx, host, "/");
            let mut fields = form("Named loopback", &target);
            fields.push(("intent", intent));
            let r = strict.call(&editor, "submit_destination", &fields).await;
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{host} {intent}");
            let err: AppError = r.json().await.unwrap();
            let message = err.form().unwrap().message_for("url").unwrap().to_owned();
            assert!(message.contains("loopback"), "{host} {intent}: {message}");
        }
    }
    assert!(rx.received().is_empty(), "the receiver saw nothing");
    assert!(strict
        .services
        .list_destinations()
        .await
        .unwrap()
        .is_empty());
}

async fn secrets_are_encrypted_at_rest(env: &Env) {
    let created = create(
        env,
        "Secretive",
        "https://hooks.example.com/a",
        &[
            ("form[auth_type]", "bearer"),
            ("form[bearer_token]", "super-secret-token-value"),
        ],
    )
    .await;
    let rows: Vec<(String, String, Option<String>)> = match env.app.services.db() {
        server::store::Db::Sqlite(p, _) => {
            sqlx::query_as("SELECT url, signing_secret, auth_secret FROM destinations")
                .fetch_all(p)
                .await
                .unwrap()
        }
        server::store::Db::Postgres(p) => {
            sqlx::query_as("SELECT url, signing_secret, auth_secret FROM destinations")
                .fetch_all(p)
                .await
                .unwrap()
        }
    };
    let (_, signing, auth) = &rows[0];
    assert!(!signing.contains(&created.signing_secret[6..]));
    assert!(!auth.as_deref().unwrap().contains("super-secret"));
    let page = env
        .app
        .get(
            &env.editor,
            &format!("/alerts/destinations/{}", created.destination.id),
        )
        .await;
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("super-secret-token-value"),
        "the token is never shown again"
    );
}

async fn viewers_see_destinations_but_cannot_change_or_test_them(env: &Env) {
    let created = create(env, "Visible", "https://hooks.example.com/a", &[]).await;
    let viewer = env.app.signed_in("viewer@example.com", "viewer").await;
    let list = env.app.call(&viewer, "destinations", &[]).await;
    assert_eq!(list.status(), StatusCode::OK);
    let id = created.destination.id.to_string();
    let mut fields = form("Visible", "https://hooks.example.com/a");
    fields.extend([("intent", "test"), ("id", id.as_str())]);
    for (function, form) in [
        ("submit_destination", fields.clone()),
        (
            "set_destination_enabled",
            vec![("id", id.as_str()), ("enabled", "false")],
        ),
        ("delete_destination", vec![("id", id.as_str())]),
        (
            "reveal_signing_secret",
            vec![("id", id.as_str()), ("password", PASSWORD)],
        ),
        ("rotate_signing_secret", vec![("id", id.as_str())]),
    ] {
        let r = env.app.call(&viewer, function, &form).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "viewer calling {function}"
        );
    }
    let html = env
        .app
        .get(&viewer, &format!("/alerts/destinations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Visible"));
    assert!(!html.contains("Send Test Alert") && !html.contains("Reveal signing secret"));
    let html = env
        .app
        .get(&viewer, "/alerts/destinations")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Add Destination"));
}

async fn bad_input_is_refused_field_by_field_and_changes_nothing(env: &Env) {
    let created = create(env, "Keep me", "https://hooks.example.com/a", &[]).await;
    let long_url = format!("https://hooks.example.com/{}", "a".repeat(2100));
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (form("", "https://hooks.example.com/"), "name"),
        (form("Keep me", "https://other.example.com/"), "name"),
        (form("x", "http://hooks.example.com/"), "url"),
        (form("x", &long_url), "url"),
        (form("x", "https://user:pw@hooks.example.com/"), "url"),
        (
            vec![
                ("form[name]", "x"),
                ("form[url]", "https://h.example.com/"),
                ("form[auth_type]", "bearer"),
            ],
            "bearer_token",
        ),
        (
            vec![
                ("form[name]", "x"),
                ("form[url]", "https://h.example.com/"),
                ("form[auth_type]", "bearer"),
                ("form[bearer_token]", "a\r\nb"),
            ],
            "bearer_token",
        ),
        (
            vec![
                ("form[name]", "x"),
                ("form[url]", "https://h.example.com/"),
                ("form[auth_type]", "api_key"),
                ("form[api_key_header]", "bad header"),
                ("form[api_key]", "k"),
            ],
            "api_key_header",
        ),
        (
            vec![
                ("form[name]", "x"),
                ("form[url]", "https://h.example.com/"),
                ("form[auth_type]", "none"),
                ("form[headers][0][name]", "Content-Type"),
                ("form[headers][0][value]", "text/plain"),
            ],
            "headers.0.name",
        ),
    ];
    for (mut fields, field) in cases {
        fields.push(("intent", "save"));
        let r = submit(env, &fields).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{fields:?}");
        let err: AppError = r.json().await.unwrap();
        assert!(
            err.form().and_then(|f| f.message_for(field)).is_some(),
            "{field}: {err:?}"
        );
    }
    // A refused edit leaves the stored destination as it was.
    let id = created.destination.id.to_string();
    let mut fields = form("Renamed", "http://insecure.example.com/");
    fields.extend([("intent", "save"), ("id", id.as_str())]);
    assert_eq!(submit(env, &fields).await.status(), StatusCode::BAD_REQUEST);
    let list = env.app.services.list_destinations().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0], created.destination);
}

async fn reveal_and_rotate_the_signing_secret(env: &Env) {
    let rx = receiver(&env.ca.tls, Behaviour::default()).await;
    let target = url(&rx, "localhost", "/");
    let created = create(env, "Rotating", &target, &[]).await;
    let id = created.destination.id.to_string();
    let r = env
        .app
        .call(
            &env.editor,
            "reveal_signing_secret",
            &[("id", &id), ("password", "wrong password!")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = env
        .app
        .call(
            &env.editor,
            "reveal_signing_secret",
            &[("id", &id), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.json::<String>().await.unwrap(), created.signing_secret);

    let r = env
        .app
        .call(&env.editor, "rotate_signing_secret", &[("id", &id)])
        .await;
    let rotated: DestinationWithSecret = r.json().await.unwrap();
    assert_ne!(rotated.signing_secret, created.signing_secret);
    assert!(rotated.destination.previous_secret_expires_at.is_some());

    let report = test_saved(env, created.destination.id, "Rotating", &target).await;
    assert!(report.ok);
    let got = one(&rx).await;
    assert_eq!(
        got.header("webhook-signature").unwrap().split(' ').count(),
        2,
        "both secrets sign during the grace period"
    );
    let (documented_new, standard_new) = verify_with_python(&rotated.signing_secret, &got);
    assert!(documented_new && standard_new);
    let (_, standard_old) = verify_with_python(&created.signing_secret, &got);
    assert!(
        standard_old,
        "receivers still on the old secret keep verifying webhook-signature"
    );
}

async fn enable_disable_and_delete(env: &Env) {
    let created = create(env, "Toggle", "https://hooks.example.com/a", &[]).await;
    let id = created.destination.id.to_string();
    let r = env
        .app
        .call(
            &env.editor,
            "set_destination_enabled",
            &[("id", &id), ("enabled", "false")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        !env.app
            .services
            .destination(created.destination.id)
            .await
            .unwrap()
            .enabled
    );
    let r = env
        .app
        .call(&env.editor, "delete_destination", &[("id", &id)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(env
        .app
        .services
        .list_destinations()
        .await
        .unwrap()
        .is_empty());
    // The name is free again; the deleted row stays for its history.
    create(env, "Toggle", "https://hooks.example.com/b", &[]).await;
    let r = env
        .app
        .call(&env.editor, "delete_destination", &[("id", &id)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn without_javascript_test_and_save_work_with_reloads(env: &Env) {
    let rx = receiver(&env.ca.tls, Behaviour::default()).await;
    let target = url(&rx, "localhost", "/nojs");
    let page = "/alerts/destinations/new/webhook";
    let mut fields = form("No script", &target);
    fields.extend([
        ("form[auth_type]", "bearer"),
        ("form[bearer_token]", "nojs-token"),
        ("intent", "test"),
    ]);
    let r = env
        .app
        .post_form(&env.editor, page, "submit_destination", &fields)
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let html = env
        .app
        .get(&env.editor, &location(&r).replacen(&env.app.base, "", 1))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Status: 200 OK"),
        "the test result is on the reloaded page"
    );
    assert!(html.contains("Response time: "));
    assert!(
        html.contains(r#"value="No script""#),
        "what was typed is kept"
    );
    assert_eq!(
        one(&rx).await.header("authorization"),
        Some("Bearer nojs-token")
    );

    // A refused save keeps the form and marks the field.
    let mut bad = form("No script", "http://insecure.example.com/");
    bad.push(("intent", "save"));
    let r = env
        .app
        .post_form(&env.editor, page, "submit_destination", &bad)
        .await;
    let back = location(&r);
    assert!(back.contains("__err="), "{back}");
    let html = env.app.client_get(&env.editor, &back).await;
    assert!(html.contains("Webhook URLs must be HTTPS"));
    assert!(html.contains(r#"value="http://insecure.example.com/""#));

    fields.retain(|(k, _)| *k != "intent");
    fields.push(("intent", "save"));
    let r = env
        .app
        .post_form(&env.editor, page, "submit_destination", &fields)
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let detail = location(&r);
    assert!(detail.starts_with("/alerts/destinations/"), "{detail}");
    let html = env
        .app
        .get(&env.editor, &detail)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("whsec_"),
        "the signing secret is shown once after saving"
    );
    assert!(html.contains("Destination saved."));
    let again = env
        .app
        .get(&env.editor, &detail)
        .await
        .text()
        .await
        .unwrap();
    assert!(!again.contains("whsec_"), "and only once");
}

async fn the_list_is_paged(env: &Env) {
    for i in 0..51 {
        let form = app::model::DestinationForm {
            name: format!("Paged {i:02}"),
            url: format!("https://93.184.216.34/hook/{i}"),
            auth_type: "none".into(),
            ..Default::default()
        };
        env.app
            .services
            .create_destination(&server::services::Actor::command_line(), &form)
            .await
            .unwrap();
    }
    let first = env
        .app
        .get(&env.editor, "/alerts/destinations")
        .await
        .text()
        .await
        .unwrap();
    assert!(first.contains("Showing 1–50 of 51"));
    assert!(first.contains("Paged 49") && !first.contains("Paged 50"));
    assert!(first.contains(r#"href="/alerts/destinations?page=2""#));
    let second = env
        .app
        .get(&env.editor, "/alerts/destinations?page=2")
        .await
        .text()
        .await
        .unwrap();
    assert!(second.contains("Showing 51–51 of 51"));
    assert!(second.contains("Paged 50") && !second.contains("Paged 49"));
}

async fn without_javascript_header_rows_are_added_one_post_at_a_time(env: &Env) {
    let page = "/alerts/destinations/new/webhook";
    let mut fields = form("Many headers", "https://hooks.example.com/in");
    fields.push(("intent", "add_header"));
    let mut rows: Vec<(String, String)> = Vec::new();
    for n in 0..3 {
        let (name, value) = (
            format!("form[headers][{n}][name]"),
            format!("form[headers][{n}][value]"),
        );
        rows.push((name, format!("X-Header-{n}")));
        rows.push((value, format!("v{n}")));
        let mut all: Vec<(&str, &str)> = fields.clone();
        all.extend(rows.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let r = env
            .app
            .post_form(&env.editor, page, "submit_destination", &all)
            .await;
        assert_eq!(r.status(), StatusCode::FOUND);
        let html = env
            .app
            .get(&env.editor, &location(&r).replacen(&env.app.base, "", 1))
            .await
            .text()
            .await
            .unwrap();
        // Every row typed so far is kept, and one more blank row follows.
        for k in 0..=n {
            assert!(
                html.contains(&format!(r#"value="X-Header-{k}""#)),
                "row {k} after post {n}"
            );
        }
        assert!(
            html.contains(&format!(r#"id="header-{}-name""#, n + 1)),
            "a blank row after post {n}"
        );
        assert!(!html.contains(&format!(r#"id="header-{}-name""#, n + 2)));
        assert!(html.contains("Add another header"));
    }
    // Nothing was saved.
    let list = env.app.services.destination_list(1).await.unwrap();
    assert!(list.items.iter().all(|d| d.name != "Many headers"));
}
