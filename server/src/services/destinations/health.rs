//! Destination health: figures for a window from the hourly aggregates
//! (`store::health`), the page's charts, recent deliveries and test sends.

use super::Services;
use crate::clock::now_ms;
use crate::domain::delivery_filter::ValidFilter;
use crate::services::internal;
use crate::store::deliveries as delivery_rows;
use crate::store::destinations::DestinationRow;
use crate::store::health::{self as rows, Counts, HOUR_MS, LATENCY_BOUNDS_MS};
use app::error::AppError;
use app::model::{
    DestinationHealth, DestinationHealthPage, HealthBadge, HealthBar, HealthState, HealthWindow,
    OutcomeCounts, TestSendView,
};

/// Deliveries and test sends the destination's page lists.
const RECENT: i64 = 10;
/// An enabled destination without an attempt for this long shows "No traffic".
const NO_TRAFFIC_AFTER_MS: i64 = 7 * 24 * HOUR_MS;

pub(super) fn state(row: &DestinationRow) -> HealthState {
    if !row.enabled {
        HealthState::Disabled
    } else if row.consecutive_failures > 0 {
        HealthState::Failing
    } else {
        HealthState::Healthy
    }
}

/// The list's badge, from the row's columns alone.
pub(super) fn badge(row: &DestinationRow, now: i64) -> HealthBadge {
    match state(row) {
        HealthState::Disabled => HealthBadge::Disabled,
        HealthState::Failing => HealthBadge::Failing,
        HealthState::Healthy => match row.last_attempt_at {
            Some(at) if now - at < NO_TRAFFIC_AFTER_MS => HealthBadge::Healthy,
            _ => HealthBadge::NoTraffic,
        },
    }
}

/// The upper bound of the bucket holding quantile `q` (the open last bucket
/// reads as its lower bound); `None` without attempts.
pub fn percentile(latency: &[i64], q: f64) -> Option<i64> {
    let total: i64 = latency.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (i, n) in latency.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(LATENCY_BOUNDS_MS[i.min(LATENCY_BOUNDS_MS.len() - 1)]);
        }
    }
    LATENCY_BOUNDS_MS.last().copied()
}

fn outcomes(c: &Counts) -> OutcomeCounts {
    let [succeeded, http_4xx, http_5xx, timeout, network, other] = c.outcomes;
    OutcomeCounts {
        succeeded,
        http_4xx,
        http_5xx,
        timeout,
        network,
        other,
    }
}

/// The window's hourly rows summed into chart bars, oldest first.
fn bars(window: HealthWindow, first_hour: i64, hours: &[(i64, Counts)]) -> Vec<HealthBar> {
    let span = window.hours_per_bar() * HOUR_MS;
    let n = window.hours() / window.hours_per_bar();
    let mut sums = vec![Counts::default(); n as usize];
    for (hour, c) in hours {
        if let Some(sum) = usize::try_from((hour - first_hour) / span)
            .ok()
            .and_then(|i| sums.get_mut(i))
        {
            sum.add(c);
        }
    }
    sums.iter()
        .enumerate()
        .map(|(i, c)| HealthBar {
            start: first_hour + i as i64 * span,
            outcomes: outcomes(c),
            p50_ms: percentile(&c.latency, 0.5),
            p95_ms: percentile(&c.latency, 0.95),
        })
        .collect()
}

fn summary(
    row: &DestinationRow,
    window: HealthWindow,
    hours: &[(i64, Counts)],
) -> DestinationHealth {
    let mut all = Counts::default();
    for (_, c) in hours {
        all.add(c);
    }
    let o = outcomes(&all);
    let attempts = o.total();
    DestinationHealth {
        window,
        attempts,
        succeeded: o.succeeded,
        failed: o.failed(),
        success_rate: (attempts > 0).then(|| o.succeeded as f64 / attempts as f64),
        p50_ms: percentile(&all.latency, 0.5),
        p95_ms: percentile(&all.latency, 0.95),
        consecutive_failures: row.consecutive_failures,
        last_error: row.last_error.clone(),
        last_error_at: row.last_error_at,
        state: state(row),
        outcomes: o,
    }
}

impl Services {
    /// The destination's row and its window's hourly rows (at most 168), and the first hour.
    async fn health_rows(
        &self,
        id: i64,
        window: HealthWindow,
        now: i64,
    ) -> Result<(DestinationRow, i64, Vec<(i64, Counts)>), AppError> {
        let row = self.row(id).await?;
        let first_hour = now - now.rem_euclid(HOUR_MS) - (window.hours() - 1) * HOUR_MS;
        let hours = rows::stats_since(self.db(), id, first_hour)
            .await
            .map_err(internal)?;
        Ok((row, first_hour, hours))
    }

    /// `GET /api/v1/destinations/{id}/health`.
    pub async fn destination_health(
        &self,
        id: i64,
        window: HealthWindow,
    ) -> Result<DestinationHealth, AppError> {
        let (row, _, hours) = self.health_rows(id, window, now_ms()).await?;
        Ok(summary(&row, window, &hours))
    }

    /// The health part of the destination's page.
    pub async fn destination_health_page(
        &self,
        id: i64,
        window: HealthWindow,
    ) -> Result<DestinationHealthPage, AppError> {
        let now = now_ms();
        let (row, first_hour, hours) = self.health_rows(id, window, now).await?;
        let filter = ValidFilter {
            destination_id: Some(id),
            ..ValidFilter::default()
        };
        let recent = delivery_rows::list(self.db(), &filter, RECENT)
            .await
            .map_err(internal)?;
        let tests = rows::recent_tests(self.db(), id, RECENT)
            .await
            .map_err(internal)?;
        Ok(DestinationHealthPage {
            health: summary(&row, window, &hours),
            bars: bars(window, first_hour, &hours),
            recent: recent
                .into_iter()
                .map(crate::services::deliveries::view)
                .collect(),
            tests: tests
                .into_iter()
                .map(|t| TestSendView {
                    at: t.started_at,
                    by: t.actor_name,
                    ok: t.ok,
                    status: t.response_status,
                    summary: t.summary,
                    duration_ms: t.duration_ms,
                    error: t.error_message,
                })
                .collect(),
            now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_read_bucket_bounds() {
        let mut lat = [0i64; rows::LATENCY_BUCKETS];
        assert_eq!(percentile(&lat, 0.5), None);
        lat[rows::bucket_of(5)] += 50; // <= 10 ms
        lat[rows::bucket_of(180)] += 45; // <= 200 ms
        lat[rows::bucket_of(900)] += 5; // <= 1000 ms
        assert_eq!(percentile(&lat, 0.5), Some(10));
        assert_eq!(percentile(&lat, 0.95), Some(200));
        assert_eq!(percentile(&lat, 0.96), Some(1000));
        lat[rows::bucket_of(99_000)] += 1000;
        assert_eq!(percentile(&lat, 0.95), Some(30_000));
    }
}
