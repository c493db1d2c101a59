//! The one time source: milliseconds since the Unix epoch, the schema's only
//! time format (the wire format turns them into RFC 3339 at the edge).

pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
