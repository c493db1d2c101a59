//! What happens after an attempt: delivered, retried on the schedule, or failed.

use crate::delivery::Attempt;
use std::time::{Duration, SystemTime};

/// `Retry-After` is honoured up to this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    /// Try again at this time (Unix ms).
    Retry {
        at: i64,
    },
    Failed,
}

/// The delays before each attempt (`ALERTWIRE_RETRY_SCHEDULE`): the first is
/// for the first attempt, each later one counts from the previous failure.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    schedule: Vec<Duration>,
}

impl RetryPolicy {
    pub fn new(schedule: Vec<Duration>) -> Self {
        RetryPolicy { schedule }
    }

    pub fn first_delay(&self) -> Duration {
        self.schedule.first().copied().unwrap_or_default()
    }

    /// `failures` counts this attempt's failure too, if it failed.
    pub fn next(&self, attempt: &Attempt, failures: i64, now_ms: i64) -> Next {
        if attempt.succeeded() {
            return Next::Delivered;
        }
        if attempt.status == Some(410) {
            return Next::Failed;
        }
        let Some(delay) = usize::try_from(failures)
            .ok()
            .and_then(|f| self.schedule.get(f))
        else {
            return Next::Failed;
        };
        let mut delay = *delay;
        if matches!(attempt.status, Some(429 | 503)) {
            if let Some(wait) = retry_after(&attempt.response_headers, SystemTime::now()) {
                delay = delay.max(wait.min(MAX_RETRY_AFTER));
            }
        }
        Next::Retry {
            at: now_ms.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2)),
        }
    }

    /// Every attempt's time for a delivery that keeps failing at once, from `start`.
    pub fn timeline(&self, start_ms: i64) -> Vec<i64> {
        let mut at = start_ms;
        self.schedule
            .iter()
            .map(|delay| {
                at += i64::try_from(delay.as_millis()).unwrap_or(0);
                at
            })
            .collect()
    }
}

/// `Retry-After: 120` or an HTTP date.
pub fn retry_after(headers: &[(String, String)], now: SystemTime) -> Option<Duration> {
    let value = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))?
        .1
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{AttemptError, ErrorKind};

    fn default_policy() -> RetryPolicy {
        let s = [0, 60, 300, 900, 3600].map(Duration::from_secs).to_vec();
        RetryPolicy::new(s)
    }

    fn answered(status: u16, headers: &[(&str, &str)]) -> Attempt {
        Attempt {
            duration: Duration::from_millis(5),
            status: Some(status),
            reason: None,
            response_headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
            body_truncated: false,
            error: (!(200..300).contains(&status)).then(|| AttemptError {
                kind: ErrorKind::HttpStatus,
                message: String::new(),
            }),
        }
    }

    #[test]
    fn the_default_schedule_is_immediate_then_1m_5m_15m_1h() {
        let p = default_policy();
        let t0 = 1_000_000;
        assert_eq!(
            p.timeline(t0),
            [
                t0,
                t0 + 60_000,
                t0 + 360_000,
                t0 + 1_260_000,
                t0 + 4_860_000
            ]
        );
        let failed = answered(500, &[]);
        assert_eq!(p.next(&failed, 1, t0), Next::Retry { at: t0 + 60_000 });
        assert_eq!(p.next(&failed, 2, t0), Next::Retry { at: t0 + 300_000 });
        assert_eq!(p.next(&failed, 3, t0), Next::Retry { at: t0 + 900_000 });
        assert_eq!(p.next(&failed, 4, t0), Next::Retry { at: t0 + 3_600_000 });
        assert_eq!(p.next(&failed, 5, t0), Next::Failed);
        assert_eq!(p.next(&answered(204, &[]), 0, t0), Next::Delivered);
    }

    #[test]
    fn gone_stops_at_once() {
        assert_eq!(
            default_policy().next(&answered(410, &[]), 1, 0),
            Next::Failed
        );
    }

    #[test]
    fn retry_after_waits_at_least_that_long_but_at_most_an_hour() {
        let p = default_policy();
        let slow = answered(429, &[("Retry-After", "600")]);
        assert_eq!(p.next(&slow, 1, 0), Next::Retry { at: 600_000 });
        let short = answered(503, &[("retry-after", "5")]);
        assert_eq!(p.next(&short, 1, 0), Next::Retry { at: 60_000 });
        let huge = answered(503, &[("Retry-After", "999999")]);
        assert_eq!(p.next(&huge, 1, 0), Next::Retry { at: 3_600_000 });
        // Only 429 and 503 carry the meaning.
        let other = answered(500, &[("Retry-After", "600")]);
        assert_eq!(p.next(&other, 1, 0), Next::Retry { at: 60_000 });
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = |v: &str| vec![("Retry-After".to_owned(), v.to_owned())];
        assert_eq!(retry_after(&h("30"), now), Some(Duration::from_secs(30)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after(&h(&date), now), Some(Duration::from_secs(90)));
        assert_eq!(retry_after(&h("soon"), now), None);
        assert_eq!(retry_after(&[], now), None);
    }
}
