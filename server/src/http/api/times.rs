//! Times on the wire: the schema keeps epoch milliseconds, the API answers
//! RFC 3339 UTC strings with milliseconds (`2026-11-30T18:15:06.524Z`). Every
//! answer goes through `answer`, which rewrites each `*_at` number it holds.

use super::error::ApiError;
use app::error::AppError;
use app::format::rfc3339_millis;
use axum::Json;
use serde::Serialize;
use serde_json::Value;

/// `value` as the API's JSON, its `*_at` times in RFC 3339.
pub fn answer<T: Serialize>(value: &T) -> Result<Json<Value>, ApiError> {
    let mut json = serde_json::to_value(value).map_err(|err| {
        tracing::error!(%err, "an answer did not serialise");
        ApiError(AppError::Internal)
    })?;
    rfc3339_times(&mut json);
    Ok(Json(json))
}

/// Rewrites, at any depth, every object field named `at` or `*_at` whose value is an integer.
pub fn rfc3339_times(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match field.as_i64() {
                    Some(ms) if key == "at" || key.ends_with("_at") => {
                        *field = Value::String(rfc3339_millis(ms))
                    }
                    _ => rfc3339_times(field),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rfc3339_times),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_time_field_becomes_rfc3339_at_any_depth() {
        let mut v = json!({
            "created_at": 1_705_305_600_005_i64,
            "next_attempt_at": null,
            "attempts": [{"started_at": 0, "number": 1}],
            "last_result": {"at": 1, "ok": true},
            "name": "created_at",
        });
        rfc3339_times(&mut v);
        assert_eq!(v["created_at"], "2024-01-15T08:00:00.005Z");
        assert_eq!(v["next_attempt_at"], Value::Null);
        assert_eq!(v["attempts"][0]["started_at"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["attempts"][0]["number"], 1);
        assert_eq!(v["name"], "created_at");
        // `at` alone is a time too: `last_result.at`.
        assert_eq!(v["last_result"]["at"], "1970-01-01T00:00:00.001Z");
        assert_eq!(v["last_result"]["ok"], true);
    }
}
