//! Live status: `GET /live/deliveries` streams delivery changes to signed-in
//! users, resumes from `Last-Event-ID`, refuses past its bound, ends at
//! shutdown, and sees changes made by another process on one Postgres.

use crate::helpers::{Engine, TestApp};
use crate::pipeline::{event, Pipeline};
use crate::processes::Site;
use crate::receivers::receiver;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use server::receiver::Behaviour;
use server::services::live::MAX_STREAMS;
use std::time::{Duration, Instant};

/// One server-sent event (or a message that only moves the position on).
#[derive(Debug, Default, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// An open event stream, read as a browser's `EventSource` reads it.
pub struct EventStream {
    response: Response,
    buffer: String,
}

impl EventStream {
    pub async fn open(client: &Client, url: &str, last_event_id: Option<&str>) -> EventStream {
        let response = Self::request(client, url, last_event_id).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(
            response.headers()[CONTENT_TYPE].to_str().unwrap(),
            "text/event-stream"
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    pub async fn request(client: &Client, url: &str, last_event_id: Option<&str>) -> Response {
        let mut request = client.get(url).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        request.send().await.unwrap()
    }

    /// The next message; `None` when the server ended the stream cleanly.
    pub async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut message = SseEvent::default();
                let mut fields = 0;
                for line in block.lines() {
                    let (name, value) = line.split_once(": ").unwrap_or((line, ""));
                    match name {
                        "id" => message.id = Some(value.to_owned()),
                        "event" => message.event = Some(value.to_owned()),
                        "data" => message.data.push_str(value),
                        _ => continue, // comments (keep-alive), retry
                    }
                    fields += 1;
                }
                if fields > 0 {
                    return Some(message);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("an event in time");
            match chunk.expect("the stream ends cleanly") {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                None => return None,
            }
        }
    }

    /// Reads until a `deliveries` event lists a delivery `wanted` accepts;
    /// returns that delivery and the id of the event.
    pub async fn until(
        &mut self,
        within: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> (Value, String) {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self.next(left).await.expect("the stream stays open");
            if message.event.as_deref() != Some("deliveries") {
                continue;
            }
            let body = message.json();
            if let Some(found) = body["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| wanted(d))
            {
                return (found.clone(), message.id.unwrap());
            }
        }
    }

    /// Every `deliveries` event for `span`.
    pub async fn collect(&mut self, span: Duration) -> Vec<Value> {
        let deadline = Instant::now() + span;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(next) = tokio::time::timeout(left, self.next(Duration::from_secs(60))).await
            else {
                break;
            };
            let message = next.expect("the stream stays open");
            if message.event.as_deref() == Some("deliveries") {
                seen.push(message.json());
            }
        }
        seen
    }

    /// The `ready` event that starts every stream; returns its id.
    pub async fn ready(&mut self) -> String {
        self.ready_event().await.id.unwrap()
    }

    pub async fn ready_event(&mut self) -> SseEvent {
        let first = self.next(Duration::from_secs(10)).await.unwrap();
        assert_eq!(first.event.as_deref(), Some("ready"), "{first:?}");
        first
    }
}

fn live(app: &TestApp, query: &str) -> String {
    app.url(&format!("/live/deliveries{query}"))
}

crate::on_both_engines!(with crate::pipeline::Pipeline::new;
    a_change_reaches_the_streams_that_show_it,
    a_new_stream_is_told_only_when_its_scope_last_changed,
    a_reconnect_resumes_from_its_last_event,
    a_stream_needs_a_session,
    past_the_bound_streams_are_refused,
    bad_queries_are_refused,
);

async fn a_change_reaches_the_streams_that_show_it(p: &Pipeline) {
    let app = &p.env.app;
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (dest, _) = p.route("Live", &rx, "*").await;
    let viewer = app.signed_in("viewer@example.com", "viewer").await;
    let mut all = EventStream::open(&viewer, &live(app, ""), None).await;
    let mut mine = EventStream::open(
        &viewer,
        &live(app, &format!("?destination_id={dest}")),
        None,
    )
    .await;
    let mut other = EventStream::open(&viewer, &live(app, "?destination_id=999999"), None).await;
    for stream in [&mut all, &mut mine, &mut other] {
        let id = stream.ready().await;
        assert!(id.parse::<i64>().unwrap() > 0, "the id is a position: {id}");
    }

    let posted = Instant::now();
    let response = p.post_events(event("db.public.orders")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let (delivered, id) = all
        .until(Duration::from_secs(10), |d| d["status"] == "delivered")
        .await;
    println!(
        "live status: delivered {:?} after the event was posted",
        posted.elapsed()
    );
    assert_eq!(delivered["destination_id"], dest);
    assert_eq!(delivered["attempts"], 1);
    assert_eq!(delivered["last_status"], 200);
    let updated_at = crate::helpers::epoch_ms(&delivered["updated_at"]);
    assert!(
        id.parse::<i64>().unwrap() >= updated_at - 3_000,
        "{id} vs {updated_at}"
    );
    let delivery = delivered["id"].as_i64().unwrap();
    let stored = app.services.delivery(delivery).await.unwrap();
    assert_eq!(stored.delivery.updated_at, updated_at);

    // A stream opened now is told when its scope last changed (a page that
    // loaded before that reloads); another destination's stream is not.
    let mut fresh = EventStream::open(
        &viewer,
        &live(app, &format!("?destination_id={dest}")),
        None,
    )
    .await;
    assert_eq!(fresh.ready_event().await.json()["latest"], updated_at);
    let mut elsewhere =
        EventStream::open(&viewer, &live(app, "?destination_id=999999"), None).await;
    assert_eq!(elsewhere.ready_event().await.json()["latest"], Value::Null);
    drop((fresh, elsewhere));

    // Each state is sent once, though every poll looks a few seconds back.
    let repeats: Vec<Value> = all
        .collect(Duration::from_secs(2))
        .await
        .into_iter()
        .filter(|e| {
            e["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["id"] == delivered["id"] && d["status"] == "delivered")
        })
        .collect();
    assert!(repeats.is_empty(), "sent again: {repeats:?}");

    // A write that commits after later ones (its updated_at is older than
    // what the stream already passed, by less than the look-back) still arrives.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let late = format!(
        "UPDATE deliveries SET last_status = 299, updated_at = {} WHERE id = {} AND $1 <> ''",
        now - 1_500,
        delivered["id"]
    );
    app.exec(&late, "x").await;
    all.until(Duration::from_secs(5), |d| {
        d["id"] == delivered["id"] && d["last_status"] == 299
    })
    .await;

    let (same, _) = mine
        .until(Duration::from_secs(10), |d| d["status"] == "delivered")
        .await;
    assert_eq!(same["id"], delivery);
    // A stream of another destination hears nothing of it.
    assert!(other.collect(Duration::from_secs(1)).await.is_empty());

    // One delivery's stream: a redelivery shows pending, then delivered again.
    let mut one = EventStream::open(
        &viewer,
        &live(app, &format!("?delivery_id={delivery}")),
        None,
    )
    .await;
    one.ready().await;
    app.services
        .redeliver(&server::services::Actor::command_line(), delivery)
        .await
        .unwrap();
    let (again, _) = one
        .until(Duration::from_secs(10), |d| {
            d["status"] == "delivered" && d["attempts"] == 2
        })
        .await;
    assert_eq!(again["id"], delivery);
}

async fn a_new_stream_is_told_only_when_its_scope_last_changed(p: &Pipeline) {
    let app = &p.env.app;
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (dest, _) = p.route("Recent", &rx, "*").await;
    let viewer = app.signed_in("viewer@example.com", "viewer").await;
    assert_eq!(
        p.post_events(event("db.public.orders")).await.status(),
        StatusCode::ACCEPTED
    );
    let settled = p
        .settled(dest, 1, "delivered", Duration::from_secs(10))
        .await;

    // The first stream starts the poller a moment after the change: it is
    // told when its scope last changed, not sent the change again (its page
    // decides whether its data is older).
    let mut stream = EventStream::open(&viewer, &live(app, ""), None).await;
    let ready = stream.ready_event().await;
    assert_eq!(ready.json()["latest"], settled[0].delivery.updated_at);
    let sent = stream.collect(Duration::from_millis(1_500)).await;
    assert!(sent.is_empty(), "{sent:?}");
}

async fn a_reconnect_resumes_from_its_last_event(p: &Pipeline) {
    let app = &p.env.app;
    let rx = receiver(&p.env.ca.tls, Behaviour::default()).await;
    let (dest, _) = p.route("Resume", &rx, "*").await;
    let viewer = app.signed_in("viewer@example.com", "viewer").await;
    let scoped = live(app, &format!("?destination_id={dest}"));

    // A stream that went away before the change...
    let mut first = EventStream::open(&viewer, &scoped, None).await;
    let last_id = first.ready().await;
    drop(first);
    assert_eq!(
        p.post_events(event("db.public.orders")).await.status(),
        StatusCode::ACCEPTED
    );
    let settled = p
        .settled(dest, 1, "delivered", Duration::from_secs(10))
        .await;
    let delivery = settled[0].delivery.id;
    // ...and the change aged past what a fresh stream is told (its last seconds).
    age_changes(app, 60_000).await;
    let last_id = (last_id.parse::<i64>().unwrap() - 60_000).to_string();

    // The reconnect (Last-Event-ID) is told what it missed.
    let mut resumed = EventStream::open(&viewer, &scoped, Some(&last_id)).await;
    resumed.ready().await;
    let (missed, _) = resumed
        .until(Duration::from_secs(5), |d| d["id"] == delivery)
        .await;
    assert_eq!(missed["status"], "delivered");

    // A page that opens a new stream after a refusal passes the id in the query.
    let mut reopened =
        EventStream::open(&viewer, &format!("{scoped}&last_event_id={last_id}"), None).await;
    reopened.ready().await;
    reopened
        .until(Duration::from_secs(5), |d| d["id"] == delivery)
        .await;

    // A fresh stream is not: that change is older than its page.
    let mut fresh = EventStream::open(&viewer, &scoped, None).await;
    assert_eq!(fresh.ready_event().await.json()["latest"], Value::Null);
    assert!(fresh.collect(Duration::from_secs(1)).await.is_empty());

    // A gap longer than the stream keeps asks the page to reload.
    let mut stale = EventStream::open(&viewer, &scoped, Some("1000")).await;
    stale.ready().await;
    let reload = stale.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(reload.event.as_deref(), Some("deliveries"));
    assert_eq!(reload.json()["complete"], false);
}

/// Moves every delivery's last change `ms` into the past.
async fn age_changes(app: &TestApp, ms: i64) {
    let sql = format!("UPDATE deliveries SET updated_at = updated_at - {ms} WHERE $1 <> ''");
    app.exec(&sql, "x").await;
}

async fn a_stream_needs_a_session(p: &Pipeline) {
    let app = &p.env.app;
    app.create_user("admin@example.com", "admin").await;
    let anonymous = TestApp::browser();
    let response = EventStream::request(&anonymous, &live(app, ""), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    // Signed out: refused again; pages still send the browser to sign-in.
    let viewer = app.signed_in("viewer@example.com", "viewer").await;
    EventStream::open(&viewer, &live(app, ""), None)
        .await
        .ready()
        .await;
    assert!(app.call(&viewer, "logout", &[]).await.status().is_success());
    let response = EventStream::request(&viewer, &live(app, ""), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let page = app.get(&anonymous, "/alerts/deliveries").await;
    assert!(page.status().is_redirection());
    assert_eq!(crate::helpers::location(&page), "/login");
}

async fn bad_queries_are_refused(p: &Pipeline) {
    let app = &p.env.app;
    let viewer = app.signed_in("viewer@example.com", "viewer").await;
    for (query, field) in [
        ("?destination_id=abc", "destination_id"),
        ("?delivery_id=0", "delivery_id"),
        ("?destination_id=1&delivery_id=2", "delivery_id"),
        ("?last_event_id=yesterday", "last_event_id"),
    ] {
        let response = EventStream::request(&viewer, &live(app, query), None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    let response = EventStream::request(&viewer, &live(app, ""), Some("-5")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.services.live().open_streams(), 0);
}

async fn past_the_bound_streams_are_refused(p: &Pipeline) {
    let app = &p.env.app;
    let viewer = app.signed_in("viewer@example.com", "viewer").await;
    let mut open = Vec::new();
    for _ in 0..MAX_STREAMS {
        open.push(EventStream::open(&viewer, &live(app, ""), None).await);
    }
    assert_eq!(app.services.live().open_streams(), MAX_STREAMS);
    let refused = EventStream::request(&viewer, &live(app, ""), None).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry: u64 = refused.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "busy");
    // The streams already open go on.
    open[0].ready().await;

    // A stream the browser closes frees its place.
    open.truncate(MAX_STREAMS - 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = EventStream::request(&viewer, &live(app, ""), None).await;
        if response.status() == StatusCode::OK {
            break;
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            Instant::now() < deadline,
            "the closed stream's place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn streams_end_cleanly_at_shutdown() {
    crate::helpers::runtime().block_on(async {
        let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
        let viewer = app.signed_in("viewer@example.com", "viewer").await;
        let mut stream = EventStream::open(&viewer, &live(&app, ""), None).await;
        stream.ready().await;
        let asked = Instant::now();
        drop(app);
        // The body ends (a clean end, not a dropped connection) well before
        // the server's one-second grace for requests left open.
        loop {
            if stream.next(Duration::from_secs(5)).await.is_none() {
                break;
            }
        }
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
    });
}

/// Two real processes on one Postgres: a page open on one sees what the other
/// process queued, and SIGTERM ends the stream and the process promptly.
#[test]
fn a_stream_sees_the_changes_of_another_process() {
    crate::helpers::runtime().block_on(async {
        let Some(site) = Site::new(Engine::Postgres).await else {
            return;
        };
        let rx = receiver(&site.ca.tls, Behaviour::default()).await;
        let a = site.start().await;
        let b = site.start().await;
        let made = site
            .command()
            .args(["create-user", "--email", "viewer@example.com", "--role", "viewer"])
            .env("ALERTWIRE_PASSWORD", crate::helpers::PASSWORD)
            .output()
            .await
            .unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let viewer = TestApp::browser();
        let login = viewer
            .post(format!("{}/fn/login", a.base))
            .header("origin", &a.base)
            .form(&[("email", "viewer@example.com"), ("password", crate::helpers::PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(login.status().is_success(), "{}", login.status());
        let mut stream = EventStream::open(&viewer, &format!("{}/live/deliveries", a.base), None).await;
        stream.ready().await;

        site.routes(&b.base, &rx, 1).await;
        let posted = Instant::now();
        site.api(
            &b.base,
            reqwest::Method::POST,
            "/events",
            Some(json!({"type": "schema_change", "asset": {"qualified_name": "db.t", "asset_type": "table"}})),
        )
        .await;
        let (queued, _) = stream.until(Duration::from_secs(10), |_| true).await;
        println!(
            "live status: another process's new delivery reached the stream in {:?}",
            posted.elapsed()
        );
        if queued["status"] != "delivered" {
            stream
                .until(Duration::from_secs(10), |d| d["id"] == queued["id"] && d["status"] == "delivered")
                .await;
        }

        let asked = Instant::now();
        crate::processes::kill(&a, "-TERM").await;
        while stream.next(Duration::from_secs(5)).await.is_some() {}
        let mut a = a;
        let status = tokio::time::timeout(Duration::from_secs(10), a.child.wait())
            .await
            .expect("the process exits")
            .unwrap();
        assert!(status.success(), "{status}");
        println!("live status: SIGTERM with a stream open: exited in {:?}", asked.elapsed());
        assert!(asked.elapsed() < Duration::from_secs(5), "{:?}", asked.elapsed());
    });
}
