//! What the sending side reads from receivers (`Retry-After`), and the
//! signature verifier of `server receive`.

use super::hostile::{hostile_string, near};
use proptest::prelude::*;
use server::delivery::engine::retry::{retry_after, Next, RetryPolicy, MAX_RETRY_AFTER};
use server::delivery::signer::{anomalyarmor_signature, generate_secret, standard_signatures};
use server::delivery::{Attempt, AttemptError, ErrorKind};
use server::receiver::{describe, Received};
use std::time::{Duration, UNIX_EPOCH};

fn answered(status: u16, retry: &str) -> Attempt {
    Attempt {
        duration: Duration::from_millis(5),
        status: Some(status),
        reason: None,
        response_headers: vec![("Retry-After".to_owned(), retry.to_owned())],
        body: Vec::new(),
        body_truncated: false,
        error: Some(AttemptError {
            kind: ErrorKind::HttpStatus,
            message: String::new(),
        }),
    }
}

#[test]
fn retry_after_parser() {
    let value = near(&[
        "120",
        "0",
        "18446744073709551615",
        "18446744073709551616",
        " 30 ",
        "-1",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ]);
    let strategy = (
        value,
        any::<u32>(),
        prop::sample::select(vec![429u16, 503, 500]),
        any::<i64>(),
        0usize..6,
    );
    super::run(
        file!(),
        "retry_after_parser",
        super::cases(256),
        strategy,
        |(value, secs, status, now_ms, failures)| {
            let now = UNIX_EPOCH + Duration::from_secs(u64::from(secs));
            let headers = vec![("retry-after".to_owned(), value.clone())];
            let parsed = retry_after(&headers, now);
            if let Ok(n) = value.trim().parse::<u64>() {
                prop_assert_eq!(parsed, Some(Duration::from_secs(n)));
            }
            let schedule: Vec<Duration> = [0, 60, 300, 900, 3600].map(Duration::from_secs).to_vec();
            let longest = schedule
                .iter()
                .max()
                .copied()
                .unwrap_or_default()
                .max(MAX_RETRY_AFTER);
            let policy = RetryPolicy::new(schedule);
            match policy.next(
                &answered(status, &value),
                i64::try_from(failures).unwrap_or(0),
                now_ms,
            ) {
                Next::Retry { at } => {
                    let cap = i64::try_from(longest.as_millis()).unwrap_or(i64::MAX);
                    prop_assert!(
                        at >= now_ms && at <= now_ms.saturating_add(cap),
                        "{} from {}",
                        at,
                        now_ms
                    );
                }
                Next::Failed => prop_assert!(failures >= 5),
                Next::Delivered => prop_assert!(false, "a failed attempt was delivered"),
            }
            Ok(())
        },
    );
}

fn received(body: Vec<u8>, headers: Vec<(String, String)>) -> Received {
    Received {
        path: "/hook".into(),
        headers,
        body,
    }
}

fn signed(secret: &str, body: &[u8], id: &str, ts: i64) -> Vec<(String, String)> {
    vec![
        (
            "x-anomalyarmor-signature".into(),
            anomalyarmor_signature(secret, body),
        ),
        ("webhook-id".into(), id.to_owned()),
        ("webhook-timestamp".into(), ts.to_string()),
        (
            "webhook-signature".into(),
            standard_signatures(&[secret], id, ts, body),
        ),
    ]
}

const BOTH: &str = "X-AnomalyArmor-Signature verified, webhook-signature verified";

/// A request the signer signed verifies; one changed byte of the body or of
/// a signature does not; anything else is reported, never a panic.
#[test]
fn signature_verifier() {
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..512),
        hostile_string(200)
            .prop_filter("not empty", |s| !s.is_empty())
            .prop_map(String::into_bytes),
        Just(br#"{"event_type":"alert.triggered","alert":{"id":"alert_1"}}"#.to_vec()),
    ];
    let strategy = (
        body,
        hostile_string(20),
        any::<i64>(),
        any::<prop::sample::Index>(),
        1u8..=255,
        0u8..3,
    );
    super::run(
        file!(),
        "signature_verifier",
        super::cases(256),
        strategy,
        |(body, id, ts, at, flip, which)| {
            let id = if id.contains(['\r', '\n']) {
                "msg_1".to_owned()
            } else {
                id
            };
            let secret = generate_secret();
            let good = received(body.clone(), signed(&secret, &body, &id, ts));
            prop_assert!(describe(&good, Some(secret.as_str())).ends_with(BOTH));
            let mut bad = good.clone();
            match which {
                0 => {
                    let i = at.index(bad.body.len());
                    bad.body[i] ^= flip;
                }
                1 => {
                    bad.headers[0].1 =
                        flip_char(&bad.headers[0].1, at.index(bad.headers[0].1.len()))
                }
                _ => {
                    bad.headers[3].1 =
                        flip_char(&bad.headers[3].1, at.index(bad.headers[3].1.len()))
                }
            }
            let verdict = describe(&bad, Some(secret.as_str()));
            let broken = match which {
                0 => "X-AnomalyArmor-Signature NOT VERIFIED, webhook-signature NOT VERIFIED",
                1 => "X-AnomalyArmor-Signature NOT VERIFIED, webhook-signature verified",
                _ => "X-AnomalyArmor-Signature verified, webhook-signature NOT VERIFIED",
            };
            prop_assert!(verdict.ends_with(broken), "{}", verdict);
            let _ = describe(
                &received(body, vec![("webhook-timestamp".into(), id)]),
                Some(secret.as_str()),
            );
            Ok(())
        },
    );
}

/// The signature text with the ASCII character at `i` changed to another.
fn flip_char(text: &str, i: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8_lossy(&bytes).into_owned()
}
