//! Retention (`--retention`, `ALERTWIRE_RETENTION`): finished deliveries
//! with their attempts, alerts left without a delivery, events left without
//! an alert, expired dedup keys, audit entries, destination health
//! aggregates and test sends older than the window are
//! removed by a background task, a small batch per short transaction with a
//! pause between batches, so the delivery engine never waits long for the
//! database. Pending deliveries and their alerts are never removed.

use super::{internal, Services};
use crate::clock::now_ms;
use crate::store::retention::{self as rows, Cursor, Removed};
use crate::store::{audit, health, StoreError};
use app::error::AppError;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::watch;

/// Deliveries per transaction (each with its few attempts and its alert).
const DELIVERY_BATCH: i64 = 100;
/// Alerts, events, dedup keys or audit entries per transaction.
const ROW_BATCH: i64 = 500;
/// Between two batches: the engine's writers get their turn.
const PAUSE: Duration = Duration::from_millis(10);
/// The longest wait between two runs.
const MAX_INTERVAL: Duration = Duration::from_secs(300);

/// Rows this process removed, by table, for `/metrics`.
#[derive(Debug, Default)]
pub struct Pruned {
    deliveries: AtomicU64,
    attempts: AtomicU64,
    alerts: AtomicU64,
    events: AtomicU64,
    dedup_keys: AtomicU64,
    audit_log: AtomicU64,
    destination_stats: AtomicU64,
    test_attempts: AtomicU64,
}

impl Pruned {
    fn add(&self, r: &Removed) {
        self.deliveries.fetch_add(r.deliveries, Relaxed);
        self.attempts.fetch_add(r.attempts, Relaxed);
        self.alerts.fetch_add(r.alerts, Relaxed);
        self.events.fetch_add(r.events, Relaxed);
        self.dedup_keys.fetch_add(r.dedup_keys, Relaxed);
    }

    /// The Prometheus text of the counters.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(512);
        let _ = writeln!(
            out,
            "# HELP alertwire_pruned_rows_total Rows removed by retention (ALERTWIRE_RETENTION), by table."
        );
        let _ = writeln!(out, "# TYPE alertwire_pruned_rows_total counter");
        for (table, n) in [
            ("deliveries", &self.deliveries),
            ("attempts", &self.attempts),
            ("alerts", &self.alerts),
            ("events", &self.events),
            ("dedup_keys", &self.dedup_keys),
            ("audit_log", &self.audit_log),
            ("destination_stats", &self.destination_stats),
            ("test_attempts", &self.test_attempts),
        ] {
            let _ = writeln!(
                out,
                "alertwire_pruned_rows_total{{table=\"{table}\"}} {}",
                n.load(Relaxed)
            );
        }
        out
    }
}

/// How often the task looks for old rows: a quarter of the window, between
/// a second and five minutes.
pub fn interval(retention: Duration) -> Duration {
    (retention / 4).clamp(Duration::from_secs(1), MAX_INTERVAL)
}

/// Whether to go on: false once `stop` says so.
async fn pause(stop: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    if *stop.borrow() {
        return false;
    }
    // A dropped sender also ends the wait: the application is going away.
    let stopped = tokio::select! {
        () = tokio::time::sleep(wait) => false,
        _ = stop.wait_for(|s| *s) => true,
    };
    !stopped && !*stop.borrow()
}

impl Services {
    /// How long history is kept.
    pub fn retention(&self) -> Duration {
        self.inner.deps.retention
    }

    pub fn pruned(&self) -> &Pruned {
        &self.inner.pruned
    }

    /// Removes everything older than the window, batch by batch, until
    /// nothing is left or `stop` turns true. Returns what it removed.
    pub async fn prune_history(
        &self,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Removed, AppError> {
        self.prune(stop).await.map_err(internal)
    }

    async fn prune(&self, stop: &mut watch::Receiver<bool>) -> Result<Removed, StoreError> {
        let db = self.db();
        let now = now_ms();
        let window = i64::try_from(self.retention().as_millis()).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(window);
        let mut total = Removed::default();
        let mut count = |r: Removed| {
            self.pruned().add(&r);
            total.deliveries += r.deliveries;
            total.attempts += r.attempts;
            total.alerts += r.alerts;
            total.events += r.events;
            total.dedup_keys += r.dedup_keys;
        };
        loop {
            let r = rows::finished_deliveries(db, cutoff, DELIVERY_BATCH).await?;
            count(r);
            if (r.deliveries as i64) < DELIVERY_BATCH || !pause(stop, PAUSE).await {
                break;
            }
        }
        let mut from = Cursor::START;
        while let (alerts, Some(next)) = rows::orphan_alerts(db, cutoff, from, ROW_BATCH).await? {
            count(Removed {
                alerts,
                ..Removed::default()
            });
            from = next;
            if !pause(stop, PAUSE).await {
                break;
            }
        }
        loop {
            let dedup_keys = rows::expired_dedup_keys(db, now, ROW_BATCH).await?;
            count(Removed {
                dedup_keys,
                ..Removed::default()
            });
            if (dedup_keys as i64) < ROW_BATCH || !pause(stop, PAUSE).await {
                break;
            }
        }
        let mut from = Cursor::START;
        while let (events, Some(next)) = rows::orphan_events(db, cutoff, from, ROW_BATCH).await? {
            count(Removed {
                events,
                ..Removed::default()
            });
            from = next;
            if !pause(stop, PAUSE).await {
                break;
            }
        }
        loop {
            let n = audit::prune(db, cutoff, ROW_BATCH).await?;
            self.pruned().audit_log.fetch_add(n, Relaxed);
            if (n as i64) < ROW_BATCH || !pause(stop, PAUSE).await {
                break;
            }
        }
        self.prune_health(stop, cutoff).await?;
        Ok(total)
    }

    /// Destination health: hourly aggregates wholly before the cutoff, and test sends.
    async fn prune_health(
        &self,
        stop: &mut watch::Receiver<bool>,
        cutoff: i64,
    ) -> Result<(), StoreError> {
        let db = self.db();
        loop {
            let n = health::prune_stats(db, cutoff, ROW_BATCH).await?;
            self.pruned().destination_stats.fetch_add(n, Relaxed);
            if (n as i64) < ROW_BATCH || !pause(stop, PAUSE).await {
                break;
            }
        }
        loop {
            let n = health::prune_tests(db, cutoff, ROW_BATCH).await?;
            self.pruned().test_attempts.fetch_add(n, Relaxed);
            if (n as i64) < ROW_BATCH || !pause(stop, PAUSE).await {
                break;
            }
        }
        Ok(())
    }

    /// Starts the retention task: a run every `interval(retention)` until
    /// `stop` turns true. A failed run is logged and tried again next time.
    pub fn start_retention(&self, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let services = self.clone();
        let every = interval(self.retention());
        tokio::spawn(async move {
            let mut stop = stop;
            while pause(&mut stop, every).await {
                match services.prune_history(&mut stop).await {
                    Ok(r) if r != Removed::default() => tracing::info!(
                        deliveries = r.deliveries,
                        attempts = r.attempts,
                        alerts = r.alerts,
                        events = r.events,
                        dedup_keys = r.dedup_keys,
                        "old history removed"
                    ),
                    Ok(_) => {}
                    // Already logged by `internal`.
                    Err(_) => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_spaced_by_the_window() {
        assert_eq!(interval(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(interval(Duration::from_secs(60)), Duration::from_secs(15));
        assert_eq!(interval(Duration::from_secs(30 * 86_400)), MAX_INTERVAL);
    }

    #[test]
    fn renders_every_table() {
        let p = Pruned::default();
        p.add(&Removed {
            deliveries: 3,
            attempts: 7,
            ..Removed::default()
        });
        let text = p.render();
        assert!(text.contains("alertwire_pruned_rows_total{table=\"deliveries\"} 3"));
        assert!(text.contains("alertwire_pruned_rows_total{table=\"attempts\"} 7"));
        assert!(text.contains("alertwire_pruned_rows_total{table=\"audit_log\"} 0"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.split(' ').count(), 2, "{line}");
        }
    }
}
