//! Log output as an operator's collector sees it: the real binary, stderr piped.

use crate::helpers::Engine;
use crate::processes::Site;
use crate::receivers::receiver;
use serde_json::Value;
use server::receiver::Behaviour;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr};

struct Logged {
    child: Child,
    base: String,
    stderr: Lines<BufReader<ChildStderr>>,
}

async fn start(site: &Site, format: &str) -> Logged {
    let mut child = site
        .command()
        .env("ALERTWIRE_LOG_FORMAT", format)
        .env("RUST_LOG", "info")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
        .await
        .expect("the server starts")
        .unwrap()
        .expect("a listening line");
    tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
    let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    Logged {
        child,
        base: line.trim_start_matches("listening on ").trim().to_owned(),
        stderr,
    }
}

/// Reads log lines until one contains `needle`; returns every line read.
async fn read_until(logged: &mut Logged, needle: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = logged.stderr.next_line().await {
            let hit = line.contains(needle);
            lines.push(line);
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no {needle:?} in:\n{}", lines.join("\n"));
    lines
}

/// A failed attempt: the line that says so must carry the delivery's ids.
async fn fail_one_delivery(site: &Site, logged: &Logged) {
    let rx = receiver(
        &site.ca.tls,
        Behaviour {
            status: 500,
            ..Behaviour::default()
        },
    )
    .await;
    site.routes(&logged.base, &rx, 1).await;
    site.post_events(&logged.base, 1).await;
    rx.wait_for(1, Duration::from_secs(10)).await;
}

#[test]
fn json_lines_carry_the_delivery_destination_and_alert_ids() {
    crate::helpers::runtime().block_on(async {
        let site = Site::new(Engine::Sqlite).await.unwrap();
        let mut logged = start(&site, "json").await;
        fail_one_delivery(&site, &logged).await;
        let lines = read_until(&mut logged, "attempt failed").await;
        logged.child.start_kill().unwrap();
        for line in &lines {
            let parsed: Result<Value, _> = serde_json::from_str(line);
            assert!(parsed.is_ok(), "not one JSON object: {line}");
        }
        // Shown with --nocapture: RELIABILITY.md quotes it.
        println!("{}", lines.last().unwrap());
        let failed: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        assert_eq!(failed["message"], "attempt failed", "{failed}");
        assert_eq!(failed["level"], "INFO");
        for field in ["delivery_id", "destination_id", "alert_id", "attempt"] {
            assert!(
                failed[field].as_i64().is_some(),
                "{field} missing: {failed}"
            );
        }
        assert_eq!(failed["status"], 500, "{failed}");
    });
}

#[test]
fn text_logs_have_no_colour_codes_when_not_a_terminal() {
    crate::helpers::runtime().block_on(async {
        let site = Site::new(Engine::Sqlite).await.unwrap();
        let mut logged = start(&site, "text").await;
        fail_one_delivery(&site, &logged).await;
        let lines = read_until(&mut logged, "attempt failed").await;
        logged.child.start_kill().unwrap();
        let all = lines.join("\n");
        assert!(!all.contains('\u{1b}'), "colour codes in:\n{all}");
        let failed = lines.last().unwrap();
        assert!(failed.contains("delivery_id="), "{failed}");
        assert!(failed.contains("alert_id="), "{failed}");
    });
}

#[test]
fn an_unknown_log_format_is_refused_with_the_choices() {
    crate::helpers::runtime().block_on(async {
        let site = Site::new(Engine::Sqlite).await.unwrap();
        let out = site
            .command()
            .env("ALERTWIRE_LOG_FORMAT", "yaml")
            .arg("serve")
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("must be text or json"), "{stderr}");
    });
}
