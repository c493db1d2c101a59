//! Group commit for ingest: requests that arrive while a write is under way
//! share the next transaction and its one commit, instead of each queueing
//! for the write turn with a commit of its own (issue 11).
//!
//! No request waits for company: a lone request is written at once, and a
//! group is whatever queued during the write before it. The write runs in
//! its own task, so a client that hangs up cannot cut a transaction that
//! carries other requests; the task also settles `admission` once the
//! outcome is known.
//!
//! First attempts due now that fit this process's engine are stored leased
//! to it and handed over after the commit (`engine::handoff`); the engine is
//! woken to claim only for the rest.

use super::admission::Admission;
use crate::clock::now_ms;
use crate::delivery::engine::handoff::{Leased, Reservation};
use crate::delivery::engine::Queue;
use crate::delivery::targets::Targets;
use crate::store::alerts::{self as rows, IngestBatch, Lease, NewDelivery, Stored};
use crate::store::deliveries::Claimed;
use crate::store::{Db, StoreError};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot, Semaphore};

/// A group closes at this many requests or deliveries, whichever comes first.
const MAX_REQUESTS: usize = 256;
const MAX_DELIVERIES: i64 = 5_000;
/// Groups written at once: SQLite has one writer; PostgreSQL commits
/// concurrent transactions in parallel.
const SQLITE_WRITERS: usize = 1;
const POSTGRES_WRITERS: usize = 4;

/// One request waiting for its group's commit.
struct Pending {
    batch: IngestBatch,
    deliveries: i64,
    /// The configuration generation its rules were read at.
    generation: i64,
    reply: oneshot::Sender<Result<Vec<Stored>, GroupError>>,
}

/// What the group writer needs: no `Services`, so it ends when they are dropped.
#[derive(Clone)]
struct Writer {
    db: Db,
    admission: Admission,
    queue: Arc<Queue>,
    /// Destinations the engine keeps, handed with their deliveries.
    targets: Targets,
}

/// The door requests go through; the writer task starts with the first one.
pub(crate) struct IngestGroups {
    writer: Writer,
    sender: OnceLock<mpsc::UnboundedSender<Pending>>,
}

impl IngestGroups {
    pub(crate) fn new(db: Db, admission: Admission, queue: Arc<Queue>, targets: Targets) -> Self {
        IngestGroups {
            writer: Writer {
                db,
                admission,
                queue,
                targets,
            },
            sender: OnceLock::new(),
        }
    }

    /// Stores one request's events with whatever requests share its group.
    /// Its `deliveries` were admitted; the writer marks them stored or
    /// releases them, even if this caller is gone by then.
    pub(crate) async fn store(
        &self,
        batch: IngestBatch,
        deliveries: i64,
        generation: i64,
    ) -> Result<Vec<Stored>, GroupError> {
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(self.writer.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            batch,
            deliveries,
            generation,
            reply,
        };
        if let Err(unsent) = sender.send(pending) {
            self.writer.admission.release(unsent.0.deliveries);
            return Err(GroupError::WriterGone);
        }
        answer.await.unwrap_or(Err(GroupError::WriterGone))
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum GroupError {
    /// Shared by every request of a group the database refused as a whole.
    #[error(transparent)]
    Store(Arc<StoreError>),
    #[error("the ingest writer stopped")]
    WriterGone,
}

/// Takes a writer's turn, then everything queued by then (up to the caps),
/// and writes it as one group; ends when every sender is dropped.
async fn run(writer: Writer, mut requests: mpsc::UnboundedReceiver<Pending>) {
    let writers = if writer.db.is_postgres() {
        POSTGRES_WRITERS
    } else {
        SQLITE_WRITERS
    };
    let turns = Arc::new(Semaphore::new(writers));
    loop {
        let Ok(turn) = turns.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = requests.recv().await else {
            return;
        };
        let mut deliveries = first.deliveries;
        let mut group = vec![first];
        while group.len() < MAX_REQUESTS && deliveries < MAX_DELIVERIES {
            let Ok(next) = requests.try_recv() else { break };
            deliveries += next.deliveries;
            group.push(next);
        }
        let writer = writer.clone();
        tokio::spawn(async move {
            writer.write(group).await;
            drop(turn);
        });
    }
}

impl Writer {
    async fn write(&self, mut group: Vec<Pending>) {
        let reservation = self.reserve(&mut group);
        let lease = reservation.as_ref().map(|r| Lease {
            owner: &r.owner,
            until: r.lease_until,
        });
        let batches: Vec<&IngestBatch> = group.iter().map(|p| &p.batch).collect();
        match rows::ingest(&self.db, &batches, lease).await {
            Ok(ingested) => {
                if let Some(reservation) = reservation {
                    reservation.hand(handed(&self.targets, &group, ingested.leased));
                }
                for (pending, stored) in group.into_iter().zip(ingested.stored) {
                    self.stored(&pending);
                    let _ = pending.reply.send(Ok(stored));
                }
            }
            // One request's write can fail alone (a destination deleted since
            // its rules were read): the others must not fail with it. A
            // database that is down or full fails each alike, so no retry then.
            Err(err) if group.len() > 1 && !err.is_unavailable() => {
                // Written again unleased: the engine must be woken for them.
                drop(reservation);
                deliveries_mut(&mut group).for_each(|d| d.leased = false);
                tracing::warn!(error = %err, requests = group.len(), "a group ingest failed; writing its requests one by one");
                for pending in group {
                    let result = rows::ingest(&self.db, &[&pending.batch], None).await;
                    let result = result.map(|mut one| one.stored.pop().unwrap_or_default());
                    self.answer(pending, result.map_err(Arc::new));
                }
            }
            Err(err) => {
                let err = Arc::new(err);
                for pending in group {
                    self.answer(pending, Err(err.clone()));
                }
            }
        }
    }

    /// Room in this process's engine for the group's first attempts that
    /// are due now; those that got it are marked to be stored leased.
    fn reserve(&self, group: &mut [Pending]) -> Option<Reservation> {
        let now = now_ms();
        let planned: Vec<Option<i64>> = group
            .iter()
            .flat_map(|p| {
                let due = p.batch.times.first_attempt_at <= now;
                deliveries(p).map(move |d| due.then_some(d.destination))
            })
            .collect();
        let reservation = self.queue.handoff.reserve(&planned, now)?;
        for (i, d) in deliveries_mut(group).enumerate() {
            d.leased = reservation.has(i);
        }
        Some(reservation)
    }

    fn answer(&self, pending: Pending, result: Result<Vec<Stored>, Arc<StoreError>>) {
        match &result {
            Ok(_) => self.stored(&pending),
            Err(_) => self.admission.release(pending.deliveries),
        }
        let _ = pending.reply.send(result.map_err(GroupError::Store));
    }

    fn stored(&self, pending: &Pending) {
        self.admission.stored(pending.deliveries);
        if deliveries(pending).any(|d| !d.leased) {
            self.queue.wake.notify_one();
        }
    }
}

/// A request's deliveries, in the order the write stores them.
fn deliveries(pending: &Pending) -> impl Iterator<Item = &NewDelivery> {
    pending
        .batch
        .events
        .iter()
        .flat_map(|e| e.alerts.iter().flat_map(|a| &a.deliveries))
}

/// A group's deliveries, in write order, to mark them leased or not.
fn deliveries_mut(group: &mut [Pending]) -> impl Iterator<Item = &mut NewDelivery> {
    group.iter_mut().flat_map(|p| {
        p.batch
            .events
            .iter_mut()
            .flat_map(|e| e.alerts.iter_mut().flat_map(|a| &mut a.deliveries))
    })
}

/// What the engine needs of each leased delivery, by its place in the write:
/// its webhook body, and its destination if the engine keeps it at the
/// generation the request's rules were read at (so no read is needed).
fn handed(targets: &Targets, group: &[Pending], leased: Vec<(usize, Claimed)>) -> Vec<Leased> {
    let mut parts: Vec<(Arc<[u8]>, i64, i64)> = Vec::new();
    for pending in group {
        for event in &pending.batch.events {
            for alert in &event.alerts {
                let body: Arc<[u8]> = Arc::from(alert.payload.as_bytes());
                parts.extend(
                    alert
                        .deliveries
                        .iter()
                        .map(|d| (body.clone(), d.destination, pending.generation)),
                );
            }
        }
    }
    let now = now_ms();
    leased
        .into_iter()
        .filter_map(|(i, claimed)| {
            let (body, destination, generation) = parts.get(i)?;
            Some(Leased {
                place: i,
                delivery: claimed,
                body: body.clone(),
                target: targets.kept(*generation, *destination, now),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::engine::RetryPolicy;
    use crate::store::alerts::{IngestTimes, NewAlert, NewEvent};
    use crate::store::test_exec as exec;
    use std::time::Duration;

    async fn empty_db() -> Db {
        crate::store::empty_test_db("ingest_groups").await
    }

    fn groups(db: &Db, admission: &Admission, queue: Arc<Queue>) -> Arc<IngestGroups> {
        let secrets = crate::crypto::SecretBox::new(&crate::secret_key::SecretKey([7; 32]));
        Arc::new(IngestGroups::new(
            db.clone(),
            admission.clone(),
            queue,
            Targets::new(secrets),
        ))
    }

    /// An event raising no alert, or (`broken`) one whose delivery names a
    /// destination that does not exist, as if deleted since the rules were read.
    fn batch(name: &str, broken: bool) -> IngestBatch {
        with_delivery(name, broken.then_some(999_999))
    }

    /// An event whose one alert has a delivery to `destination`, if given.
    fn with_delivery(name: &str, destination: Option<i64>) -> IngestBatch {
        let alerts = if let Some(destination) = destination {
            vec![NewAlert {
                public_id: format!("alert_{name}"),
                rule_id: 1,
                rule_name: "Gone".into(),
                alert_type: "schema".into(),
                payload: "{}".into(),
                deliveries: vec![NewDelivery {
                    destination,
                    msg_id: format!("msg_{name}"),
                    leased: false,
                }],
            }]
        } else {
            Vec::new()
        };
        IngestBatch {
            events: vec![NewEvent {
                kind: "schema_change".into(),
                qualified_name: name.into(),
                asset_type: "table".into(),
                change_type: None,
                details: "{}".into(),
                occurred_at: 1,
                dedup_key: None,
                alerts,
            }],
            times: IngestTimes {
                now: 1,
                first_attempt_at: 1,
                dedup_until: 2,
            },
        }
    }

    /// Requests that queued behind a write share the next one; when that
    /// group fails for one request's sake, the others are still stored, and
    /// only the failed one's admitted room is given back.
    #[tokio::test]
    async fn a_failing_request_does_not_fail_its_group() {
        let db = empty_db().await;
        let admission = Admission::new(9);
        let queue = Queue::new(RetryPolicy::new(vec![Duration::ZERO]));
        let groups = groups(&db, &admission, queue);
        for _ in 0..3 {
            admission.admit(&db, 3).await.unwrap();
        }
        let gate = db.write_turn().await;
        let store = |name: &'static str, broken: bool| {
            let groups = groups.clone();
            tokio::spawn(async move { groups.store(batch(name, broken), 3, 0).await })
        };
        let first = store("first", false);
        tokio::time::sleep(Duration::from_millis(50)).await;
        // These two queue while the first waits for the write turn: one group.
        let broken = store("broken", true);
        let third = store("third", false);
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(gate);
        assert!(first.await.unwrap().is_ok());
        assert!(matches!(broken.await.unwrap(), Err(GroupError::Store(_))));
        assert_eq!(third.await.unwrap().unwrap().len(), 1);
        let stored: (i64,) = sqlx::query_as("SELECT count(*) FROM events")
            .fetch_one(match &db {
                Db::Sqlite(pool, _) => pool,
                Db::Postgres(_) => unreachable!(),
            })
            .await
            .unwrap();
        assert_eq!(stored.0, 2);
        // 6 stored and 3 given back: room for exactly 3 more.
        admission.admit(&db, 3).await.unwrap();
        assert!(admission.admit(&db, 1).await.is_err());
    }

    /// A group written again request by request stores its deliveries
    /// unleased: the engine is woken to claim them, not left to its poll.
    #[tokio::test]
    async fn a_group_written_again_wakes_the_engine_for_its_deliveries() {
        let db = empty_db().await;
        exec(
            &db,
            "INSERT INTO rules (id, name, alert_type, enabled, created_at, updated_at) \
                   VALUES (1, 'r', 'schema', TRUE, 0, 0)",
        )
        .await;
        exec(&db, "INSERT INTO destinations (id, name, url, auth_type, signing_secret, created_at, updated_at) \
                   VALUES (1, 'd', 'https://example.com/', 'none', 's', 0, 0)").await;
        let admission = Admission::new(100);
        let queue = Queue::new(RetryPolicy::new(vec![Duration::ZERO]));
        let slots = crate::delivery::engine::handoff::Slots::new(10, 10, Arc::default());
        let mut inbox = queue
            .handoff
            .open(Arc::from("engine"), Duration::from_secs(60), slots);
        let groups = groups(&db, &admission, queue.clone());
        admission.admit(&db, 3).await.unwrap();
        let gate = db.write_turn().await;
        let store = |name: &'static str, destination: i64| {
            let groups = groups.clone();
            tokio::spawn(async move {
                groups
                    .store(with_delivery(name, Some(destination)), 1, 0)
                    .await
            })
        };
        let first = store("first", 1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let broken = store("broken", 999_999);
        let third = store("third", 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(gate);
        assert!(first.await.unwrap().is_ok());
        assert!(broken.await.unwrap().is_err());
        assert!(third.await.unwrap().is_ok());

        // The first was written alone, leased and handed over: no wake-up for it.
        let handed = inbox
            .try_recv()
            .expect("the first delivery was handed over");
        assert!(inbox.try_recv().is_err(), "only the first was handed over");
        let unleased: Vec<String> = crate::store::on_db!(&db, pool => sqlx::query_scalar(
            "SELECT msg_id FROM deliveries WHERE lease_owner IS NULL").fetch_all(pool).await)
        .unwrap();
        assert_eq!(unleased, ["msg_third"]);
        assert_ne!(handed.delivery.msg_id, "msg_third");
        tokio::time::timeout(Duration::from_millis(100), queue.wake.notified())
            .await
            .expect("the engine was woken for the unleased delivery");
    }
}
