//! Events posted to `POST /api/v1/events`, parsed into values that can only
//! be valid. A body is one event object or an array of up to 1,000.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const MAX_BATCH: usize = 1000;
pub const MAX_DETAILS_BYTES: usize = 64 * 1024;
const MAX_NAME_CHARS: usize = 512;
const MAX_SHORT_CHARS: usize = 100;
const MAX_DEDUP_CHARS: usize = 200;
const FIELDS: [&str; 6] = [
    "type",
    "asset",
    "change_type",
    "details",
    "occurred_at",
    "dedup_key",
];

/// The documented event types and the alert type each one raises.
pub const EVENT_TYPES: [(&str, &str); 4] = [
    ("schema_change", "schema"),
    ("freshness_violation", "freshness"),
    ("discovery_complete", "discovery"),
    ("connection_failed", "connection"),
];

#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    pub kind: &'static str,
    pub alert_type: &'static str,
    pub qualified_name: String,
    pub asset_type: String,
    pub change_type: Option<String>,
    /// A JSON object, at most 64 KiB serialized.
    pub details: Map<String, Value>,
    /// Unix milliseconds; the time of receipt when the event gave none.
    pub occurred_at: i64,
    pub dedup_key: Option<String>,
}

/// Which event was bad (in a batch), which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    pub index: Option<usize>,
    pub field: String,
    pub message: String,
}

impl EventError {
    /// `events[3].asset.qualified_name` in a batch, `asset.qualified_name` alone.
    pub fn path(&self) -> String {
        match (self.index, self.field.is_empty()) {
            (Some(i), true) => format!("events[{i}]"),
            (Some(i), false) => format!("events[{i}].{}", self.field),
            (None, _) => self.field.clone(),
        }
    }

    pub fn describe(&self) -> String {
        match self.index {
            Some(i) => format!("Event at index {i}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// The events in a request body, and whether it was a batch.
#[derive(Debug)]
pub struct EventBatch {
    pub events: Vec<ValidEvent>,
    pub is_batch: bool,
}

/// Parses a whole body; the first bad event refuses it all.
pub fn parse_body(body: Value, now_ms: i64) -> Result<EventBatch, EventError> {
    let top = |message: String| EventError {
        index: None,
        field: String::new(),
        message,
    };
    match body {
        Value::Object(object) => Ok(EventBatch {
            events: vec![
                parse_event(object, now_ms).map_err(|(field, message)| EventError {
                    index: None,
                    field,
                    message,
                })?,
            ],
            is_batch: false,
        }),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(top("The batch is empty: send 1 to 1,000 events".into()));
            }
            if items.len() > MAX_BATCH {
                return Err(top(format!(
                    "A batch holds at most 1,000 events; this one has {}",
                    items.len()
                )));
            }
            let events = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let object = match item {
                        Value::Object(o) => o,
                        other => {
                            return Err(EventError {
                                index: Some(i),
                                field: String::new(),
                                message: format!(
                                    "an event must be a JSON object, not {}",
                                    kind_of(&other)
                                ),
                            })
                        }
                    };
                    parse_event(object, now_ms).map_err(|(field, message)| EventError {
                        index: Some(i),
                        field,
                        message,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(EventBatch {
                events,
                is_batch: true,
            })
        }
        other => Err(top(format!(
            "The body must be an event object or an array of events, not {}",
            kind_of(&other)
        ))),
    }
}

type FieldResult<T> = Result<T, (String, String)>;

fn parse_event(mut o: Map<String, Value>, now_ms: i64) -> FieldResult<ValidEvent> {
    if let Some(unknown) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err((
            unknown.clone(),
            format!(
                "unknown field `{unknown}`; events have {}",
                FIELDS.join(", ")
            ),
        ));
    }
    let kind_text = required_string(&mut o, "type", MAX_SHORT_CHARS)?;
    let (kind, alert_type) = EVENT_TYPES
        .iter()
        .find(|(k, _)| *k == kind_text)
        .copied()
        .ok_or_else(|| {
            (
                "type".to_owned(),
                format!(
                    "unknown event type {kind_text:?}; use schema_change, freshness_violation, discovery_complete or connection_failed"
                ),
            )
        })?;
    let (qualified_name, asset_type) = parse_asset(o.remove("asset"))?;
    let change_type = optional_string(&mut o, "change_type", MAX_SHORT_CHARS)?;
    let details = parse_details(o.remove("details"))?;
    let occurred_at = match optional_string(&mut o, "occurred_at", 64)? {
        Some(text) => parse_time(&text).map_err(|m| ("occurred_at".to_owned(), m))?,
        None => now_ms,
    };
    let dedup_key = optional_string(&mut o, "dedup_key", MAX_DEDUP_CHARS)?;
    Ok(ValidEvent {
        kind,
        alert_type,
        qualified_name,
        asset_type,
        change_type,
        details,
        occurred_at,
        dedup_key,
    })
}

fn parse_asset(value: Option<Value>) -> FieldResult<(String, String)> {
    let mut asset = match value {
        Some(Value::Object(a)) => a,
        None | Some(Value::Null) => {
            return Err((
                "asset".into(),
                "asset is required: {\"qualified_name\", \"asset_type\"}".into(),
            ))
        }
        Some(other) => {
            return Err((
                "asset".into(),
                format!("asset must be an object, not {}", kind_of(&other)),
            ))
        }
    };
    let name = required_string(&mut asset, "qualified_name", MAX_NAME_CHARS)
        .map_err(|(f, m)| (format!("asset.{f}"), m))?;
    let kind = required_string(&mut asset, "asset_type", MAX_SHORT_CHARS)
        .map_err(|(f, m)| (format!("asset.{f}"), m))?;
    if let Some(unknown) = asset.keys().next() {
        return Err((
            format!("asset.{unknown}"),
            format!("unknown field `{unknown}`; an asset has qualified_name and asset_type"),
        ));
    }
    Ok((name, kind))
}

fn parse_details(value: Option<Value>) -> FieldResult<Map<String, Value>> {
    let details = match value {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(d)) => d,
        Some(other) => {
            return Err((
                "details".into(),
                format!("details must be a JSON object, not {}", kind_of(&other)),
            ))
        }
    };
    let size = serde_json::to_vec(&details)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_DETAILS_BYTES {
        return Err((
            "details".into(),
            format!("details is {size} bytes; at most 65,536 (64 KiB) are accepted"),
        ));
    }
    Ok(details)
}

fn required_string(o: &mut Map<String, Value>, field: &str, max: usize) -> FieldResult<String> {
    optional_string(o, field, max)?
        .ok_or_else(|| (field.to_owned(), format!("{field} is required")))
}

fn optional_string(
    o: &mut Map<String, Value>,
    field: &str,
    max: usize,
) -> FieldResult<Option<String>> {
    let text = match o.remove(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err((
                field.to_owned(),
                format!("{field} must be a string, not {}", kind_of(&other)),
            ))
        }
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err((field.to_owned(), format!("{field} cannot be empty")));
    }
    if trimmed.chars().count() > max {
        return Err((
            field.to_owned(),
            format!("{field} can be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err((
            field.to_owned(),
            format!("{field} cannot contain control characters"),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

/// RFC 3339, e.g. `2024-01-15T08:00:00Z`, to Unix milliseconds.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| format!("{text:?} is not an RFC 3339 time like 2024-01-15T08:00:00Z"))?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| format!("{text:?} is out of range"))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000_000;

    fn good() -> Value {
        json!({
            "type": "schema_change",
            "asset": {"qualified_name": "production.public.orders", "asset_type": "table"},
            "change_type": "column_removed",
            "details": {"column_name": "shipping_status"},
            "occurred_at": "2024-01-15T08:00:00Z",
            "dedup_key": "k1"
        })
    }

    fn error_of(body: Value) -> EventError {
        parse_body(body, NOW).unwrap_err()
    }

    #[test]
    fn a_full_event_parses() {
        let batch = parse_body(good(), NOW).unwrap();
        assert!(!batch.is_batch);
        let e = &batch.events[0];
        assert_eq!(e.kind, "schema_change");
        assert_eq!(e.alert_type, "schema");
        assert_eq!(e.qualified_name, "production.public.orders");
        assert_eq!(e.asset_type, "table");
        assert_eq!(e.change_type.as_deref(), Some("column_removed"));
        assert_eq!(e.occurred_at, 1_705_305_600_000);
        assert_eq!(e.dedup_key.as_deref(), Some("k1"));
    }

    #[test]
    fn optional_fields_default() {
        let body = json!({"type": "connection_failed", "asset": {"qualified_name": "db", "asset_type": "database"}});
        let e = &parse_body(body, NOW).unwrap().events[0];
        assert_eq!(e.alert_type, "connection");
        assert_eq!(e.occurred_at, NOW);
        assert!(e.details.is_empty() && e.change_type.is_none() && e.dedup_key.is_none());
    }

    #[test]
    fn every_event_type_maps_to_an_alert_type() {
        for (kind, alert) in EVENT_TYPES {
            let mut body = good();
            body["type"] = json!(kind);
            assert_eq!(parse_body(body, NOW).unwrap().events[0].alert_type, alert);
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: Vec<(Value, &str)> = vec![
            (
                json!({"type": "nope", "asset": {"qualified_name": "a", "asset_type": "t"}}),
                "type",
            ),
            (
                json!({"asset": {"qualified_name": "a", "asset_type": "t"}}),
                "type",
            ),
            (
                json!({"type": 5, "asset": {"qualified_name": "a", "asset_type": "t"}}),
                "type",
            ),
            (json!({"type": "schema_change"}), "asset"),
            (json!({"type": "schema_change", "asset": "x"}), "asset"),
            (
                json!({"type": "schema_change", "asset": {"asset_type": "t"}}),
                "asset.qualified_name",
            ),
            (
                json!({"type": "schema_change", "asset": {"qualified_name": "a", "asset_type": 1}}),
                "asset.asset_type",
            ),
            (
                json!({"type": "schema_change", "asset": {"qualified_name": "a", "asset_type": "t", "x": 1}}),
                "asset.x",
            ),
            (
                json!({"type": "schema_change", "asset": {"qualified_name": "a", "asset_type": "t"}, "details": [1]}),
                "details",
            ),
            (
                json!({"type": "schema_change", "asset": {"qualified_name": "a", "asset_type": "t"}, "occurred_at": "yesterday"}),
                "occurred_at",
            ),
            (
                json!({"type": "schema_change", "asset": {"qualified_name": "a", "asset_type": "t"}, "dedup_key": 7}),
                "dedup_key",
            ),
            (
                json!({"type": "schema_change", "asset": {"qualified_name": "a", "asset_type": "t"}, "colour": "red"}),
                "colour",
            ),
        ];
        for (body, field) in cases {
            let err = error_of(body.clone());
            assert_eq!(err.path(), field, "{body}");
        }
    }

    #[test]
    fn details_over_64_kib_are_refused() {
        let mut body = good();
        body["details"] = json!({"blob": "x".repeat(MAX_DETAILS_BYTES)});
        assert_eq!(error_of(body).path(), "details");
        let mut fits = good();
        fits["details"] = json!({"blob": "x".repeat(MAX_DETAILS_BYTES - 100)});
        assert!(parse_body(fits, NOW).is_ok());
    }

    #[test]
    fn a_batch_names_the_bad_index() {
        let mut bad = good();
        bad["type"] = json!("unknown");
        let err = error_of(json!([good(), good(), bad]));
        assert_eq!(err.index, Some(2));
        assert_eq!(err.path(), "events[2].type");
        assert!(err.describe().starts_with("Event at index 2:"));
        assert_eq!(error_of(json!([good(), 5])).path(), "events[1]");
        assert_eq!(
            parse_body(json!([good(), good()]), NOW)
                .unwrap()
                .events
                .len(),
            2
        );
    }

    #[test]
    fn batch_size_and_body_shape_are_checked() {
        assert!(error_of(json!([])).message.contains("empty"));
        let many: Vec<Value> = (0..1001).map(|_| good()).collect();
        assert!(error_of(Value::Array(many)).message.contains("1,000"));
        let full: Vec<Value> = (0..1000).map(|_| good()).collect();
        assert_eq!(
            parse_body(Value::Array(full), NOW).unwrap().events.len(),
            1000
        );
        assert!(error_of(json!("text")).message.contains("not a string"));
    }
}
