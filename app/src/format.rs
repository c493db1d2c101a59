//! Formatting that must give the same text on the server and in the browser
//! (hydration compares them), so it uses no locale or clock of its own.

/// `2026-11-29 15:47 UTC` from Unix milliseconds.
pub fn utc_minute(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// `2026-11-29 15:47:06 UTC` from Unix milliseconds.
pub fn utc_second(unix_ms: i64) -> String {
    let minute = utc_minute(unix_ms);
    let secs = unix_ms.div_euclid(1000).rem_euclid(60);
    format!("{}:{secs:02} UTC", minute.trim_end_matches(" UTC"))
}

/// `just now`, `45 s ago`, `3 min ago`, `2 h ago`, `4 days ago`, or `in 5 min`
/// for a time after `now`. `now` comes from the server with the data, so both
/// sides write the same text.
pub fn relative(now_ms: i64, at_ms: i64) -> String {
    let delta = (now_ms - at_ms) / 1000;
    let span = delta.abs();
    let text = match span {
        0..=4 => return "just now".into(),
        5..=59 => format!("{span} s"),
        60..=3_599 => format!("{} min", span / 60),
        3_600..=86_399 => format!("{} h", span / 3600),
        86_400..=172_799 => "1 day".into(),
        _ => format!("{} days", span / 86_400),
    };
    if delta >= 0 {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

/// The value a `datetime-local` field shows for Unix milliseconds (UTC).
pub fn datetime_local(unix_ms: i64) -> String {
    let t = rfc3339(unix_ms);
    t.trim_end_matches('Z').to_owned()
}

/// A length of time in the largest unit that divides it: `30 days`,
/// `12 hours`, `90 seconds`, `1 day`.
pub fn duration_words(ms: u64) -> String {
    let units: [(u64, &str); 5] = [
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1000, "second"),
        (1, "millisecond"),
    ];
    let (size, unit) = units
        .into_iter()
        .find(|(size, _)| ms.is_multiple_of(*size) && ms >= *size)
        .unwrap_or((1, "millisecond"));
    let n = ms / size;
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// `100,000`: a count grouped by thousands.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `2026-11-30T18:15:06.524Z` (RFC 3339, UTC, milliseconds): how the REST API
/// writes every time.
pub fn rfc3339_millis(unix_ms: i64) -> String {
    let seconds = rfc3339(unix_ms);
    let millis = unix_ms.rem_euclid(1000);
    format!("{}.{millis:03}Z", seconds.trim_end_matches('Z'))
}

/// `2024-01-15T08:00:00Z` (RFC 3339, UTC, whole seconds) from Unix milliseconds.
pub fn rfc3339(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1500), "-1,500");
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        // 2024-01-15T08:00:00Z, the documentation's example alert.
        assert_eq!(utc_minute(1_705_305_600_000), "2024-01-15 08:00 UTC");
        assert_eq!(rfc3339(1_705_305_600_000), "2024-01-15T08:00:00Z");
        assert_eq!(rfc3339(1_705_305_601_999), "2024-01-15T08:00:01Z");
        assert_eq!(
            rfc3339_millis(1_705_305_601_999),
            "2024-01-15T08:00:01.999Z"
        );
        assert_eq!(
            rfc3339_millis(1_705_305_600_005),
            "2024-01-15T08:00:00.005Z"
        );
        assert_eq!(utc_second(1_705_305_601_999), "2024-01-15 08:00:01 UTC");
        assert_eq!(datetime_local(1_705_305_601_999), "2024-01-15T08:00:01");
        // A leap day.
        assert_eq!(utc_minute(1_709_210_096_000), "2024-02-29 12:34 UTC");
        assert_eq!(utc_second(1_709_210_096_000), "2024-02-29 12:34:56 UTC");
        assert_eq!(utc_second(1_705_305_600_999), "2024-01-15 08:00:00 UTC");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(30 * 86_400_000), "30 days");
        assert_eq!(duration_words(86_400_000), "1 day");
        assert_eq!(duration_words(12 * 3_600_000), "12 hours");
        assert_eq!(duration_words(90_000), "90 seconds");
        assert_eq!(duration_words(2000), "2 seconds");
        assert_eq!(duration_words(36 * 3_600_000), "36 hours");
        assert_eq!(duration_words(1500), "1500 milliseconds");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_705_305_600_000;
        assert_eq!(relative(now, now - 2_000), "just now");
        assert_eq!(relative(now, now - 45_000), "45 s ago");
        assert_eq!(relative(now, now - 3 * 60_000 - 10), "3 min ago");
        assert_eq!(relative(now, now - 2 * 3_600_000), "2 h ago");
        assert_eq!(relative(now, now - 30 * 3_600_000), "1 day ago");
        assert_eq!(relative(now, now - 4 * 86_400_000), "4 days ago");
        assert_eq!(relative(now, now + 5 * 60_000), "in 5 min");
    }
}
