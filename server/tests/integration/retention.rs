//! Retention (`ALERTWIRE_RETENTION`): finished deliveries, their attempts,
//! alerts and events left without one, expired dedup keys and audit entries
//! older than the window are removed; pending deliveries and everything
//! recent stay; `/metrics` counts what was removed; the deletes use indexes.

use crate::destinations::Env;
use crate::helpers::{Engine, TestApp};
use crate::pipeline::{event, Pipeline};
use crate::receivers::receiver;
use app::error::AppError;
use reqwest::StatusCode;
use serde_json::json;
use server::receiver::Behaviour;
use server::store::retention::Removed;
use server::store::Db;
use std::time::{Duration, Instant};

const HOURS_2: i64 = 2 * 3600 * 1000;

/// A pipeline whose failed first attempts wait an hour for their retry
/// (so they stay pending), with the given retention window.
async fn pipeline(engine: Engine, retention: &str) -> Option<Pipeline> {
    let retention = retention.to_owned();
    let env = Env::with(engine, move |s| {
        s.retry_schedule = "0ms,1h".into();
        s.retention = retention;
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

async fn one_hour(engine: Engine) -> Option<Pipeline> {
    pipeline(engine, "1h").await
}

async fn two_seconds(engine: Engine) -> Option<Pipeline> {
    pipeline(engine, "2s").await
}

mod window {
    crate::on_both_engines!(with super::one_hour;
        old_finished_history_goes_and_pending_and_recent_stay,
        the_prune_queries_use_indexes,
        the_deliveries_tab_says_how_long_history_is_kept,
    );
    use super::*;
}

mod task {
    crate::on_both_engines!(with super::two_seconds;
        the_background_task_prunes_a_short_window,
    );
    use super::*;
}

/// Runs a statement without parameters.
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

async fn metrics(p: &Pipeline) -> String {
    let r = reqwest::get(p.env.app.url("/metrics")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

fn pruned(text: &str, table: &str) -> u64 {
    let prefix = format!("alertwire_pruned_rows_total{{table=\"{table}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix}in\n{text}"))
        .parse()
        .unwrap()
}

async fn old_finished_history_goes_and_pending_and_recent_stay(p: &Pipeline) {
    let app = &p.env.app;
    let db = app.services.db();
    let ok = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let gone = receiver(
        &p.env.ca.tls,
        Behaviour {
            status: 410,
            ..Behaviour::default()
        },
    )
    .await;
    let down = receiver(
        &p.env.ca.tls,
        Behaviour {
            status: 500,
            ..Behaviour::default()
        },
    )
    .await;
    let (delivered_to, _) = p.route("Delivered", &ok, "a.*").await;
    let (failed_to, _) = p.route("Failed", &gone, "f.*").await;
    let (pending_to, _) = p.route("Pending", &down, "p.*").await;
    // A rule whose only destination is disabled raises alerts without a delivery.
    let (disabled, _) = p.route("Disabled", &ok, "z.*").await;
    let r = p
        .api(
            reqwest::Method::PATCH,
            &format!("/destinations/{disabled}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    for name in ["a.old", "f.old", "p.old", "z.old", "nothing.matches"] {
        assert_eq!(
            p.post_events(event(name)).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let mut keyed = event("nothing.keyed");
    keyed["dedup_key"] = json!("old-key");
    assert_eq!(p.post_events(keyed).await.status(), StatusCode::ACCEPTED);
    let old_delivered = p
        .settled(delivered_to, 1, "delivered", Duration::from_secs(10))
        .await;
    let old_failed = p
        .settled(failed_to, 1, "failed", Duration::from_secs(10))
        .await;
    // The first attempt failed; its retry is an hour away.
    let deadline = Instant::now() + Duration::from_secs(10);
    let pending = loop {
        let d = p.deliveries(pending_to).await;
        if d.len() == 1 && d[0].attempts == 1 {
            break d[0].clone();
        }
        assert!(Instant::now() < deadline, "{d:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(pending.status.as_str(), "pending");

    // Everything so far happened two hours ago; the dedup key expired.
    for sql in [
        format!("UPDATE deliveries SET created_at = created_at - {HOURS_2}, updated_at = updated_at - {HOURS_2}"),
        format!("UPDATE alerts SET created_at = created_at - {HOURS_2}"),
        format!("UPDATE events SET received_at = received_at - {HOURS_2}"),
        format!("UPDATE dedup_keys SET expires_at = expires_at - 2 * {HOURS_2} * 12"),
        format!("UPDATE audit_log SET at = at - {HOURS_2}"),
    ] {
        execute(db, &sql).await;
    }
    let old_audit = count(p, "SELECT COUNT(*) FROM audit_log").await;
    assert!(old_audit >= 5, "setup was audited: {old_audit}");

    // And now, recent history.
    assert_eq!(
        p.post_events(event("a.new")).await.status(),
        StatusCode::ACCEPTED
    );
    let both = p
        .settled(delivered_to, 2, "delivered", Duration::from_secs(10))
        .await;
    let recent = both
        .iter()
        .find(|d| d.delivery.id != old_delivered[0].delivery.id)
        .unwrap()
        .clone();
    let r = p
        .api(
            reqwest::Method::PATCH,
            &format!("/destinations/{disabled}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "one recent audit entry");

    let before = metrics(p).await;
    let (_stop, mut stopped) = tokio::sync::watch::channel(false);
    let removed = app.services.prune_history(&mut stopped).await.unwrap();
    assert_eq!(
        removed,
        Removed {
            deliveries: 2,
            attempts: 2,
            // a.old's and f.old's, and z.old's that never had a delivery.
            alerts: 3,
            // Those three alerts' events, the one no rule matched, the keyed one.
            events: 5,
            dedup_keys: 1,
        }
    );

    for (what, id) in [
        ("the old delivered delivery", old_delivered[0].delivery.id),
        ("the old failed delivery", old_failed[0].delivery.id),
    ] {
        assert!(
            matches!(app.services.delivery(id).await, Err(AppError::NotFound(_))),
            "{what} was removed"
        );
        assert_eq!(
            count(
                p,
                &format!("SELECT COUNT(*) FROM attempts WHERE delivery_id = {id}")
            )
            .await,
            0,
            "{what}'s attempts were removed"
        );
    }
    for alert in [
        &old_delivered[0].delivery.alert_id,
        &old_failed[0].delivery.alert_id,
    ] {
        assert!(matches!(
            app.services.alert(alert).await,
            Err(AppError::NotFound(_))
        ));
    }
    // The pending delivery stays, old as it is, with its attempt, alert and event.
    let kept = app.services.delivery(pending.id).await.unwrap();
    assert_eq!(kept.delivery.status.as_str(), "pending");
    assert_eq!(kept.attempts.len(), 1);
    assert!(app.services.alert(&pending.alert_id).await.is_ok());
    // The recent delivery stays whole.
    let fresh = app.services.delivery(recent.delivery.id).await.unwrap();
    assert_eq!(fresh.attempts.len(), 1);
    assert!(app.services.alert(&recent.delivery.alert_id).await.is_ok());
    assert_eq!(count(p, "SELECT COUNT(*) FROM alerts").await, 2);
    assert_eq!(count(p, "SELECT COUNT(*) FROM events").await, 2);
    assert_eq!(count(p, "SELECT COUNT(*) FROM dedup_keys").await, 0);
    // Old audit entries went, the recent one stayed.
    assert_eq!(count(p, "SELECT COUNT(*) FROM audit_log").await, 1);

    let after = metrics(p).await;
    for (table, n) in [
        ("deliveries", 2),
        ("attempts", 2),
        ("alerts", 3),
        ("events", 5),
        ("dedup_keys", 1),
        ("audit_log", old_audit as u64),
    ] {
        assert_eq!(
            pruned(&after, table) - pruned(&before, table),
            n,
            "{table}:\n{after}"
        );
    }

    // Nothing is left to remove: a second run removes nothing.
    let again = app.services.prune_history(&mut stopped).await.unwrap();
    assert_eq!(again, Removed::default());
}

async fn the_background_task_prunes_a_short_window(p: &Pipeline) {
    let app = &p.env.app;
    let ok = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let down = receiver(
        &p.env.ca.tls,
        Behaviour {
            status: 500,
            ..Behaviour::default()
        },
    )
    .await;
    let (delivered_to, _) = p.route("Delivered", &ok, "a.*").await;
    let (pending_to, _) = p.route("Pending", &down, "p.*").await;
    p.post_events(json!([event("a.1"), event("p.1")])).await;
    let delivered = p
        .settled(delivered_to, 1, "delivered", Duration::from_secs(10))
        .await;
    let id = delivered[0].delivery.id;
    // The task runs every second and removes what finished over two seconds ago.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // One pass removes deliveries first and audit entries last: read the
        // counters once the pass that removed this delivery has finished.
        let gone = matches!(app.services.delivery(id).await, Err(AppError::NotFound(_)));
        let text = metrics(p).await;
        if gone && pruned(&text, "audit_log") >= 1 {
            assert!(pruned(&text, "deliveries") >= 1, "{text}");
            assert!(pruned(&text, "attempts") >= 1, "{text}");
            assert!(pruned(&text, "alerts") >= 1, "{text}");
            assert!(
                pruned(&text, "audit_log") >= 1,
                "the setup's entries: {text}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "not pruned in time:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The pending delivery is older than the window and stays, with its alert.
    let pending = p.deliveries(pending_to).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status.as_str(), "pending");
    assert!(app.services.alert(&pending[0].alert_id).await.is_ok());
}

/// The plan of `sql` as text: SQLite's EXPLAIN QUERY PLAN, or Postgres's
/// EXPLAIN with sequential scans discouraged (tiny tables are otherwise scanned).
async fn plan(db: &Db, sql: &str) -> String {
    match db {
        Db::Sqlite(pool, _) => {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(pool)
                    .await
                    .unwrap();
            rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await.unwrap();
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await
                .unwrap();
            let rows: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN {sql}"))
                .fetch_all(&mut *conn)
                .await
                .unwrap();
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *conn)
                .await
                .unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
        }
    }
}

async fn the_prune_queries_use_indexes(p: &Pipeline) {
    let db = p.env.app.services.db();
    let finished = if p.env.engine == Engine::Sqlite {
        // As the store writes it for SQLite (see `store::retention`).
        "SELECT id, alert_id FROM deliveries INDEXED BY deliveries_finished \
         WHERE status IN ('delivered', 'failed') AND updated_at < 5 ORDER BY updated_at LIMIT 100"
    } else {
        "SELECT id, alert_id FROM deliveries WHERE status IN ('delivered', 'failed') AND updated_at < 5 \
         ORDER BY updated_at LIMIT 100"
    };
    let mut failures = Vec::new();
    for (sql, index) in [
        (finished, "deliveries_finished"),
        ("SELECT id FROM attempts WHERE delivery_id IN (1, 2)", "attempts_by_delivery"),
        (
            "SELECT a.created_at, a.id FROM alerts a WHERE a.created_at < 5 AND a.created_at >= 1 \
             AND (a.created_at > 1 OR a.id > 1) ORDER BY a.created_at, a.id LIMIT 500",
            "alerts_by_time",
        ),
        ("SELECT 1 FROM deliveries d WHERE d.alert_id = 3", "deliveries_by_alert"),
        (
            "SELECT e.received_at, e.id FROM events e WHERE e.received_at < 5 AND e.received_at >= 1 \
             AND (e.received_at > 1 OR e.id > 1) ORDER BY e.received_at, e.id LIMIT 500",
            "events_by_time",
        ),
        ("SELECT 1 FROM alerts a WHERE a.event_id = 3", "alerts_by_event"),
        ("SELECT 1 FROM dedup_keys k WHERE k.event_id = 3", "dedup_keys_by_event"),
        (
            "SELECT dedup_key FROM dedup_keys WHERE expires_at < 5 ORDER BY expires_at LIMIT 500",
            "dedup_keys_by_expiry",
        ),
        (
            "SELECT id FROM audit_log WHERE at < 5 ORDER BY at LIMIT 500",
            "audit_log_by_time",
        ),
        (
            "SELECT id FROM audit_log WHERE actor_kind = 'user' AND actor_id = 1 ORDER BY id DESC LIMIT 50",
            "audit_log_by_actor",
        ),
        (
            "SELECT id FROM audit_log WHERE object_kind = 'rule' AND object_id = 1 ORDER BY id DESC LIMIT 50",
            "audit_log_by_object",
        ),
    ] {
        let plan = plan(db, sql).await;
        if !plan.contains(index) {
            failures.push(format!("{sql}\nuses no {index}:\n{plan}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

async fn the_deliveries_tab_says_how_long_history_is_kept(p: &Pipeline) {
    let app = &p.env.app;
    for path in ["/alerts/deliveries", "/alerts/deliveries?view=alerts"] {
        let r = app.get(&p.env.editor, path).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("History is kept for 1 hour."),
            "{path}:\n{html}"
        );
    }
    let r = app.call(&p.env.editor, "history_kept", &[]).await;
    assert_eq!(r.json::<u64>().await.unwrap(), 3_600_000);
    let r = app.call(&TestApp::browser(), "history_kept", &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "signed-in people only"
    );
}
