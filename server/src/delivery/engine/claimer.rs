//! The claim loop: lease due deliveries, run one task per attempt, sleep
//! until the next due time or a wake-up.

use super::retry::Next;
use super::{EngineSettings, Parts};
use crate::clock::now_ms;
use crate::delivery::request::{build, masked, Signed};
use crate::delivery::targets::Target;
use crate::delivery::{Attempt, MAX_RESPONSE_BYTES};
use crate::store::deliveries::{self, AttemptRecord, ClaimLimits, Claimed};
use crate::store::Db;
use app::domain::DeliveryStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

/// The longest sleep without looking at the queue (other processes' retries,
/// lost notifications).
const POLL: Duration = Duration::from_secs(1);
const MAX_BATCH: usize = 256;

pub struct Context {
    pub parts: Parts,
    pub owner: Arc<str>,
    pub settings: EngineSettings,
    pub records: mpsc::Sender<AttemptRecord>,
    /// Attempts in flight per destination in this process.
    pub in_flight: Mutex<HashMap<i64, i64>>,
}

impl Context {
    /// Destinations with attempts in flight, and how many more each may take.
    fn room(&self) -> Vec<(i64, i64)> {
        let limit = self.settings.per_destination;
        self.in_flight
            .lock()
            .map(|m| m.iter().map(|(d, n)| (*d, (limit - n).max(0))).collect())
            .unwrap_or_default()
    }

    fn started(&self, destination: i64) {
        if let Ok(mut m) = self.in_flight.lock() {
            *m.entry(destination).or_default() += 1;
        }
    }

    fn finished(&self, destination: i64) {
        if let Ok(mut m) = self.in_flight.lock() {
            if let Some(n) = m.get_mut(&destination) {
                *n -= 1;
                if *n <= 0 {
                    m.remove(&destination);
                }
            }
        }
    }
}

pub async fn run(ctx: Context, mut stopped: watch::Receiver<bool>) {
    let ctx = Arc::new(ctx);
    let permits = Arc::new(Semaphore::new(ctx.settings.max_in_flight));
    let mut tasks = JoinSet::new();
    while !*stopped.borrow() {
        while tasks.try_join_next().is_some() {}
        let free = permits.available_permits().min(MAX_BATCH);
        let claimed = if free == 0 {
            0
        } else {
            claim_and_start(&ctx, &permits, &mut tasks, free).await
        };
        if claimed == free && free > 0 {
            continue; // There may be more due right now.
        }
        let wait = sleep_time(&ctx.parts.db).await;
        tokio::select! {
            () = ctx.parts.queue.wake.notified() => {},
            () = tokio::time::sleep(wait) => {},
            _ = stopped.changed() => {},
        }
    }
    drain(&ctx, tasks).await;
}

/// Until the next scheduled delivery is due, at most `POLL`.
async fn sleep_time(db: &Db) -> Duration {
    let now = now_ms();
    match deliveries::next_due_after(db, now).await {
        Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now).unwrap_or(0)).min(POLL),
        Ok(None) => POLL,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the queue");
            POLL
        }
    }
}

/// Claims up to `free` deliveries and starts their attempts; returns how many.
async fn claim_and_start(
    ctx: &Arc<Context>,
    permits: &Arc<Semaphore>,
    tasks: &mut JoinSet<()>,
    free: usize,
) -> usize {
    let now = now_ms();
    let lease_until = now + i64::try_from(ctx.settings.lease.as_millis()).unwrap_or(60_000);
    let limits = ClaimLimits {
        batch: i64::try_from(free).unwrap_or(1),
        per_destination: ctx.settings.per_destination,
        room: ctx.room(),
    };
    let db = &ctx.parts.db;
    let claimed = match deliveries::claim(db, &ctx.owner, lease_until, now, &limits).await {
        Ok(c) => c,
        Err(err) => {
            tracing::warn!(error = %err, "claim failed");
            return 0;
        }
    };
    if claimed.is_empty() {
        return 0;
    }
    let (targets, bodies) = match load(ctx, &claimed).await {
        Ok(loaded) => loaded,
        Err(err) => {
            // The leases run out and another round picks these up.
            tracing::warn!(error = %err, "cannot load claimed deliveries");
            return 0;
        }
    };
    let count = claimed.len();
    for delivery in claimed {
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            break;
        };
        let target = targets.get(&delivery.destination_id).cloned();
        let body = bodies.get(&delivery.alert_id).cloned();
        let ctx = ctx.clone();
        ctx.started(delivery.destination_id);
        let span = tracing::info_span!(
            "delivery",
            delivery_id = delivery.id,
            destination_id = delivery.destination_id,
            alert_id = delivery.alert_id,
            attempt = delivery.attempts + 1
        );
        tasks.spawn(
            async move {
                let destination = delivery.destination_id;
                let record = attempt(&ctx, delivery, target, body).await;
                ctx.finished(destination);
                let _ = ctx.records.send(record).await;
                drop(permit);
            }
            .instrument(span),
        );
    }
    count
}

type Loaded = (
    HashMap<i64, Result<Arc<Target>, String>>,
    HashMap<i64, Arc<[u8]>>,
);

async fn load(ctx: &Context, claimed: &[Claimed]) -> Result<Loaded, crate::store::StoreError> {
    let mut destination_ids: Vec<i64> = claimed.iter().map(|c| c.destination_id).collect();
    destination_ids.sort_unstable();
    destination_ids.dedup();
    let mut alert_ids: Vec<i64> = claimed.iter().map(|c| c.alert_id).collect();
    alert_ids.sort_unstable();
    alert_ids.dedup();
    let targets = ctx
        .parts
        .targets
        .load(&ctx.parts.db, &destination_ids)
        .await?;
    let bodies = deliveries::payloads(&ctx.parts.db, &alert_ids)
        .await?
        .into_iter()
        .map(|(id, payload)| (id, Arc::from(payload.into_bytes())))
        .collect();
    Ok((targets, bodies))
}

/// One attempt, signed afresh, and the record of what happened.
async fn attempt(
    ctx: &Context,
    delivery: Claimed,
    target: Option<Result<Arc<Target>, String>>,
    body: Option<Arc<[u8]>>,
) -> AttemptRecord {
    let started_at = now_ms();
    let (target, body) = match (target, body) {
        (Some(Ok(target)), Some(body)) => (target, body),
        (Some(Err(reason)), _) => return unsendable(ctx, &delivery, started_at, reason),
        _ => {
            return unsendable(
                ctx,
                &delivery,
                started_at,
                "The destination or alert is gone".into(),
            )
        }
    };
    let secrets: Vec<&str> = target.secrets.iter().map(String::as_str).collect();
    let request = build(Signed {
        url: &target.url,
        auth: &target.auth,
        headers: &target.headers,
        secrets: &secrets,
        msg_id: &delivery.msg_id,
        timestamp: started_at / 1000,
        body: body.to_vec(),
    });
    let request_headers =
        serde_json::to_string(&masked(&request, &target.auth, &target.headers)).unwrap_or_default();
    let result = ctx.parts.sender.send(request).await;
    let queue = &ctx.parts.queue;
    queue
        .metrics
        .attempt(result.succeeded(), result.status, result.duration);
    let failures = delivery.failures + i64::from(!result.succeeded());
    let next = queue.policy.next(&result, failures, now_ms());
    if !result.succeeded() {
        tracing::info!(
            status = result.status,
            error = result.error.as_ref().map(|e| e.kind.as_str()),
            ?next,
            "attempt failed"
        );
    }
    record_of(
        &delivery,
        started_at,
        request_headers,
        &result,
        failures,
        next,
    )
}

fn record_of(
    delivery: &Claimed,
    started_at: i64,
    request_headers: String,
    result: &Attempt,
    failures: i64,
    next: Next,
) -> AttemptRecord {
    let (status, next_attempt_at) = match next {
        Next::Delivered => (DeliveryStatus::Delivered, None),
        Next::Retry { at } => (DeliveryStatus::Pending, Some(at)),
        Next::Failed => (DeliveryStatus::Failed, None),
    };
    let body = &result.body[..result.body.len().min(MAX_RESPONSE_BYTES)];
    let summary = result
        .status_line()
        .or_else(|| result.error.as_ref().map(|e| e.kind.as_str().to_owned()))
        .unwrap_or_default();
    AttemptRecord {
        delivery_id: delivery.id,
        destination_id: delivery.destination_id,
        number: delivery.attempts + 1,
        started_at,
        duration_ms: i64::try_from(result.duration.as_millis()).unwrap_or(i64::MAX),
        request_headers,
        response_status: result.status.map(i64::from),
        response_headers: result
            .status
            .map(|_| serde_json::to_string(&result.response_headers).unwrap_or_default()),
        response_body: result
            .status
            .map(|_| String::from_utf8_lossy(body).into_owned()),
        error_kind: result.error.as_ref().map(|e| e.kind.as_str().to_owned()),
        error_message: result.error.as_ref().map(|e| e.message.clone()),
        status,
        failures,
        next_attempt_at,
        summary,
    }
}

/// A delivery that cannot be sent at all (its secrets do not open): failed at once.
fn unsendable(ctx: &Context, delivery: &Claimed, started_at: i64, reason: String) -> AttemptRecord {
    tracing::error!(reason = %reason, "delivery cannot be sent");
    ctx.parts.queue.metrics.attempt(false, None, Duration::ZERO);
    AttemptRecord {
        delivery_id: delivery.id,
        destination_id: delivery.destination_id,
        number: delivery.attempts + 1,
        started_at,
        duration_ms: 0,
        request_headers: "[]".into(),
        response_status: None,
        response_headers: None,
        response_body: None,
        error_kind: None,
        error_message: Some(reason),
        status: DeliveryStatus::Failed,
        failures: delivery.failures + 1,
        next_attempt_at: None,
        summary: "not sent".into(),
    }
}

/// At shutdown: give attempts in flight the drain time, then cancel the rest
/// (their leases are given back by `Engine::shutdown`).
async fn drain(ctx: &Context, mut tasks: JoinSet<()>) {
    let pending = tasks.len();
    if pending > 0 {
        tracing::info!(in_flight = pending, "waiting for attempts in flight");
    }
    let finished = tokio::time::timeout(ctx.settings.drain, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            cancelled = tasks.len(),
            "attempts still in flight at shutdown were cancelled"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}
