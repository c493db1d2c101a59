//! Reads what a handler left of a request's body before its answer goes out.
//!
//! A handler that refuses a request before reading its body (a wrong API key,
//! an unknown route, a bad path or query, a body over its limit) drops the
//! body. hyper then closes the connection with the client's bytes unread, and
//! the kernel answers those bytes with a reset that can destroy the answer
//! before the client reads it: the client saw "connection reset" instead of
//! the 401 that says what is wrong (three of 1,000,000 cases of the HTTP fuzz
//! run, RELIABILITY.md section 1). Reading the rest, up to `MAX_DRAIN` bytes
//! within `DRAIN_TIME`, keeps both the answer and the connection. Past either
//! bound the answer says `Connection: close`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONNECTION;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Body as _, Bytes, Frame, SizeHint};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The most of a refused body read on: twice the largest body a route takes.
pub const MAX_DRAIN: u64 = 16 << 20;
/// How long a refused body is read on.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Where a body dropped before its end is left for `drain_unread`.
type Slot = Arc<Mutex<Option<Body>>>;

pub async fn drain_unread(request: Request, next: Next) -> Response {
    let slot = Slot::default();
    let request = request.map(|body| {
        Body::new(Watched {
            inner: Some(body),
            ended: false,
            slot: slot.clone(),
        })
    });
    let mut response = next.run(request).await;
    let left = slot.lock().ok().and_then(|mut left| left.take());
    if let Some(body) = left {
        if !drain(body).await {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
    }
    response
}

/// Reads and drops the rest of `body`; whether it ended within the bounds.
async fn drain(mut body: Body) -> bool {
    let read = async {
        let mut total = 0u64;
        loop {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                None => return true,
                Some(Err(_)) => return false,
                Some(Ok(frame)) => {
                    total += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if total > MAX_DRAIN {
                        return false;
                    }
                }
            }
        }
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}

/// A request body that, dropped before its end, leaves itself in the slot.
struct Watched {
    inner: Option<Body>,
    ended: bool,
    slot: Slot,
}

impl hyper::body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        // A broken body cannot be read on either.
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |inner| inner.size_hint())
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.ended || self.is_end_stream() {
            return;
        }
        if let (Some(inner), Ok(mut slot)) = (self.inner.take(), self.slot.lock()) {
            *slot = Some(inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn body_of(chunks: usize, chunk: usize) -> Body {
        let chunks = (0..chunks).map(move |_| Ok::<_, Infallible>(Bytes::from(vec![b' '; chunk])));
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    #[tokio::test]
    async fn a_body_within_the_bound_is_read_to_its_end() {
        assert!(drain(body_of(16, 1 << 20)).await, "16 MiB: read");
    }

    #[tokio::test]
    async fn a_body_past_the_bound_is_given_up() {
        assert!(!drain(body_of(17, 1 << 20)).await, "17 MiB: given up");
    }

    #[tokio::test]
    async fn only_a_body_dropped_before_its_end_is_left_to_drain() {
        let watched = |body| {
            let slot = Slot::default();
            let watched = Watched {
                inner: Some(body),
                ended: false,
                slot: slot.clone(),
            };
            (watched, slot)
        };
        let (unread, slot) = watched(body_of(2, 10));
        drop(unread);
        assert!(slot.lock().unwrap().is_some(), "unread: left to drain");

        let (empty, slot) = watched(Body::empty());
        drop(empty);
        assert!(slot.lock().unwrap().is_none(), "no body: nothing to drain");

        let (read, slot) = watched(body_of(2, 10));
        let mut body = Body::new(read);
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            frame.unwrap();
        }
        drop(body);
        assert!(
            slot.lock().unwrap().is_none(),
            "read to the end: nothing to drain"
        );
    }
}
