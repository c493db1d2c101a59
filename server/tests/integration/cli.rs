//! The binary itself: help, start-up errors, and the admin sub-commands.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("alertwire_cli_{tag}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The server binary with a clean environment pointing into `dir`.
fn server(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    for (key, _) in std::env::vars() {
        if key.starts_with("ALERTWIRE_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd.env(
        "DATABASE_URL",
        format!("sqlite://{}", dir.join("a.db").display()),
    )
    .env("ALERTWIRE_SECRET_KEY_FILE", dir.join("secret.key"))
    .env("RUST_LOG", "warn");
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_documents_every_setting_and_command() {
    let dir = temp_dir("help");
    let out = server(&dir).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--database-url",
        "DATABASE_URL",
        "--listen",
        "ALERTWIRE_LISTEN",
        "--public-url",
        "ALERTWIRE_PUBLIC_URL",
        "--secret-key-file",
        "ALERTWIRE_SECRET_KEY_FILE",
        "--retry-schedule",
        "ALERTWIRE_RETRY_SCHEDULE",
        "--request-timeout",
        "ALERTWIRE_REQUEST_TIMEOUT",
        "--allowed-targets",
        "ALERTWIRE_ALLOWED_TARGETS",
        "--extra-ca-certs",
        "ALERTWIRE_EXTRA_CA_CERTS",
        "--delivery-lease",
        "ALERTWIRE_DELIVERY_LEASE",
        "--max-in-flight-per-destination",
        "ALERTWIRE_MAX_IN_FLIGHT_PER_DESTINATION",
        "--metrics-token",
        "ALERTWIRE_METRICS_TOKEN",
        "--retention",
        "ALERTWIRE_RETENTION",
        "serve",
        "migrate",
        "create-user",
        "create-api-key",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

#[test]
fn invalid_settings_stop_the_server_with_one_line_naming_them() {
    let dir = temp_dir("invalid");
    let cases: [(&str, &str, &str); 13] = [
        ("DATABASE_URL", "mysql://nope", "DATABASE_URL"),
        (
            "ALERTWIRE_RETRY_SCHEDULE",
            "1m,soon",
            "ALERTWIRE_RETRY_SCHEDULE",
        ),
        (
            "ALERTWIRE_REQUEST_TIMEOUT",
            "30",
            "ALERTWIRE_REQUEST_TIMEOUT",
        ),
        (
            "ALERTWIRE_ALLOWED_TARGETS",
            "10.0.0.0/99",
            "ALERTWIRE_ALLOWED_TARGETS",
        ),
        (
            "ALERTWIRE_EXTRA_CA_CERTS",
            "/does/not/exist.pem",
            "ALERTWIRE_EXTRA_CA_CERTS",
        ),
        ("ALERTWIRE_LISTEN", "localhost", "ALERTWIRE_LISTEN"),
        ("ALERTWIRE_DELIVERY_LEASE", "2m", "ALERTWIRE_DELIVERY_LEASE"),
        // Not longer than the default 30 s request timeout.
        (
            "ALERTWIRE_DELIVERY_LEASE",
            "20s",
            "ALERTWIRE_DELIVERY_LEASE",
        ),
        (
            "ALERTWIRE_MAX_IN_FLIGHT_PER_DESTINATION",
            "0",
            "ALERTWIRE_MAX_IN_FLIGHT_PER_DESTINATION",
        ),
        // Set but empty: a typo would otherwise leave /metrics open.
        ("ALERTWIRE_METRICS_TOKEN", "", "--metrics-token"),
        ("ALERTWIRE_METRICS_TOKEN", "  ", "ALERTWIRE_METRICS_TOKEN"),
        ("ALERTWIRE_RETENTION", "30 days", "ALERTWIRE_RETENTION"),
        ("ALERTWIRE_RETENTION", "0", "--retention"),
    ];
    for (key, value, named) in cases {
        let out = server(&dir)
            .env(key, value)
            .arg("migrate")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}={value}");
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "one line for {key}: {err}");
        assert!(err.contains(named), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn an_unreadable_secret_key_stops_the_server_clearly() {
    let dir = temp_dir("badkey");
    std::fs::write(dir.join("secret.key"), "definitely not a key").unwrap();
    let out = server(&dir)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("ALERTWIRE_SECRET_KEY_FILE"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn create_user_from_environment_and_from_stdin() {
    let dir = temp_dir("users");
    let out = server(&dir).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let out = server(&dir)
        .env("ALERTWIRE_PASSWORD", "a long enough password")
        .args([
            "create-user",
            "--email",
            "ops@example.com",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ops@example.com"));

    let mut child = server(&dir)
        .args([
            "create-user",
            "--email",
            "viewer@example.com",
            "--role",
            "viewer",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another long password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let out = server(&dir)
        .env("ALERTWIRE_PASSWORD", "a long enough password")
        .args(["create-user", "--email", "x@example.com", "--role", "root"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("role"), "{}", stderr(&out));

    let out = server(&dir)
        .env("ALERTWIRE_PASSWORD", "short")
        .args([
            "create-user",
            "--email",
            "y@example.com",
            "--role",
            "viewer",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("12 characters"), "{}", stderr(&out));
}

#[test]
fn create_api_key_prints_a_new_key() {
    let dir = temp_dir("keys");
    let out = server(&dir)
        .args(["create-api-key", "--name", "ci"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(key.starts_with("aw_") && key.len() > 40, "{key}");
    let out = server(&dir)
        .args(["create-api-key", "--name", ""])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = server(&dir)
        .args(["create-api-key", "--name", "monitor", "--role", "ingest"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = server(&dir)
        .args(["create-api-key", "--name", "x", "--role", "root"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("ingest, viewer, editor or admin"),
        "{}",
        stderr(&out)
    );
    let db = format!("sqlite://{}", dir.join("a.db").display());
    let roles: Vec<(String,)> = super::helpers::runtime().block_on(async {
        let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
        sqlx::query_as("SELECT role FROM api_keys ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap()
    });
    assert_eq!(
        roles,
        [("admin".to_string(),), ("ingest".to_string(),)],
        "the CLI's default is admin"
    );
}

#[test]
fn serve_creates_the_database_and_key_on_first_start() {
    let dir = temp_dir("serve");
    let mut child = server(&dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    assert!(dir.join("a.db").exists());
    let key = std::fs::read_to_string(dir.join("secret.key")).unwrap();
    assert_eq!(key.trim().len(), 64);
}
