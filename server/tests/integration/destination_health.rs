//! Destination health (`GET /api/v1/destinations/{id}/health`, the
//! destination's page and the list's badge) from the hourly aggregates the
//! recorder keeps, and Send Test Alert history (attempts of kind test).

use crate::destinations::Env;
use crate::helpers::Engine;
use crate::pipeline::{event, Pipeline};
use crate::receivers::{receiver, url};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::receiver::Behaviour;
use server::store::Db;
use std::time::{Duration, Instant};

const HOUR: i64 = 3_600_000;

/// One attempt per delivery (no retry), so every event is one attempt; a
/// retention window of an hour for the pruning test.
async fn pipeline(engine: Engine) -> Option<Pipeline> {
    let env = Env::with(engine, |s| {
        s.retry_schedule = "0ms".into();
        s.retention = "1h".into();
    })
    .await?;
    let key = env
        .app
        .services
        .create_api_key("tests", "admin", &server::services::Actor::command_line())
        .await
        .unwrap()
        .secret;
    Some(Pipeline { env, key })
}

crate::on_both_engines!(with crate::destination_health::pipeline;
    mixed_outcomes_make_the_figures,
    windows_bad_input_unknown_ids_and_roles,
    test_sends_are_history_not_deliveries,
    retention_prunes_aggregates_and_test_sends,
);

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}")),
    )
}

async fn health(p: &Pipeline, id: i64, query: &str) -> Value {
    let (status, body) = json_of(
        p.api(
            Method::GET,
            &format!("/destinations/{id}/health{query}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn execute(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(pool, _) => sqlx::query(sql).execute(pool).await.map(drop),
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(p: &Pipeline, sql: &str) -> i64 {
    p.env
        .app
        .texts(&format!("SELECT CAST(({sql}) AS TEXT)"))
        .await[0]
        .parse()
        .unwrap()
}

/// Sends one event to the destination's rule and waits until its delivery ended.
async fn one_attempt(p: &Pipeline, id: i64, n: usize) {
    let status = p.post_events(event(&format!("h.{id}.{n}"))).await.status();
    assert_eq!(status, StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let all = p.deliveries(id).await;
        if all.len() == n && all.iter().all(|d| d.status.as_str() != "pending") {
            return;
        }
        assert!(Instant::now() < deadline, "not settled: {all:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn point_at(p: &Pipeline, id: i64, to: &str) {
    let r = p
        .api(
            Method::PATCH,
            &format!("/destinations/{id}"),
            Some(json!({ "url": to })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn mixed_outcomes_make_the_figures(p: &Pipeline) {
    let tls = &p.env.ca.tls;
    let unauthorized = receiver(
        tls,
        Behaviour {
            status: 401,
            ..Behaviour::default()
        },
    )
    .await;
    let once_500 = receiver(
        tls,
        Behaviour {
            fail_first: 1,
            ..Behaviour::default()
        },
    )
    .await;
    let slow = receiver(
        tls,
        Behaviour {
            delay: Duration::from_millis(320),
            ..Behaviour::default()
        },
    )
    .await;
    let (id, _) = p.route("Mixed", &unauthorized, "h.*").await;
    let fresh = health(p, id, "").await;
    assert_eq!(fresh["window"], "24h", "24h is the default");
    assert_eq!(fresh["attempts"], 0);
    assert!(
        fresh["success_rate"].is_null() && fresh["p50_ms"].is_null() && fresh["p95_ms"].is_null()
    );
    assert_eq!(fresh["state"], "healthy");

    // Two 401s, then a refused connection (nothing listens on port 9).
    one_attempt(p, id, 1).await;
    one_attempt(p, id, 2).await;
    let h = health(p, id, "").await;
    assert_eq!(
        (h["consecutive_failures"].as_i64(), h["state"].as_str()),
        (Some(2), Some("failing"))
    );
    assert!(h["last_error"].as_str().unwrap().contains("401"), "{h}");
    point_at(p, id, "https://localhost:9/hook").await;
    one_attempt(p, id, 3).await;
    let h = health(p, id, "").await;
    assert_eq!(h["consecutive_failures"], 3);
    assert!(
        !h["last_error"].as_str().unwrap().contains("401"),
        "the newest error: {h}"
    );
    assert!(h["last_error_at"].is_string());

    // A 500, then success: the count starts again, the last error stays.
    point_at(p, id, &url(&once_500, "localhost", "/hook")).await;
    one_attempt(p, id, 4).await;
    let h = health(p, id, "").await;
    assert_eq!(h["consecutive_failures"], 4);
    assert!(h["last_error"].as_str().unwrap().contains("500"), "{h}");
    one_attempt(p, id, 5).await;
    let h = health(p, id, "").await;
    assert_eq!(
        (h["consecutive_failures"].as_i64(), h["state"].as_str()),
        (Some(0), Some("healthy"))
    );
    assert!(
        h["last_error"].as_str().unwrap().contains("500"),
        "kept after a success: {h}"
    );

    // Two slow successes: over 320 ms, so in the bucket up to 500 ms.
    point_at(p, id, &url(&slow, "localhost", "/hook")).await;
    one_attempt(p, id, 6).await;
    one_attempt(p, id, 7).await;
    let h = health(p, id, "?window=24h").await;
    assert_eq!(
        (
            h["attempts"].as_i64(),
            h["succeeded"].as_i64(),
            h["failed"].as_i64()
        ),
        (Some(7), Some(3), Some(4))
    );
    let rate = h["success_rate"].as_f64().unwrap();
    assert!((rate - 3.0 / 7.0).abs() < 1e-9, "{rate}");
    assert_eq!(
        h["outcomes"],
        json!({"succeeded": 3, "http_4xx": 2, "http_5xx": 1, "timeout": 0, "network": 1, "other": 0})
    );
    // p95 is the slowest of seven: a slow one; p50 the fourth fastest: a quick failure.
    let p95 = h["p95_ms"].as_i64().unwrap();
    assert!(
        p95 == 500 || p95 == 750,
        "the bucket of 320 ms and a little more: {h}"
    );
    assert!(h["p50_ms"].as_i64().unwrap() <= 300, "{h}");
    // The aggregates agree with the attempts they summarise.
    let attempts = count(p, &format!(
        "SELECT COUNT(*) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.destination_id = {id}")).await;
    assert_eq!(attempts, 7);
    assert!(
        count(
            p,
            &format!("SELECT COUNT(*) FROM destination_stats WHERE destination_id = {id}")
        )
        .await
            <= 2
    );

    // The page draws it; the list shows the badge.
    let page = p
        .env
        .app
        .get(&p.env.editor, &format!("/alerts/destinations/{id}"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for text in [
        "Success rate",
        "42.9%",
        "Attempts by outcome",
        "class=\"chart outcomes\"",
        "class=\"chart latency\"",
        "Consecutive failures",
        "Recent deliveries",
        &format!("/alerts/deliveries?destination_id={id}"),
        "Test sends",
    ] {
        assert!(html.contains(text), "{text} not on the page");
    }
    // The page's header keeps its one state badge (auto-disable.spec.ts reads it).
    assert_eq!(html.matches("class=\"detail-header").count(), 1);
    let list = p
        .env
        .app
        .get(&p.env.editor, "/alerts/destinations")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("badge ok health"),
        "the Healthy badge: {list}"
    );

    // Disabled wins over everything.
    let r = p
        .api(
            Method::PATCH,
            &format!("/destinations/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(health(p, id, "").await["state"], "disabled");
    let list = p
        .env
        .app
        .get(&p.env.editor, "/alerts/destinations")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("\"badge health\"") && !list.contains("badge ok health"),
        "{list}"
    );
}

async fn windows_bad_input_unknown_ids_and_roles(p: &Pipeline) {
    let app = &p.env.app;
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (id, _) = p.route("Windows", &rx, "h.*").await;
    one_attempt(p, id, 1).await;
    // Three days ago: in the 7 d window, not in the 24 h one.
    let now = server::clock::now_ms();
    let hour = now - now % HOUR - 72 * HOUR;
    execute(app.services.db(), &format!(
        "INSERT INTO destination_stats (destination_id, hour, succeeded, failed_5xx, lat_05, lat_06) \
         VALUES ({id}, {hour}, 1, 3, 1, 3)")).await;
    let day = health(p, id, "?window=24h").await;
    assert_eq!(
        (day["attempts"].as_i64(), day["failed"].as_i64()),
        (Some(1), Some(0))
    );
    let week = health(p, id, "?window=7d").await;
    assert_eq!(week["window"], "7d");
    assert_eq!(
        (
            week["attempts"].as_i64(),
            week["succeeded"].as_i64(),
            week["failed"].as_i64()
        ),
        (Some(5), Some(2), Some(3))
    );
    assert_eq!(week["outcomes"]["http_5xx"], 3);
    // The median of [100, 150, 150, 150] and one real attempt is 150 wherever that one falls.
    assert_eq!(
        week["p50_ms"], 150,
        "lat_06 is the bucket up to 150 ms: {week}"
    );
    // Older than 7 days counts nowhere.
    execute(app.services.db(), &format!(
        "INSERT INTO destination_stats (destination_id, hour, failed_timeout, lat_19) VALUES ({id}, {}, 9, 9)",
        hour - 5 * 24 * HOUR)).await;
    assert_eq!(health(p, id, "?window=7d").await["attempts"], 5);
    // The page's 7 d view: daily bars.
    let html = app
        .get(
            &p.env.editor,
            &format!("/alerts/destinations/{id}?window=7d"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("per day") && html.contains("40.0%"),
        "7d page"
    );

    for bad in ["?window=1h", "?window=", "?window=7D"] {
        let (status, body) = json_of(
            p.api(
                Method::GET,
                &format!("/destinations/{id}/health{bad}"),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["field"], "window", "{bad}: {body}");
    }
    let (status, body) = json_of(
        p.api(Method::GET, "/destinations/999999/health", None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = json_of(p.api(Method::GET, "/destinations/abc/health", None).await).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("id"))
    );

    let actor = server::services::Actor::command_line();
    for (role, expected) in [
        ("viewer", StatusCode::OK),
        ("editor", StatusCode::OK),
        ("admin", StatusCode::OK),
        ("ingest", StatusCode::FORBIDDEN),
    ] {
        let key = app
            .services
            .create_api_key(&format!("k-{role}"), role, &actor)
            .await
            .unwrap()
            .secret;
        let r = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/destinations/{id}/health")))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected, "{role}");
    }
    let r = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/destinations/{id}/health")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A signed-in viewer reads the page's server function.
    let viewer = app.signed_in("viewer@example.com", "viewer").await;
    let r = app
        .call(
            &viewer,
            "destination_health",
            &[("id", &id.to_string()), ("window", "7d")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = app
        .call(
            &viewer,
            "destination_health",
            &[("id", &id.to_string()), ("window", "1y")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn test_sends_are_history_not_deliveries(p: &Pipeline) {
    let app = &p.env.app;
    let tls = &p.env.ca.tls;
    let ok = receiver(tls, Behaviour::default()).await;
    let refused = receiver(
        tls,
        Behaviour {
            status: 401,
            ..Behaviour::default()
        },
    )
    .await;
    let (id, _) = p.route("Tested", &ok, "h.*").await;
    let target = url(&ok, "localhost", "/hook");
    let id_text = id.to_string();
    // From the page (the editor), saved destination: recorded.
    let r = app
        .call(
            &p.env.editor,
            "submit_destination",
            &[
                ("form[name]", "Tested"),
                ("form[url]", &target),
                ("intent", "test"),
                ("id", &id_text),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // With the values on screen pointing elsewhere: recorded too, as failed.
    let elsewhere = url(&refused, "localhost", "/other");
    let r = app
        .call(
            &p.env.editor,
            "submit_destination",
            &[
                ("form[name]", "Tested"),
                ("form[url]", &elsewhere),
                ("intent", "test"),
                ("id", &id_text),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Not saved yet: nothing to attach it to.
    let r = app
        .call(
            &p.env.editor,
            "submit_destination",
            &[
                ("form[name]", "Unsaved"),
                ("form[url]", &target),
                ("intent", "test"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // From the API (a key).
    let (status, body) = json_of(
        p.api(Method::POST, &format!("/destinations/{id}/test"), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(count(p, "SELECT COUNT(*) FROM test_attempts").await, 3);
    assert_eq!(
        count(p, "SELECT COUNT(*) FROM attempts").await,
        0,
        "no delivery attempt"
    );
    assert_eq!(count(p, "SELECT COUNT(*) FROM deliveries").await, 0);
    assert!(
        p.deliveries(id).await.is_empty(),
        "not in the Deliveries tab"
    );
    let (_, listed) = json_of(
        p.api(
            Method::GET,
            &format!("/deliveries?destination_id={id}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(listed["items"], json!([]));
    let (_, alerts) = json_of(p.api(Method::GET, "/alerts", None).await).await;
    assert_eq!(
        alerts["items"],
        json!([]),
        "no alert, so no delivery status"
    );
    let h = health(p, id, "").await;
    assert_eq!(
        (h["attempts"].as_i64(), h["consecutive_failures"].as_i64()),
        (Some(0), Some(0))
    );
    assert!(
        h["last_error"].is_null(),
        "tests are not in the health figures: {h}"
    );

    let page = app
        .services
        .destination_health_page(id, Default::default())
        .await
        .unwrap();
    let tests = &page.tests;
    assert_eq!(tests.len(), 3);
    assert_eq!(
        (tests[0].by.as_deref(), tests[0].ok, tests[0].status),
        (Some("tests"), true, Some(200))
    );
    assert_eq!(
        (tests[1].by.as_deref(), tests[1].ok, tests[1].status),
        (Some("editor@example.com"), false, Some(401))
    );
    assert!(
        tests[1].summary.contains("401") && tests[1].error.is_some(),
        "{:?}",
        tests[1]
    );
    assert_eq!(
        (tests[2].ok, tests[2].status, tests[2].error.as_deref()),
        (true, Some(200), None)
    );
    // The page lists them, with who sent them.
    let html = app
        .get(&p.env.editor, &format!("/alerts/destinations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Test sends")
            && html.contains("editor@example.com")
            && html.contains("401 Unauthorized")
    );

    // A real delivery is counted; the tests still are not.
    one_attempt(p, id, 1).await;
    let h = health(p, id, "").await;
    assert_eq!(
        (h["attempts"].as_i64(), h["succeeded"].as_i64()),
        (Some(1), Some(1))
    );
}

async fn retention_prunes_aggregates_and_test_sends(p: &Pipeline) {
    let app = &p.env.app;
    let db = app.services.db();
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (id, _) = p.route("Pruned", &rx, "h.*").await;
    one_attempt(p, id, 1).await;
    let r = p
        .api(Method::POST, &format!("/destinations/{id}/test"), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let now = server::clock::now_ms();
    let old_hour = now - now % HOUR - 3 * HOUR;
    execute(db, &format!(
        "INSERT INTO destination_stats (destination_id, hour, succeeded, lat_00) VALUES ({id}, {old_hour}, 4, 4)")).await;
    execute(db, &format!(
        "INSERT INTO test_attempts (destination_id, started_at, duration_ms, actor_name, ok, summary) \
         VALUES ({id}, {}, 5, 'old', TRUE, '200 OK')", now - 2 * HOUR)).await;
    assert_eq!(count(p, "SELECT COUNT(*) FROM destination_stats").await, 2);
    assert_eq!(count(p, "SELECT COUNT(*) FROM test_attempts").await, 2);

    let (_stop, mut stopped) = tokio::sync::watch::channel(false);
    app.services.prune_history(&mut stopped).await.unwrap();
    assert_eq!(
        count(
            p,
            &format!("SELECT COUNT(*) FROM destination_stats WHERE hour = {old_hour}")
        )
        .await,
        0
    );
    assert_eq!(
        count(p, "SELECT COUNT(*) FROM destination_stats").await,
        1,
        "this hour's row stays"
    );
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM test_attempts WHERE actor_name = 'old'"
        )
        .await,
        0
    );
    assert_eq!(
        count(p, "SELECT COUNT(*) FROM test_attempts").await,
        1,
        "the recent test stays"
    );
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for table in ["destination_stats", "test_attempts"] {
        assert!(
            metrics.contains(&format!(
                "alertwire_pruned_rows_total{{table=\"{table}\"}} 1"
            )),
            "{table}: {metrics}"
        );
    }
    assert_eq!(health(p, id, "?window=7d").await["attempts"], 1);
}
