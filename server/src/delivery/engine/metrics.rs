//! Counters the engine keeps for `/metrics` (this process's share).

use app::domain::DeliveryStatus;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the attempt duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const CLASSES: [&str; 6] = ["2xx", "3xx", "4xx", "5xx", "other", "none"];

#[derive(Default)]
pub struct Metrics {
    delivered: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    /// [succeeded?][status class]
    attempts: [[AtomicU64; 6]; 2],
    buckets: [AtomicU64; 12],
    duration_count: AtomicU64,
    duration_sum_us: AtomicU64,
    /// Attempts started: [from a claim, handed over by ingest].
    started: [AtomicU64; 2],
    /// Claims of the queue: [that leased nothing, that leased some].
    claims: [AtomicU64; 2],
}

fn class_index(status: Option<u16>) -> usize {
    match status {
        Some(200..=299) => 0,
        Some(300..=399) => 1,
        Some(400..=499) => 2,
        Some(500..=599) => 3,
        Some(_) => 4,
        None => 5,
    }
}

/// A counter with one label: its HELP and TYPE lines, then a line per value.
fn counter_by(
    out: &mut String,
    (name, help): (&str, &str),
    label: &str,
    values: &[(&str, &AtomicU64)],
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    for (value, n) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {}", n.load(Relaxed));
    }
}

/// Queue figures read from the database at scrape time.
pub struct QueueDepth {
    pub due: i64,
    pub scheduled: i64,
    pub oldest_due_age: Duration,
}

impl Metrics {
    pub fn attempt(&self, succeeded: bool, status: Option<u16>, took: Duration) {
        self.attempts[usize::from(!succeeded)][class_index(status)].fetch_add(1, Relaxed);
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.duration_count.fetch_add(1, Relaxed);
        self.duration_sum_us
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    /// A delivery's state after an attempt: still pending means a retry is scheduled.
    /// An attempt starts: claimed from the queue, or handed over by ingest.
    pub fn started(&self, handed: bool, n: u64) {
        self.started[usize::from(handed)].fetch_add(n, Relaxed);
    }

    /// Attempts started so far, handed over by ingest or claimed.
    pub fn started_total(&self, handed: bool) -> u64 {
        self.started[usize::from(handed)].load(Relaxed)
    }

    /// A claim of the queue ran; `found`: it leased some deliveries.
    pub fn claimed(&self, found: bool) {
        self.claims[usize::from(found)].fetch_add(1, Relaxed);
    }

    /// Claims so far that leased some deliveries (`found`), or none.
    pub fn claims_total(&self, found: bool) -> u64 {
        self.claims[usize::from(found)].load(Relaxed)
    }

    pub fn outcome(&self, status: DeliveryStatus) {
        match status {
            DeliveryStatus::Delivered => &self.delivered,
            DeliveryStatus::Failed => &self.failed,
            DeliveryStatus::Pending => &self.retried,
        }
        .fetch_add(1, Relaxed);
    }

    pub fn delivered(&self) -> u64 {
        self.delivered.load(Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self, queue: &QueueDepth) -> String {
        let mut out = String::with_capacity(4096);
        counter_by(
            &mut out,
            (
                "alertwire_deliveries_total",
                "Deliveries that ended, or were scheduled for a retry, by outcome.",
            ),
            "outcome",
            &[
                ("delivered", &self.delivered),
                ("failed", &self.failed),
                ("retry_scheduled", &self.retried),
            ],
        );
        let _ = writeln!(out, "# HELP alertwire_attempts_total Delivery attempts by outcome and response status class.");
        let _ = writeln!(out, "# TYPE alertwire_attempts_total counter");
        for (i, outcome) in ["success", "failure"].iter().enumerate() {
            for (j, class) in CLASSES.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "alertwire_attempts_total{{outcome=\"{outcome}\",status_class=\"{class}\"}} {}",
                    self.attempts[i][j].load(Relaxed)
                );
            }
        }
        let [claim, ingest] = &self.started;
        counter_by(
            &mut out,
            ("alertwire_attempts_started_total", "Attempts started, by how they reached the engine: a claim of the queue, or handed over by ingest."),
            "via",
            &[("claim", claim), ("ingest", ingest)],
        );
        let [none, some] = &self.claims;
        counter_by(
            &mut out,
            (
                "alertwire_claims_total",
                "Claims of the queue, by whether they leased any delivery.",
            ),
            "found",
            &[("none", none), ("some", some)],
        );
        let _ = writeln!(out, "# HELP alertwire_attempt_duration_seconds Time from sending a request to its full answer or failure.");
        let _ = writeln!(out, "# TYPE alertwire_attempt_duration_seconds histogram");
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(
                out,
                "alertwire_attempt_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.duration_count.load(Relaxed);
        let _ = writeln!(
            out,
            "alertwire_attempt_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.duration_sum_us.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "alertwire_attempt_duration_seconds_sum {sum}");
        let _ = writeln!(out, "alertwire_attempt_duration_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP alertwire_queue_depth Pending deliveries: due now, or scheduled for later."
        );
        let _ = writeln!(out, "# TYPE alertwire_queue_depth gauge");
        let _ = writeln!(out, "alertwire_queue_depth{{state=\"due\"}} {}", queue.due);
        let _ = writeln!(
            out,
            "alertwire_queue_depth{{state=\"scheduled\"}} {}",
            queue.scheduled
        );
        let _ = writeln!(out, "# HELP alertwire_queue_oldest_due_age_seconds How long the oldest due delivery has waited.");
        let _ = writeln!(out, "# TYPE alertwire_queue_oldest_due_age_seconds gauge");
        let _ = writeln!(
            out,
            "alertwire_queue_oldest_due_age_seconds {}",
            queue.oldest_due_age.as_secs_f64()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.attempt(true, Some(200), Duration::from_millis(3));
        m.attempt(false, Some(503), Duration::from_millis(40));
        m.attempt(false, None, Duration::from_secs(2));
        m.outcome(DeliveryStatus::Delivered);
        m.outcome(DeliveryStatus::Pending);
        let text = m.render(&QueueDepth {
            due: 2,
            scheduled: 5,
            oldest_due_age: Duration::from_millis(1500),
        });
        assert!(text.contains("alertwire_deliveries_total{outcome=\"delivered\"} 1"));
        assert!(text.contains("alertwire_deliveries_total{outcome=\"retry_scheduled\"} 1"));
        assert!(
            text.contains("alertwire_attempts_total{outcome=\"success\",status_class=\"2xx\"} 1")
        );
        assert!(
            text.contains("alertwire_attempts_total{outcome=\"failure\",status_class=\"5xx\"} 1")
        );
        assert!(
            text.contains("alertwire_attempts_total{outcome=\"failure\",status_class=\"none\"} 1")
        );
        assert!(text.contains("alertwire_attempt_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("alertwire_attempt_duration_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("alertwire_attempt_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("alertwire_queue_depth{state=\"due\"} 2"));
        assert!(text.contains("alertwire_queue_oldest_due_age_seconds 1.5"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.split(' ').count(), 2, "{line}");
        }
    }
}
