//! The numbers behind `/metrics`: the engine's counters and the queue's depth.

use super::{internal, Services};
use crate::clock::now_ms;
use crate::delivery::engine::metrics::QueueDepth;
use crate::store::deliveries;
use app::error::AppError;
use std::time::Duration;

impl Services {
    /// The Prometheus text exposition; fails when the database cannot be read.
    pub async fn metrics_text(&self) -> Result<String, AppError> {
        let now = now_ms();
        let (due, scheduled, oldest) = deliveries::queue_depth(self.db(), now)
            .await
            .map_err(internal)?;
        let oldest_due_age = oldest
            .filter(|at| *at <= now)
            .map(|at| Duration::from_millis(u64::try_from(now - at).unwrap_or(0)))
            .unwrap_or_default();
        let mut text = self.queue().metrics.render(&QueueDepth {
            due,
            scheduled,
            oldest_due_age,
        });
        text.push_str(&self.pruned().render());
        let jobs = crate::store::jobs::counts(self.db())
            .await
            .map_err(internal)?;
        text.push_str(&self.job_counters().render(&jobs));
        Ok(text)
    }
}
