//! The event parser (`POST /api/v1/events`), one event and batches.

use super::hostile::{hostile_json, hostile_string, near};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};
use server::domain::event::{parse_body, EventBatch, EVENT_TYPES, MAX_BATCH, MAX_DETAILS_BYTES};

const NOW: i64 = 1_700_000_000_000;

fn valid_event() -> Value {
    json!({
        "type": "schema_change",
        "asset": {"qualified_name": "production.public.orders", "asset_type": "table"},
        "change_type": "column_removed",
        "details": {"column_name": "shipping_status"},
        "occurred_at": "2024-01-15T08:00:00Z",
        "dedup_key": "k1"
    })
}

/// A value for one field: near-valid text of the right type, or anything.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => near(&[
            "schema_change", "freshness_violation", "connection_failed", "production.public.orders",
            "2024-01-15T08:00:00Z", "2024-01-15T08:00:00.123+05:30", "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z", "table",
        ])
        .prop_map(Value::from),
        2 => hostile_json(),
    ]
}

const PATHS: [&str; 10] = [
    "type",
    "asset",
    "change_type",
    "details",
    "occurred_at",
    "dedup_key",
    "asset.qualified_name",
    "asset.asset_type",
    "unknown",
    "asset.unknown",
];

/// The valid event with up to three fields set to something else or removed;
/// `true` when it was left as it is.
fn near_valid_event() -> impl Strategy<Value = (Value, bool)> {
    prop::collection::vec(
        (
            prop::sample::select(PATHS.to_vec()),
            proptest::option::of(field_value()),
        ),
        0..3,
    )
    .prop_map(|edits| {
        let mut event = valid_event();
        for (path, value) in &edits {
            set(&mut event, path, value.clone());
        }
        (event, edits.is_empty())
    })
}

fn set(event: &mut Value, path: &str, value: Option<Value>) {
    let (parent, key) = match path.split_once('.') {
        Some((outer, inner)) => (&mut event[outer], inner),
        None => (event, path),
    };
    if let Value::Object(map) = parent {
        match value {
            Some(v) => map.insert(key.to_owned(), v),
            None => map.remove(key),
        };
    }
}

/// A body: one event, a batch (sometimes over the limit), or any JSON.
pub(super) fn body() -> impl Strategy<Value = (Value, bool)> {
    prop_oneof![
        4 => near_valid_event(),
        3 => prop::collection::vec(near_valid_event(), 0..6).prop_map(|events| {
            let untouched = !events.is_empty() && events.iter().all(|(_, u)| *u);
            (Value::Array(events.into_iter().map(|(e, _)| e).collect()), untouched)
        }),
        1 => (MAX_BATCH - 1..MAX_BATCH + 2)
            .prop_map(|n| (Value::Array(vec![valid_event(); n]), n <= MAX_BATCH)),
        2 => hostile_json().prop_map(|v| (v, false)),
    ]
}

fn check(body: Value, untouched: bool) -> Result<(), TestCaseError> {
    let is_array = body.as_array().map(Vec::len);
    match parse_body(body, NOW) {
        Ok(batch) => check_batch(&batch, is_array),
        Err(err) => {
            prop_assert!(!untouched, "a valid body was refused: {err:?}");
            if let Some(i) = err.index {
                prop_assert!(is_array.is_some_and(|n| i < n), "index {i} of {is_array:?}");
            }
            prop_assert!(!err.describe().is_empty());
            Ok(())
        }
    }
}

/// What an accepted body promises the rest of the server.
fn check_batch(batch: &EventBatch, is_array: Option<usize>) -> Result<(), TestCaseError> {
    prop_assert_eq!(batch.is_batch, is_array.is_some());
    prop_assert_eq!(batch.events.len(), is_array.unwrap_or(1));
    prop_assert!((1..=MAX_BATCH).contains(&batch.events.len()));
    for event in &batch.events {
        prop_assert!(EVENT_TYPES.contains(&(event.kind, event.alert_type)));
        let name = &event.qualified_name;
        prop_assert!(!name.is_empty() && name.trim() == name);
        prop_assert!(!name.chars().any(char::is_control));
        let details =
            serde_json::to_vec(&event.details).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(details.len() <= MAX_DETAILS_BYTES);
    }
    Ok(())
}

#[test]
fn event_parser() {
    super::run(
        file!(),
        "event_parser",
        super::cases(256),
        body(),
        |(body, untouched)| check(body, untouched),
    );
}

/// The same bodies as the server reads them: bytes through serde_json first.
#[test]
fn event_parser_from_text() {
    let text = prop_oneof![
        body().prop_map(|(v, _)| v.to_string()),
        hostile_string(200),
        (1usize..100_000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
    ];
    super::run(
        file!(),
        "event_parser_from_text",
        super::cases(256),
        text,
        |text| {
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                check(value, false)?;
            }
            Ok(())
        },
    );
}
