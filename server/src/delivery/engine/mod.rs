//! The durable delivery engine. The queue is the `deliveries` table: a claim
//! loop leases due rows in batches, each attempt runs as its own task, and a
//! recorder writes finished attempts in batched transactions. Wake-ups come
//! from this process (after an ingest commits) and, on Postgres, from other
//! processes through `LISTEN/NOTIFY`; a timer and a 1 s poll are the fallback.

mod claimer;
pub mod handoff;
mod lane;
mod listen;
pub mod metrics;
mod pacer;
mod recorder;
pub mod retry;
pub mod standing;

use crate::delivery::targets::Targets;
use crate::delivery::HttpSender;
use crate::store::Db;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub use metrics::Metrics;
pub use retry::RetryPolicy;

/// How the engine runs (from `Config`).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub lease: Duration,
    pub per_destination: i64,
    /// Attempts in flight in this process at most.
    pub max_in_flight: usize,
    /// Time to finish attempts in flight at shutdown before giving them back.
    pub drain: Duration,
}

/// What the engine works with, all of it its own or below it. The services
/// hold the same queue to wake the engine; the engine never calls them.
#[derive(Clone)]
pub struct Parts {
    pub db: Db,
    pub sender: HttpSender,
    pub queue: Arc<Queue>,
    pub targets: Targets,
}

/// What the services and the engine share: the wake-up, the counters and the policy.
pub struct Queue {
    pub wake: Notify,
    pub metrics: Metrics,
    pub policy: RetryPolicy,
    /// First attempts from ingest to this process's engine, when one runs.
    pub handoff: handoff::Handoff,
    /// Whether due deliveries may be waiting for a free slot: true while a
    /// claim runs, and after one that filled a destination's room or the
    /// process's. Only then is a finished attempt worth another claim.
    pub slot_bound: AtomicBool,
}

impl Queue {
    pub fn new(policy: RetryPolicy) -> Arc<Self> {
        Arc::new(Queue {
            wake: Notify::new(),
            metrics: Metrics::default(),
            policy,
            handoff: handoff::Handoff::default(),
            slot_bound: AtomicBool::new(true),
        })
    }
}

/// A running engine; `shutdown` stops it within the drain time plus a moment.
pub struct Engine {
    stop: watch::Sender<bool>,
    claimer: JoinHandle<()>,
    recorder: JoinHandle<()>,
    listener: Option<JoinHandle<()>>,
    lane: lane::LaneRuntime,
    db: Db,
    queue: Arc<Queue>,
    owner: Arc<str>,
}

impl Engine {
    pub fn start(parts: Parts, settings: EngineSettings) -> Engine {
        let owner: Arc<str> = Arc::from(lease_owner());
        let (stop, stopped) = watch::channel(false);
        let (records, inbox) = tokio::sync::mpsc::channel(settings.max_in_flight * 2);
        let recorder = tokio::spawn(recorder::run(
            parts.db.clone(),
            parts.queue.clone(),
            owner.clone(),
            inbox,
        ));
        let listener = match &parts.db {
            Db::Postgres(pool) => Some(tokio::spawn(listen::run(
                pool.clone(),
                parts.queue.clone(),
                stopped.clone(),
            ))),
            Db::Sqlite(..) => None,
        };
        let db = parts.db.clone();
        let standings = Arc::new(standing::Standings::default());
        let slots = handoff::Slots::new(
            settings.max_in_flight,
            settings.per_destination,
            standings.clone(),
        );
        let handed = parts
            .queue
            .handoff
            .open(owner.clone(), settings.lease, slots.clone());
        let queue = parts.queue.clone();
        let (lane, lane_runtime) = lane::start(&parts.sender);
        let claimer = tokio::spawn(claimer::run(
            claimer::Context {
                parts,
                owner: owner.clone(),
                settings,
                records,
                slots,
                pacer: pacer::Pacer::new(pacer::RATE, pacer::BURST, standings),
                lane,
            },
            handed,
            stopped,
        ));
        tracing::info!(owner = %owner, "delivery engine started");
        Engine {
            stop,
            claimer,
            recorder,
            listener,
            lane: lane_runtime,
            db,
            queue,
            owner,
        }
    }

    /// Stops claiming, lets attempts in flight finish (or gives their leases
    /// back), writes every finished attempt, and returns.
    pub async fn shutdown(self) {
        // No more hand-offs: what ingest stores from now on waits in the queue.
        self.queue.handoff.close();
        let _ = self.stop.send(true);
        if let Some(listener) = self.listener {
            listener.abort();
        }
        // The claimer drains its attempts and drops the last record sender,
        // which lets the recorder finish its queue and end.
        let _ = self.claimer.await;
        drop(self.lane);
        // A database that is down must not hold the exit; unwritten attempts are retried after their leases.
        if tokio::time::timeout(Duration::from_secs(3), self.recorder)
            .await
            .is_err()
        {
            tracing::warn!("gave up writing the last attempts; their deliveries are retried");
        }
        match crate::store::deliveries::release(&self.db, &self.owner).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "gave back unfinished deliveries"),
            Err(err) => {
                tracing::warn!(error = %err, "could not give back leases; they expire on their own")
            }
        }
        tracing::info!("delivery engine stopped");
    }
}

/// A name for this process's leases, unique across restarts and hosts.
fn lease_owner() -> String {
    format!("{}-{}", std::process::id(), crate::ids::new_id("w"))
}
