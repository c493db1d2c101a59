//! Bulk recovery: `POST /api/v1/deliveries/redeliver` counts the failed
//! deliveries a filter matches, refuses bad filters and jobs over the cap,
//! and runs as a job (`GET /api/v1/jobs/{id}`) that queues each delivery
//! again once, shows its progress, can be cancelled, ends `failed` when its
//! destination is deleted, and is for admins only. The job's destinations
//! are disabled, so what it queues stays queued for the checks.

use crate::helpers::{Engine, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::services::Actor;
use std::time::{Duration, Instant};

crate::on_both_engines!(with crate::bulk_redelivery::paced;
    a_job_redelivers_the_failed_deliveries_of_its_filter_once,
    bad_filters_are_refused_and_queue_nothing,
    a_job_over_the_cap_is_refused_with_the_count,
    two_starts_of_the_same_job_get_one_job,
    a_cancelled_job_stops_between_batches,
    a_job_on_a_deleted_destination_fails_with_a_reason,
    only_admins_run_jobs,
    the_pages_count_confirm_and_follow_a_job,
);

/// Small batches with a pause, so a test sees a job between two batches.
pub async fn paced(engine: Engine) -> Option<TestApp> {
    TestApp::spawn_with(engine, |s| {
        s.bulk_batch = "7".into();
        s.bulk_pause = "300ms".into();
    })
    .await
}

pub async fn key(app: &TestApp, role: &str) -> String {
    app.services
        .create_api_key(role, role, &Actor::command_line())
        .await
        .unwrap()
        .secret
}

pub async fn api(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .request(method, app.url(&format!("/api/v1{path}")))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A disabled destination (its deliveries, once queued, stay queued).
pub async fn destination(app: &TestApp, key: &str, name: &str) -> i64 {
    let (status, created) = api(
        app,
        key,
        Method::POST,
        "/destinations",
        Some(json!({"name": name, "url": "https://alertwire-test.invalid/hook", "enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["destination"]["id"].as_i64().unwrap();
    let (status, _) = api(
        app,
        key,
        Method::PATCH,
        &format!("/destinations/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    id
}

/// Runs statements as earlier deliveries would have left the database.
pub async fn sql(app: &TestApp, statements: &[String]) {
    for s in statements {
        match app.services.db() {
            server::store::Db::Sqlite(p, _) => sqlx::query(s).execute(p).await.map(drop),
            server::store::Db::Postgres(p) => sqlx::query(s).execute(p).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

pub async fn count(app: &TestApp, query: &str) -> i64 {
    app.texts(&format!("SELECT CAST(({query}) AS TEXT)"))
        .await
        .first()
        .and_then(|t| t.parse().ok())
        .unwrap()
}

/// `n` deliveries to `destination` with `status`, created `age_ms` ago, for one alert.
pub async fn seed(app: &TestApp, destination: i64, status: &str, n: i64, age_ms: i64) {
    let now = server::clock::now_ms();
    let at = now - age_ms;
    let tag = format!("{destination}_{status}_{n}_{age_ms}");
    sql(app, &[
        format!("INSERT INTO events (type, qualified_name, asset_type, change_type, details, occurred_at, dedup_key, received_at) \
                 VALUES ('schema_change', 'db.public.{tag}', 'table', NULL, '{{}}', {at}, NULL, {at})"),
        format!("INSERT INTO alerts (public_id, event_id, rule_id, rule_name, alert_type, status, payload, created_at) \
                 SELECT 'alert_{tag}', MAX(id), NULL, 'Seeded', 'schema', 'triggered', '{{}}', {at} FROM events"),
        format!("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {n}) \
                 INSERT INTO deliveries (alert_id, destination_id, msg_id, status, attempts, failures, retry, \
                   next_attempt_at, last_status, created_at, updated_at, rule_id, event_type, asset_name) \
                 SELECT (SELECT id FROM alerts WHERE public_id = 'alert_{tag}'), {destination}, \
                   'msg_{tag}_' || CAST(x AS TEXT), '{status}', 5, 5, TRUE, NULL, 500, {at}, {at}, \
                   NULL, 'schema_change', 'db.public.{tag}' FROM n"),
    ])
    .await;
}

fn hours_ago(h: i64) -> String {
    app::format::rfc3339(server::clock::now_ms() - h * 3_600_000)
}

/// Polls the job until `done(job)`; every state seen on the way.
pub async fn follow(
    app: &TestApp,
    key: &str,
    id: i64,
    done: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let (status, body) = api(app, key, Method::GET, &format!("/jobs/{id}"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let job = body["job"].clone();
        seen.push(job.clone());
        if done(&job) {
            return seen;
        }
        assert!(Instant::now() < deadline, "the job never got there: {job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    api(app, key, Method::POST, "/deliveries/redeliver", Some(body)).await
}

async fn a_job_redelivers_the_failed_deliveries_of_its_filter_once(app: &TestApp) {
    let admin = key(app, "admin").await;
    let a = destination(app, &admin, "A").await;
    let b = destination(app, &admin, "B").await;
    seed(app, a, "failed", 30, 60_000).await;
    seed(app, a, "delivered", 5, 60_000).await;
    seed(app, a, "failed", 4, 3 * 3_600_000).await; // Outside the time range.
    seed(app, b, "failed", 10, 60_000).await;

    let (status, body) = start(
        app,
        &admin,
        json!({"destination_id": a, "since": hours_ago(1)}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job = &body["job"];
    assert_eq!(job["kind"], "redeliver");
    assert_eq!(job["total"], 30);
    assert!(
        ["queued", "running"].contains(&job["state"].as_str().unwrap()),
        "{job}"
    );
    assert!(job["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(job["finished_at"].is_null());
    let id = job["id"].as_i64().unwrap();

    let seen = follow(app, &admin, id, |j| j["state"] == "done").await;
    // Progress only moves forward, through batches of 7, and ends at the total.
    let done: Vec<i64> = seen.iter().map(|j| j["done"].as_i64().unwrap()).collect();
    assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
    assert!(
        done.iter().any(|d| *d > 0 && *d < 30),
        "no progress between batches seen: {done:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!(last["done"], 30);
    assert!(last["finished_at"].as_str().is_some());

    // Exactly the filter's failed deliveries are queued again, as retries with a fresh schedule.
    let q = |cond: &str| format!("SELECT COUNT(*) FROM deliveries WHERE {cond}");
    assert_eq!(
        count(
            app,
            &q(&format!(
                "destination_id = {a} AND status = 'pending' AND retry = TRUE AND failures = 0"
            ))
        )
        .await,
        30
    );
    assert_eq!(
        count(
            app,
            &q(&format!("destination_id = {a} AND status = 'failed'"))
        )
        .await,
        4
    );
    assert_eq!(
        count(
            app,
            &q(&format!("destination_id = {a} AND status = 'delivered'"))
        )
        .await,
        5
    );
    assert_eq!(
        count(
            app,
            &q(&format!("destination_id = {b} AND status = 'failed'"))
        )
        .await,
        10
    );

    // The same job again finds nothing left to queue: none is queued twice.
    let (status, again) = start(
        app,
        &admin,
        json!({"destination_id": a, "since": hours_ago(1)}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["job"]["total"], 0);
    let again_id = again["job"]["id"].as_i64().unwrap();
    follow(app, &admin, again_id, |j| j["state"] == "done").await;
    assert_eq!(count(app, &q("status = 'pending'")).await, 30);

    // Who started it is in the audit log.
    let (_, log) = api(app, &admin, Method::GET, "/audit-log?object=job", None).await;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["object"]["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(entry["action"], "bulk_redeliver");
    assert_eq!(entry["actor"]["kind"], "api_key");
}

async fn bad_filters_are_refused_and_queue_nothing(app: &TestApp) {
    let admin = key(app, "admin").await;
    let a = destination(app, &admin, "A").await;
    seed(app, a, "failed", 3, 60_000).await;
    let since = hours_ago(1);
    let cases = [
        (json!({"status": "lost", "since": since}), "status"),
        (json!({"status": "delivered", "since": since}), "status"),
        (json!({"destination_id": a}), "since"),
        (json!({"since": "yesterday"}), "since"),
        (
            json!({"since": hours_ago(1), "until": hours_ago(2)}),
            "until",
        ),
        (json!({"since": since, "event_type": "boom"}), "event_type"),
        (
            json!({"since": since, "destination_id": 999_999}),
            "destination_id",
        ),
        (
            json!({"since": since, "destination_id": "x"}),
            "destination_id",
        ),
        (json!({"since": since, "colour": "red"}), "colour"),
        (json!({"since": since, "rule_id": {"id": 1}}), "rule_id"),
        (json!(["since"]), "body"),
    ];
    for (body, field) in cases {
        let (status, answer) = start(app, &admin, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid", "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    // A deleted destination is unknown too.
    let (status, _) = api(
        app,
        &admin,
        Method::DELETE,
        &format!("/destinations/{a}"),
        None,
    )
    .await;
    assert!(status.is_success());
    let (status, answer) = start(app, &admin, json!({"since": since, "destination_id": a})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["field"], "destination_id");
    assert_eq!(count(app, "SELECT COUNT(*) FROM jobs").await, 0);
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
        )
        .await,
        0
    );
    // Unknown and malformed job ids.
    let (status, answer) = api(app, &admin, Method::GET, "/jobs/424242", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = api(app, &admin, Method::GET, "/jobs/abc", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["field"], "id");
}

async fn a_job_over_the_cap_is_refused_with_the_count(app: &TestApp) {
    let admin = key(app, "admin").await;
    let a = destination(app, &admin, "A").await;
    seed(app, a, "failed", 100_001, 60_000).await;
    let (status, answer) = start(app, &admin, json!({"since": hours_ago(1)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("100,001") && message.contains("narrow"),
        "{message}"
    );
    assert_eq!(count(app, "SELECT COUNT(*) FROM jobs").await, 0);
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
        )
        .await,
        0
    );
    // Narrowed to the cap, it runs.
    sql(app, &["UPDATE deliveries SET status = 'delivered' WHERE id = (SELECT MIN(id) FROM deliveries)".to_owned()]).await;
    let (status, answer) = start(app, &admin, json!({"since": hours_ago(1)})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["job"]["total"], 100_000);
}

async fn two_starts_of_the_same_job_get_one_job(app: &TestApp) {
    let admin = key(app, "admin").await;
    let other = key(app, "admin").await;
    let a = destination(app, &admin, "A").await;
    seed(app, a, "failed", 40, 60_000).await;
    let body = json!({"destination_id": a, "since": hours_ago(1)});
    let ((s1, r1), (s2, r2)) = tokio::join!(
        start(app, &admin, body.clone()),
        start(app, &other, body.clone())
    );
    let mut statuses = [s1, s2];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::ACCEPTED, StatusCode::CONFLICT],
        "{r1} {r2}"
    );
    let (job, refusal) = if s1 == StatusCode::ACCEPTED {
        (r1, r2)
    } else {
        (r2, r1)
    };
    let id = job["job"]["id"].as_i64().unwrap();
    assert_eq!(refusal["error"]["code"], "conflict");
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("Job {id}")),
        "{refusal}"
    );
    follow(app, &admin, id, |j| j["state"] == "done").await;
    assert_eq!(count(app, "SELECT COUNT(*) FROM jobs").await, 1);
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
        )
        .await,
        40
    );
}

async fn a_cancelled_job_stops_between_batches(app: &TestApp) {
    let admin = key(app, "admin").await;
    let a = destination(app, &admin, "A").await;
    seed(app, a, "failed", 70, 60_000).await;
    let (_, body) = start(app, &admin, json!({"since": hours_ago(1)})).await;
    let id = body["job"]["id"].as_i64().unwrap();
    follow(app, &admin, id, |j| j["done"].as_i64().unwrap() >= 7).await;
    let (status, cancelled) = api(
        app,
        &admin,
        Method::POST,
        &format!("/jobs/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["job"]["state"], "cancelled");
    assert!(cancelled["job"]["error"]
        .as_str()
        .unwrap()
        .contains("Cancelled by API key admin"));
    let done = cancelled["job"]["done"].as_i64().unwrap();
    assert!(done < 70, "{cancelled}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (_, now) = api(app, &admin, Method::GET, &format!("/jobs/{id}"), None).await;
    assert_eq!(now["job"]["done"], done, "no batch after the cancel");
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
        )
        .await,
        done
    );
    let (status, again) = api(
        app,
        &admin,
        Method::POST,
        &format!("/jobs/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (_, log) = api(
        app,
        &admin,
        Method::GET,
        &format!("/audit-log?object=job:{id}"),
        None,
    )
    .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["cancel", "bulk_redeliver"]);
}

async fn a_job_on_a_deleted_destination_fails_with_a_reason(app: &TestApp) {
    let admin = key(app, "admin").await;
    let a = destination(app, &admin, "A").await;
    seed(app, a, "failed", 70, 60_000).await;
    let (_, body) = start(
        app,
        &admin,
        json!({"destination_id": a, "since": hours_ago(1)}),
    )
    .await;
    let id = body["job"]["id"].as_i64().unwrap();
    follow(app, &admin, id, |j| j["done"].as_i64().unwrap() >= 7).await;
    let (status, _) = api(
        app,
        &admin,
        Method::DELETE,
        &format!("/destinations/{a}"),
        None,
    )
    .await;
    assert!(status.is_success());
    let seen = follow(app, &admin, id, |j| j["state"] != "running").await;
    let job = seen.last().unwrap();
    assert_eq!(job["state"], "failed", "{job}");
    assert!(
        job["error"].as_str().unwrap().contains("was deleted"),
        "{job}"
    );
    assert!(job["finished_at"].as_str().is_some());
    // Nothing is left queued for the deleted destination.
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
        )
        .await,
        0
    );
}

async fn only_admins_run_jobs(app: &TestApp) {
    let admin = key(app, "admin").await;
    let a = destination(app, &admin, "A").await;
    seed(app, a, "failed", 3, 60_000).await;
    let (_, body) = start(app, &admin, json!({"since": hours_ago(1)})).await;
    let id = body["job"]["id"].as_i64().unwrap();
    for role in ["ingest", "viewer", "editor"] {
        let k = key(app, role).await;
        for (method, path, body) in [
            (
                Method::POST,
                "/deliveries/redeliver".to_owned(),
                Some(json!({"since": hours_ago(1)})),
            ),
            (Method::GET, format!("/jobs/{id}"), None),
            (Method::POST, format!("/jobs/{id}/cancel"), None),
        ] {
            let (status, answer) = api(app, &k, method.clone(), &path, body).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{role} {method} {path}: {answer}"
            );
            assert_eq!(answer["error"]["code"], "forbidden");
        }
        // And in the browser: the confirmation and the job's page say no.
        let browser = app
            .signed_in(
                &format!("{role}@example.com"),
                if role == "ingest" { "viewer" } else { role },
            )
            .await;
        let page = app
            .client_get(&browser, &app.url(&format!("/alerts/jobs/{id}")))
            .await;
        assert!(page.contains("You do not have permission"), "{role}");
        assert!(!page.contains("data-testid=\"job-progress\""), "{role}");
    }
    assert_eq!(count(app, "SELECT COUNT(*) FROM jobs").await, 1);
}

async fn the_pages_count_confirm_and_follow_a_job(app: &TestApp) {
    let admin_key = key(app, "admin").await;
    let a = destination(app, &admin_key, "Ops hook").await;
    seed(app, a, "failed", 12, 60_000).await;
    let admin = app.signed_in("admin@example.com", "admin").await;
    // The tab offers it to admins, with the filter.
    let tab = app
        .client_get(
            &admin,
            &app.url(&format!("/alerts/deliveries?destination_id={a}&range=24h")),
        )
        .await;
    assert!(
        tab.contains(&format!(
            "/alerts/deliveries/redeliver?status=failed&amp;destination_id={a}&amp;range=24h"
        )),
        "{tab}"
    );
    // Without a time range the confirmation asks for one.
    let ask = app
        .client_get(
            &admin,
            &app.url(&format!("/alerts/deliveries/redeliver?destination_id={a}")),
        )
        .await;
    assert!(ask.contains("Choose a time range"), "{ask}");
    assert!(!ask.contains("Redeliver 12"));
    let confirm = app
        .client_get(
            &admin,
            &app.url(&format!(
                "/alerts/deliveries/redeliver?destination_id={a}&range=24h"
            )),
        )
        .await;
    assert!(
        confirm.contains("12 failed deliveries match: to Ops hook, created since"),
        "{confirm}"
    );
    assert!(confirm.contains("Redeliver 12 failed deliveries"));
    // Confirming without JavaScript posts the form and lands on the job's page.
    let since = confirm
        .split("name=\"since\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = app
        .post_form(
            &admin,
            "/alerts/deliveries/redeliver",
            "start_redelivery",
            &[
                ("status", "failed"),
                ("destination_id", &a.to_string()),
                ("since", &since),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", r.status());
    let to = crate::helpers::location(&r);
    assert!(to.starts_with("/alerts/jobs/"), "{to}");
    let job = app.client_get(&admin, &app.url(&to)).await;
    assert!(job.contains("<progress"), "{job}");
    assert!(job.contains("admin@example.com"));
}
