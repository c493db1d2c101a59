//! The claim loop: lease due deliveries, run one task per attempt, sleep
//! until the next due time or a wake-up.

use super::handoff::{Handed, Slots, Taken};
use super::lane::Lane;
use super::pacer::Pacer;
use super::retry::Next;
use super::standing::Standing;
use super::{EngineSettings, Parts};
use crate::clock::now_ms;
use crate::delivery::request::{build, masked, Signed};
use crate::delivery::targets::Loaded;
use crate::delivery::{Attempt, HttpSender, MAX_RESPONSE_BYTES};
use crate::store::deliveries::{self, AttemptRecord, ClaimLimits, Claimed};
use crate::store::Db;
use app::domain::DeliveryStatus;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
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
    /// Attempts in flight in this process, and per destination.
    pub slots: Arc<Slots>,
    /// The start rate of attempts to destinations whose last attempt failed.
    pub pacer: Pacer,
    /// Where those attempts run: a runtime of the lowest CPU priority.
    pub lane: Lane,
}

/// Claims due deliveries and starts them; sleeps until the next due time, a
/// wake-up or the poll. First attempts handed over by ingest are started by
/// a task of their own beside it, so they never wait behind a claim.
pub async fn run(
    ctx: Context,
    handed: mpsc::UnboundedReceiver<Handed>,
    mut stopped: watch::Receiver<bool>,
) {
    let ctx = Arc::new(ctx);
    let handing = tokio::spawn(run_handed(ctx.clone(), handed, stopped.clone()));
    let mut tasks = JoinSet::new();
    while !*stopped.borrow() {
        while tasks.try_join_next().is_some() {}
        let free = ctx.slots.permits.available_permits().min(MAX_BATCH);
        let claimed = if free == 0 {
            ctx.parts.queue.slot_bound.store(true, Relaxed);
            0
        } else {
            claim_and_start(&ctx, &mut tasks, free).await
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
    let _ = handing.await;
}

/// Starts handed-over first attempts as they come, until the engine stops.
async fn run_handed(
    ctx: Arc<Context>,
    mut handed: mpsc::UnboundedReceiver<Handed>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    while !*stopped.borrow() {
        while tasks.try_join_next().is_some() {}
        tokio::select! {
            next = handed.recv() => match next {
                Some(first) => start_handed(&ctx, &mut tasks, first, &mut handed).await,
                None => break,
            },
            changed = stopped.changed() => if changed.is_err() { break },
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
async fn claim_and_start(ctx: &Arc<Context>, tasks: &mut JoinSet<()>, free: usize) -> usize {
    let now = now_ms();
    let lease_until = now + i64::try_from(ctx.settings.lease.as_millis()).unwrap_or(60_000);
    let limits = ClaimLimits {
        batch: i64::try_from(free).unwrap_or(1),
        per_destination: ctx.settings.per_destination,
        room: ctx.slots.room(),
    };
    let db = &ctx.parts.db;
    // Slots freed while the claim runs must wake the loop again (see `slot_bound`).
    let slot_bound = &ctx.parts.queue.slot_bound;
    slot_bound.store(true, Relaxed);
    let claimed = match deliveries::claim(db, &ctx.owner, lease_until, now, &limits).await {
        Ok(c) => c,
        Err(err) => {
            tracing::warn!(error = %err, "claim failed");
            return 0;
        }
    };
    ctx.parts.queue.metrics.claimed(!claimed.is_empty());
    slot_bound.store(fills_a_room(&claimed, &limits, free), Relaxed);
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
    let mut unstarted = Vec::new();
    for delivery in claimed {
        // Ingest may have handed attempts into the room the claim was sized to.
        let Some(slot) = ctx.slots.try_take(delivery.destination_id) else {
            unstarted.push(delivery.id);
            continue;
        };
        let target = targets.get(&delivery.destination_id).cloned();
        let body = bodies.get(&delivery.alert_id).cloned();
        spawn_attempt(ctx, tasks, delivery, target, body, slot);
    }
    let started = count - unstarted.len();
    ctx.parts.queue.metrics.started(false, started as u64);
    if !unstarted.is_empty() {
        slot_bound.store(true, Relaxed);
        give_back(ctx, &unstarted).await;
    }
    count
}

/// Whether a claim may have left due deliveries behind for want of a slot:
/// it took all the process had room for, a destination had no room at all,
/// or it took as many as a destination had room for. Otherwise every due
/// delivery was claimed, and a slot freed later finds nothing to take.
fn fills_a_room(claimed: &[Claimed], limits: &ClaimLimits, free: usize) -> bool {
    if claimed.len() >= free || limits.room.iter().any(|&(_, n)| n <= 0) {
        return true;
    }
    let mut taken: HashMap<i64, i64> = HashMap::new();
    for c in claimed {
        *taken.entry(c.destination_id).or_default() += 1;
    }
    taken.iter().any(|(destination, n)| {
        let room = limits
            .room
            .iter()
            .find(|(d, _)| d == destination)
            .map_or(limits.per_destination, |&(_, room)| room);
        *n >= room
    })
}

/// Claimed deliveries with no room left go back to the queue at once,
/// instead of waiting out their lease.
async fn give_back(ctx: &Context, ids: &[i64]) {
    match deliveries::give_back(&ctx.parts.db, &ctx.owner, ids).await {
        Ok(n) => tracing::debug!(given_back = n, "claimed deliveries without room"),
        Err(err) => {
            tracing::warn!(error = %err, "could not give back claimed deliveries; their leases run out")
        }
    }
}

/// Starts first attempts handed over by ingest (and any queued behind them).
async fn start_handed(
    ctx: &Arc<Context>,
    tasks: &mut JoinSet<()>,
    first: Handed,
    more: &mut mpsc::UnboundedReceiver<Handed>,
) {
    let mut handed = vec![first];
    while let Ok(next) = more.try_recv() {
        handed.push(next);
    }
    let targets = missing_targets(ctx, &mut handed).await;
    ctx.parts.queue.metrics.started(true, handed.len() as u64);
    for h in handed {
        let target = h
            .target
            .or_else(|| targets.get(&h.delivery.destination_id).cloned());
        spawn_attempt(ctx, tasks, h.delivery, target, Some(h.body), h.slot);
    }
}

/// Ingest hands most attempts over with their destination; this reads the
/// rest. Those it cannot read are dropped: their leases run out and a claim
/// picks them up.
async fn missing_targets(ctx: &Context, handed: &mut Vec<Handed>) -> HashMap<i64, Loaded> {
    let mut ids: Vec<i64> = handed
        .iter()
        .filter(|h| h.target.is_none())
        .map(|h| h.delivery.destination_id)
        .collect();
    if ids.is_empty() {
        return HashMap::new();
    }
    ids.sort_unstable();
    ids.dedup();
    match ctx.parts.targets.load(&ctx.parts.db, &ids).await {
        Ok(targets) => targets,
        Err(err) => {
            tracing::warn!(error = %err, "cannot load handed deliveries' destinations");
            handed.retain(|h| h.target.is_some());
            HashMap::new()
        }
    }
}

fn spawn_attempt(
    ctx: &Arc<Context>,
    tasks: &mut JoinSet<()>,
    delivery: Claimed,
    target: Option<Loaded>,
    body: Option<Arc<[u8]>>,
    slot: Taken,
) {
    let ctx = ctx.clone();
    let span = tracing::info_span!(
        "delivery",
        delivery_id = delivery.id,
        destination_id = delivery.destination_id,
        alert_id = delivery.alert_id,
        attempt = delivery.attempts + 1
    );
    // Decided when it starts: an attempt cannot move between runtimes.
    let on_lane = ctx.pacer.on_lane(delivery.destination_id);
    let lane = on_lane.then(|| ctx.lane.handle.clone());
    let task = async move {
        // Holding its slot: a paced attempt is in flight for the limits.
        let destination = delivery.destination_id;
        ctx.pacer.admit(destination).await;
        let sender = if on_lane {
            &ctx.lane.sender
        } else {
            &ctx.parts.sender
        };
        let (record, standing) = attempt(&ctx, sender, delivery, target, body).await;
        ctx.pacer.settle(destination, standing);
        let _ = ctx.records.send(record).await;
        drop(slot);
    }
    .instrument(span);
    match lane {
        Some(lane) => tasks.spawn_on(task, &lane),
        None => tasks.spawn(task),
    };
}

type ClaimedParts = (HashMap<i64, Loaded>, HashMap<i64, Arc<[u8]>>);

async fn load(
    ctx: &Context,
    claimed: &[Claimed],
) -> Result<ClaimedParts, crate::store::StoreError> {
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
    sender: &HttpSender,
    delivery: Claimed,
    target: Option<Loaded>,
    body: Option<Arc<[u8]>>,
) -> (AttemptRecord, Standing) {
    let started_at = now_ms();
    let (target, body) = match (target, body) {
        (Some(Ok(target)), Some(body)) => (target, body),
        (Some(Err(reason)), _) => {
            let record = unsendable(ctx, &delivery, started_at, reason);
            return (record, Standing::Failing);
        }
        _ => {
            let gone = "The destination or alert is gone".into();
            return (
                unsendable(ctx, &delivery, started_at, gone),
                Standing::Failing,
            );
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
    let result = sender.send(request).await;
    let queue = &ctx.parts.queue;
    queue
        .metrics
        .attempt(result.succeeded(), result.status, result.duration);
    let failures = delivery.failures + i64::from(!result.succeeded());
    // The schedule counts from the attempt's end as recorded, however late
    // this task runs after it (the lane's thread yields to everything else).
    let duration_ms = i64::try_from(result.duration.as_millis()).unwrap_or(i64::MAX);
    let next = queue
        .policy
        .next(&result, failures, started_at.saturating_add(duration_ms));
    if !result.succeeded() {
        tracing::info!(
            status = result.status,
            error = result.error.as_ref().map(|e| e.kind.as_str()),
            ?next,
            "attempt failed"
        );
    }
    let record = record_of(
        &delivery,
        started_at,
        request_headers,
        &result,
        failures,
        next,
    );
    (record, Standing::of(&result))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(destinations: &[i64]) -> Vec<Claimed> {
        destinations
            .iter()
            .enumerate()
            .map(|(i, &destination_id)| Claimed {
                id: i as i64,
                alert_id: 1,
                destination_id,
                msg_id: format!("msg_{i}"),
                attempts: 0,
                failures: 0,
            })
            .collect()
    }

    fn limits(room: &[(i64, i64)]) -> ClaimLimits {
        ClaimLimits {
            batch: 10,
            per_destination: 3,
            room: room.to_vec(),
        }
    }

    #[test]
    fn a_claim_that_took_every_due_delivery_leaves_none_for_a_slot() {
        assert!(!fills_a_room(&[], &limits(&[]), 10), "found nothing");
        assert!(!fills_a_room(&claimed(&[1, 1, 2]), &limits(&[(2, 2)]), 10));
        assert!(!fills_a_room(&claimed(&[1]), &limits(&[(2, 1)]), 10));
    }

    #[test]
    fn a_claim_held_back_by_room_waits_for_a_slot() {
        assert!(
            fills_a_room(&claimed(&[1, 2]), &limits(&[]), 2),
            "the process's room"
        );
        assert!(
            fills_a_room(&[], &limits(&[(4, 0)]), 10),
            "a destination with none"
        );
        assert!(
            fills_a_room(&claimed(&[1, 1, 1]), &limits(&[]), 10),
            "per destination"
        );
        assert!(
            fills_a_room(&claimed(&[2, 2]), &limits(&[(2, 2)]), 10),
            "its room now"
        );
    }
}
