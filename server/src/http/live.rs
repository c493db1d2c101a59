//! `GET /live/deliveries`: server-sent events for the pages that show
//! deliveries (the Deliveries tab, a delivery's page, a destination's page),
//! for a signed-in user of any role. `?destination_id=` or `?delivery_id=`
//! narrows the stream to what one page shows.
//!
//! Events: first `ready` (its id is where the stream starts; data
//! `{"latest": ms | null}`, for a new stream the time of the latest change in
//! scope in the last 5 s, which its page compares with its data's age), then
//! `deliveries` with `{"deliveries": [{id, destination_id, status, attempts,
//! last_status, updated_at}], "complete": bool}` whenever deliveries in scope
//! change (`complete: false`: some changes may be missing, reload the view).
//! Every event has an `id:`; a browser that reconnects sends it back as
//! `Last-Event-ID` (or `?last_event_id=` when a page opens a new stream after
//! a refusal) and first gets what changed since. Messages with only an `id:`
//! carry the position on while nothing in scope changes; comments keep the
//! connection alive. Past `MAX_STREAMS` open streams the answer is 503 with
//! `Retry-After`; without a session, 401; at shutdown every stream ends.

use super::api::error::error_response;
use crate::services::live::{Batch, Refused, Scope, Subscription};
use crate::services::Services;
use app::domain::Role;
use app::format::rfc3339_millis;
use app::model::CurrentUser;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::time::Duration;

pub const PATH: &str = "/live/deliveries";
/// A comment this often keeps proxies from closing a quiet stream, and finds
/// a browser that went away.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long a browser waits before it reconnects a stream that ended.
const RECONNECT: Duration = Duration::from_secs(2);
/// A refused stream may be tried again after this long.
const RETRY_AFTER_SECS: u64 = 10;

/// The query as given: ids are checked here, so a bad one gets a clear message.
#[derive(Debug, Default, Deserialize)]
pub struct LiveQuery {
    destination_id: Option<String>,
    delivery_id: Option<String>,
    last_event_id: Option<String>,
}

#[derive(Serialize)]
struct DeliveriesEvent<'a> {
    deliveries: Vec<LiveDelivery<'a>>,
    complete: bool,
}

#[derive(Serialize)]
struct LiveDelivery<'a> {
    id: i64,
    destination_id: i64,
    status: &'a crate::services::live::ShownStatus,
    attempts: i64,
    last_status: Option<i64>,
    updated_at: String,
}

/// A query value that is not what the stream takes, with the field it names.
#[derive(Debug)]
struct BadParam {
    field: &'static str,
    message: String,
}

impl BadParam {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        BadParam {
            field,
            message: message.into(),
        }
    }

    fn response(&self) -> Response {
        error_response(
            StatusCode::BAD_REQUEST,
            "invalid",
            &self.message,
            Some(self.field),
        )
    }
}

fn id_param(value: Option<&str>, field: &'static str) -> Result<Option<i64>, BadParam> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Some)
            .ok_or_else(|| {
                BadParam::new(field, format!("{field} must be a positive whole number"))
            }),
    }
}

/// What the stream follows, from the query.
fn scope(query: &LiveQuery) -> Result<Scope, BadParam> {
    let destination = id_param(query.destination_id.as_deref(), "destination_id")?;
    let delivery = id_param(query.delivery_id.as_deref(), "delivery_id")?;
    match (destination, delivery) {
        (None, None) => Ok(Scope::All),
        (Some(id), None) => Ok(Scope::Destination(id)),
        (None, Some(id)) => Ok(Scope::Delivery(id)),
        (Some(_), Some(_)) => Err(BadParam::new(
            "delivery_id",
            "Give destination_id or delivery_id, not both",
        )),
    }
}

/// Where to resume from: the `Last-Event-ID` header a reconnecting browser
/// sends, else `?last_event_id=`.
fn resume_from(headers: &HeaderMap, query: &LiveQuery) -> Result<Option<i64>, BadParam> {
    let raw = match headers.get("last-event-id") {
        Some(value) => Some(value.to_str().unwrap_or("x").to_owned()),
        None => query.last_event_id.clone(),
    };
    match raw.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|at| *at >= 0)
            .map(Some)
            .ok_or_else(|| {
                BadParam::new(
                    "last_event_id",
                    "Last-Event-ID must be the id of an event this stream sent",
                )
            }),
    }
}

pub async fn deliveries(
    State(services): State<Services>,
    user: Option<Extension<CurrentUser>>,
    headers: HeaderMap,
    query: Result<Query<LiveQuery>, QueryRejection>,
) -> Response {
    let Some(Extension(user)) = user else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Sign in to follow live status",
            None,
        );
    };
    if !user.role.at_least(Role::Viewer) {
        return error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You do not have permission to do that",
            None,
        );
    }
    let Ok(Query(query)) = query else {
        return BadParam::new("query", "The query string could not be read").response();
    };
    let (scope, resume) = match (scope(&query), resume_from(&headers, &query)) {
        (Ok(scope), Ok(resume)) => (scope, resume),
        (Err(bad), _) | (_, Err(bad)) => return bad.response(),
    };
    match services.live().subscribe(scope, resume).await {
        Ok(subscription) => {
            let mut response = Sse::new(events(subscription))
                .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
                .into_response();
            // Proxies that buffer responses (nginx) would hold events back.
            response
                .headers_mut()
                .insert("x-accel-buffering", HeaderValue::from_static("no"));
            response
        }
        Err(Refused::Full) => busy("Too many live streams are open; try again shortly"),
        Err(Refused::Closing) => busy("The server is shutting down"),
    }
}

fn busy(message: &str) -> Response {
    let mut response = error_response(StatusCode::SERVICE_UNAVAILABLE, "busy", message, None);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// `ready`, then a message per batch until the subscription ends.
fn events(subscription: Subscription) -> impl Stream<Item = Result<Event, Infallible>> {
    let latest = match subscription.latest() {
        Some(at) => at.to_string(),
        None => "null".into(),
    };
    let ready = Event::default()
        .event("ready")
        .id(subscription.cursor().to_string())
        .retry(RECONNECT)
        .data(format!("{{\"latest\":{latest}}}"));
    stream::once(async move { Ok(ready) }).chain(stream::unfold(
        subscription,
        |mut subscription| async move {
            let batch = subscription.next().await?;
            Some((Ok(message(&batch)), subscription))
        },
    ))
}

/// A `deliveries` event, or only the position when there is nothing to tell.
fn message(batch: &Batch) -> Event {
    let id = Event::default().id(batch.cursor.to_string());
    if batch.changes.is_empty() && batch.complete {
        return id;
    }
    let body = DeliveriesEvent {
        deliveries: batch
            .changes
            .iter()
            .map(|c| LiveDelivery {
                id: c.id,
                destination_id: c.destination_id,
                status: &c.status,
                attempts: c.attempts,
                last_status: c.last_status,
                updated_at: rfc3339_millis(c.updated_at),
            })
            .collect(),
        complete: batch.complete,
    };
    match serde_json::to_string(&body) {
        Ok(json) => id.event("deliveries").data(json),
        // Never for this shape; the page reloads on an incomplete event.
        Err(_) => id
            .event("deliveries")
            .data("{\"deliveries\":[],\"complete\":false}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> LiveQuery {
        let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let uri: axum::http::Uri = format!("{PATH}?{}", text.join("&")).parse().unwrap();
        Query::<LiveQuery>::try_from_uri(&uri).unwrap().0
    }

    #[test]
    fn the_query_names_one_scope() {
        assert_eq!(scope(&query(&[])).unwrap(), Scope::All);
        assert_eq!(
            scope(&query(&[("destination_id", "4")])).unwrap(),
            Scope::Destination(4)
        );
        assert_eq!(
            scope(&query(&[("delivery_id", "9")])).unwrap(),
            Scope::Delivery(9)
        );
        assert_eq!(
            scope(&query(&[("destination_id", "")])).unwrap(),
            Scope::All
        );
        for bad in [
            vec![("destination_id", "x")],
            vec![("delivery_id", "-1")],
            vec![("destination_id", "1"), ("delivery_id", "2")],
        ] {
            let response = scope(&query(&bad)).unwrap_err().response();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn the_header_wins_over_the_query() {
        let mut headers = HeaderMap::new();
        let q = query(&[("last_event_id", "5")]);
        assert_eq!(resume_from(&headers, &q).unwrap(), Some(5));
        headers.insert("last-event-id", HeaderValue::from_static("7"));
        assert_eq!(resume_from(&headers, &q).unwrap(), Some(7));
        headers.insert("last-event-id", HeaderValue::from_static("soon"));
        assert!(resume_from(&headers, &q).is_err());
    }
}
