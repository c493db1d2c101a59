//! Events in, alerts out: matching rules, building each alert's webhook body,
//! and storing alerts with their deliveries in one transaction.

use super::ingest_groups::GroupError;
use super::{internal, internal_ref, Services};
use crate::clock::now_ms;
use crate::delivery::payload::{links, AlertPart, Asset, EventPart, WebhookPayload};
use crate::domain::event::ValidEvent;
use crate::ids::new_id;
use crate::store::alerts::{
    self as rows, AlertRow, IngestBatch, IngestTimes, NewAlert, NewDelivery, NewEvent, Stored,
};
use app::error::AppError;
use app::format::{rfc3339, rfc3339_millis};
use app::model::{AlertView, DeliveryBrief};
use serde::Serialize;
use std::collections::HashMap;

const DEDUP_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// An alert as `POST /api/v1/events` answers it (the documented `alert` object).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AlertOut {
    pub id: String,
    pub rule_name: String,
    pub alert_type: String,
    pub status: String,
    pub created_at: String,
}

/// What became of one posted event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventOutcome {
    pub alerts: Vec<AlertOut>,
    /// True when the `dedup_key` was seen within 24 hours: `alerts` are the first event's.
    pub duplicate: bool,
}

fn out(row: AlertRow) -> AlertOut {
    AlertOut {
        id: row.public_id,
        rule_name: row.rule_name,
        alert_type: row.alert_type,
        status: row.status,
        created_at: rfc3339_millis(row.created_at),
    }
}

impl Services {
    /// Stores the events, all or nothing, and wakes the delivery engine;
    /// refuses them all with `QueueFull` past `--max-queued` (`admission`).
    /// They match the rules as of configuration `generation`, read by the
    /// caller (with its API key) before this call.
    pub async fn ingest_events(
        &self,
        events: Vec<ValidEvent>,
        generation: i64,
    ) -> Result<Vec<EventOutcome>, AppError> {
        let rules = self.active_rules(generation).await?;
        let now = now_ms();
        let prepared = events
            .into_iter()
            .map(|event| self.prepare(event, &rules, now))
            .collect::<Result<Vec<_>, _>>()?;
        let times = IngestTimes {
            now,
            first_attempt_at: now
                + i64::try_from(self.queue().policy.first_delay().as_millis()).unwrap_or(0),
            dedup_until: now + DEDUP_WINDOW_MS,
        };
        let new_deliveries: usize = prepared
            .iter()
            .flat_map(|e| e.alerts.iter().map(|a| a.deliveries.len()))
            .sum();
        let new_deliveries = i64::try_from(new_deliveries).unwrap_or(i64::MAX);
        self.inner
            .admission
            .admit(self.db(), new_deliveries)
            .await?;
        let batch = IngestBatch {
            events: prepared,
            times,
        };
        let stored = self
            .inner
            .ingest
            .store(batch, new_deliveries, generation)
            .await
            .map_err(|err| match err {
                GroupError::Store(err) => internal_ref(&err),
                GroupError::WriterGone => {
                    tracing::error!("the ingest writer stopped");
                    AppError::Internal
                }
            })?;
        Ok(stored
            .into_iter()
            .map(|s| match s {
                Stored::Created(alerts) => EventOutcome {
                    alerts: alerts.into_iter().map(out).collect(),
                    duplicate: false,
                },
                Stored::Duplicate(alerts) => EventOutcome {
                    alerts: alerts.into_iter().map(out).collect(),
                    duplicate: true,
                },
            })
            .collect())
    }

    fn prepare(
        &self,
        event: ValidEvent,
        rules: &[super::rules::ActiveRule],
        now: i64,
    ) -> Result<NewEvent, AppError> {
        let details = serde_json::Value::Object(event.details);
        let alerts = rules
            .iter()
            .filter(|r| r.matches(event.alert_type, &event.qualified_name))
            .map(|rule| {
                let public_id = new_id("alert");
                let payload = WebhookPayload {
                    event_type: "alert.triggered".into(),
                    links: links(self.public_url(), &public_id, &event.qualified_name),
                    alert: AlertPart {
                        id: public_id.clone(),
                        rule_name: rule.name.clone(),
                        alert_type: rule.alert_type.clone(),
                        status: "triggered".into(),
                        created_at: rfc3339(now),
                    },
                    event: EventPart {
                        kind: event.kind.into(),
                        change_type: event.change_type.clone(),
                        asset: Asset {
                            qualified_name: event.qualified_name.clone(),
                            asset_type: event.asset_type.clone(),
                        },
                        details: details.clone(),
                    },
                };
                Ok(NewAlert {
                    payload: serde_json::to_string(&payload).map_err(|_| AppError::Internal)?,
                    public_id,
                    rule_id: rule.id,
                    rule_name: rule.name.clone(),
                    alert_type: rule.alert_type.clone(),
                    deliveries: rule
                        .destinations
                        .iter()
                        .map(|d| NewDelivery {
                            destination: *d,
                            msg_id: new_id("msg"),
                            leased: false,
                        })
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(NewEvent {
            kind: event.kind.into(),
            qualified_name: event.qualified_name,
            asset_type: event.asset_type,
            change_type: event.change_type,
            details: details.to_string(),
            occurred_at: event.occurred_at,
            dedup_key: event.dedup_key,
            alerts,
        })
    }

    /// Newest alerts first, with their deliveries' states: `limit` of them
    /// older than the cursor `before`, and the cursor of the next page.
    pub async fn recent_alerts(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<AlertView>, Option<i64>), AppError> {
        let rows = rows::recent(self.db(), before, limit)
            .await
            .map_err(internal)?;
        let next = crate::services::next_cursor(&rows, limit, |r| r.id);
        Ok((self.with_deliveries(rows).await?, next))
    }

    /// The alerts of one asset (the page `links.asset_url` leads to), newest first.
    pub async fn asset_alerts(
        &self,
        qualified_name: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<AlertView>, Option<i64>), AppError> {
        let rows = rows::by_asset(self.db(), qualified_name, before, limit)
            .await
            .map_err(internal)?;
        let next = crate::services::next_cursor(&rows, limit, |r| r.id);
        Ok((self.with_deliveries(rows).await?, next))
    }

    pub async fn alert(&self, public_id: &str) -> Result<AlertView, AppError> {
        let row = rows::by_public_id(self.db(), public_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::NotFound("No such alert".into()))?;
        self.with_deliveries(vec![row])
            .await?
            .pop()
            .ok_or(AppError::Internal)
    }

    async fn with_deliveries(
        &self,
        rows: Vec<rows::AlertListRow>,
    ) -> Result<Vec<AlertView>, AppError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut by_alert: HashMap<i64, Vec<DeliveryBrief>> = HashMap::new();
        for brief in rows::delivery_briefs(self.db(), &ids)
            .await
            .map_err(internal)?
        {
            by_alert
                .entry(brief.alert_id)
                .or_default()
                .push(DeliveryBrief {
                    id: brief.id,
                    destination_name: brief.destination_name,
                    status: brief.status,
                    attempts: brief.attempts,
                });
        }
        Ok(rows
            .into_iter()
            .map(|r| AlertView {
                deliveries: by_alert.remove(&r.id).unwrap_or_default(),
                id: r.public_id,
                rule_name: r.rule_name,
                alert_type: r.alert_type,
                status: r.status,
                event_type: r.event_type,
                change_type: r.change_type,
                qualified_name: r.qualified_name,
                asset_type: r.asset_type,
                created_at: r.created_at,
            })
            .collect())
    }
}
