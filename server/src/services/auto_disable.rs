//! Auto-disable (`ALERTWIRE_AUTO_DISABLE_AFTER`): a destination whose
//! deliveries have all failed for that long, with at least `MIN_FAILED`
//! failed deliveries in that time, is disabled; its queued deliveries wait.
//! The destinations chosen in Settings -> Notifications hear of it through a
//! `destination.disabled` event, stored as an operational alert with one
//! delivery per recipient, so the engine signs, sends, retries and records it
//! like any other. Enabling it again may redeliver what failed meanwhile.
//!
//! The recorder keeps `destinations.failing_since` as attempts are written;
//! `run_auto_disable` looks at the rule on a timer, in every process (the
//! disabling statement re-checks the rule, so only one process disables).

use super::{internal, Services};
use crate::clock::now_ms;
use crate::delivery::payload::{
    destination_disabled, DestinationPart, Disabled, DESTINATION_DISABLED, OPERATIONAL_ALERT_TYPE,
    OPERATIONAL_RULE_NAME,
};
use crate::store::auto_disable::{self as rows, FailingRow, OperationalAlert};
use app::error::AppError;
use app::model::{AutoDisabled, Enabled, FailedWhileFailing, REDELIVER_ON_ENABLE_CAP};
use std::time::Duration;
use tokio::sync::watch;

/// Failed deliveries a destination needs within the time before it is disabled.
pub const MIN_FAILED: i64 = 5;

/// How often the rule is looked at: a quarter of the threshold, from 250 ms to a minute.
pub fn check_every(after: Duration) -> Duration {
    (after / 4).clamp(Duration::from_millis(250), Duration::from_secs(60))
}

impl Services {
    /// Disables every destination that meets the rule now, with its
    /// notification; returns their ids.
    pub async fn auto_disable_failing(&self, after: Duration) -> Result<Vec<i64>, AppError> {
        let db = self.db();
        let now = now_ms();
        let cutoff = now.saturating_sub(i64::try_from(after.as_millis()).unwrap_or(i64::MAX));
        let failing = rows::candidates(db, cutoff, MIN_FAILED)
            .await
            .map_err(internal)?;
        let mut disabled = Vec::new();
        let mut notified = false;
        for row in failing {
            let recipients = crate::store::notifications::recipients(db, row.id)
                .await
                .map_err(internal)?;
            let notice = self.disabled_notice(&row, now, recipients)?;
            if rows::disable(db, &row, MIN_FAILED, now, notice.as_ref())
                .await
                .map_err(internal)?
            {
                tracing::warn!(
                    destination_id = row.id,
                    failing_since = row.failing_since,
                    notified = notice.as_ref().map_or(0, |n| n.deliveries.len()),
                    "destination disabled automatically: every delivery failed"
                );
                notified |= notice.is_some();
                disabled.push(row.id);
            }
        }
        if notified {
            self.queue().wake.notify_one();
        }
        Ok(disabled)
    }

    /// The `destination.disabled` alert for `recipients`; none without recipients.
    fn disabled_notice(
        &self,
        row: &FailingRow,
        now: i64,
        recipients: Vec<i64>,
    ) -> Result<Option<OperationalAlert>, AppError> {
        if recipients.is_empty() {
            return Ok(None);
        }
        let destination = DestinationPart {
            id: row.id,
            name: row.name.clone(),
            url: row.url.clone(),
        };
        let payload = destination_disabled(Disabled {
            destination: destination.clone(),
            failing_since_ms: row.failing_since,
            disabled_at_ms: now,
            public_url: self.public_url(),
        });
        let details = serde_json::json!({
            "destination": destination,
            "reason": payload.reason,
            "failing_since": payload.failing_since,
            "disabled_at": payload.disabled_at,
        });
        Ok(Some(OperationalAlert {
            event_type: DESTINATION_DISABLED.into(),
            subject: row.name.clone(),
            subject_type: "destination".into(),
            details: details.to_string(),
            public_id: payload.alert.id.clone(),
            rule_name: OPERATIONAL_RULE_NAME.into(),
            alert_type: OPERATIONAL_ALERT_TYPE.into(),
            payload: serde_json::to_string(&payload).map_err(|_| AppError::Internal)?,
            deliveries: recipients
                .into_iter()
                .map(|d| (d, crate::ids::new_id("msg")))
                .collect(),
        }))
    }

    /// Looks at the rule every `check_every(after)` until `stop` turns true.
    pub async fn run_auto_disable(&self, after: Duration, mut stop: watch::Receiver<bool>) {
        let every = check_every(after);
        tracing::info!(after = ?after, every = ?every, "auto-disable is on");
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {},
                changed = stop.changed() => if changed.is_err() { return },
            }
            if *stop.borrow() {
                return;
            }
            // A failure is logged where it happens; the next round tries again.
            let _ = self.auto_disable_failing(after).await;
        }
    }

    /// For a destination disabled automatically: when it started failing and
    /// how many deliveries ended failed since (what enabling may redeliver).
    pub async fn failed_while_failing(
        &self,
        id: i64,
    ) -> Result<Option<FailedWhileFailing>, AppError> {
        Ok(
            rows::failed_while_failing(self.db(), id, REDELIVER_ON_ENABLE_CAP)
                .await
                .map_err(internal)?
                .map(|(failing_since, failed)| FailedWhileFailing {
                    failing_since,
                    failed,
                }),
        )
    }

    /// Enables a destination; with `redeliver`, and when it was disabled
    /// automatically, also queues again (same `webhook-id` and body, a fresh
    /// retry schedule) the deliveries that ended failed since it started
    /// failing, oldest first, at most `REDELIVER_ON_ENABLE_CAP`.
    pub async fn enable_destination(&self, id: i64, redeliver: bool) -> Result<Enabled, AppError> {
        let redelivered = rows::enable(self.db(), id, redeliver, REDELIVER_ON_ENABLE_CAP, now_ms())
            .await
            .map_err(internal)?
            .ok_or_else(super::destinations::not_found)?;
        if redelivered > 0 {
            tracing::info!(
                destination_id = id,
                redelivered,
                "failed deliveries queued again"
            );
        }
        // Its queued deliveries resume; other processes heard the NOTIFY.
        self.queue().wake.notify_one();
        Ok(Enabled {
            destination: self.destination(id).await?,
            redelivered,
        })
    }

    /// Live destinations disabled automatically, by name.
    pub async fn auto_disabled_destinations(&self) -> Result<Vec<AutoDisabled>, AppError> {
        Ok(rows::auto_disabled(self.db())
            .await
            .map_err(internal)?
            .into_iter()
            .map(|(id, name, disabled_at)| AutoDisabled {
                id,
                name,
                disabled_at,
            })
            .collect())
    }
}
