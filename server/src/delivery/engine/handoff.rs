//! First attempts handed from ingest straight to this process's engine,
//! leased in the ingest's own transaction, so they skip the claim query and
//! the wait for it (issue 11). Only what fits the engine's room is handed:
//! the rest is stored unleased and claimed as before. A handed delivery the
//! engine never starts (it stopped, or could not load its destination) keeps
//! its lease until `Engine::shutdown` gives it back or it runs out, then is
//! claimed like any other: at least once still holds.

use super::standing::Standings;
use crate::delivery::targets::Loaded;
use crate::store::deliveries::Claimed;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// The engine's room: attempts in flight in this process, and per destination.
///
/// The circuit breaker: a destination whose last attempt here failed has
/// room for one attempt at a time, until one is delivered. A thousand
/// failing endpoints then hold a thousand attempts, not eight thousand
/// (RELIABILITY.md, section 4); the rest of their queue waits, due, for the
/// attempt in flight to end, instead of hanging or failing beside it.
pub struct Slots {
    pub permits: Arc<Semaphore>,
    in_flight: Mutex<HashMap<i64, i64>>,
    per_destination: i64,
    standings: Arc<Standings>,
}

/// In flight at most at once to a destination whose last attempt failed.
const WHILE_FAILING: i64 = 1;

impl Slots {
    pub fn new(max_in_flight: usize, per_destination: i64, standings: Arc<Standings>) -> Arc<Self> {
        Arc::new(Slots {
            permits: Arc::new(Semaphore::new(max_in_flight)),
            in_flight: Mutex::default(),
            per_destination,
            standings,
        })
    }

    /// How many attempts `destination` may have in flight now.
    fn limit(&self, destination: i64) -> i64 {
        if self.standings.is_failing(destination) {
            self.per_destination.min(WHILE_FAILING)
        } else {
            self.per_destination
        }
    }

    /// Every destination whose room is not the default: those with attempts
    /// in flight and those failing, and how many more each may take.
    pub fn room(&self) -> Vec<(i64, i64)> {
        let Ok(m) = self.in_flight.lock() else {
            return Vec::new();
        };
        let failing = self.standings.failing();
        let idle_failing = failing.into_iter().filter(|d| !m.contains_key(d));
        m.iter()
            .map(|(d, n)| (*d, (self.limit(*d) - n).max(0)))
            .chain(idle_failing.map(|d| (d, self.limit(d))))
            .collect()
    }

    /// A slot if the process and the destination both have room.
    pub fn try_take(self: &Arc<Self>, destination: i64) -> Option<Taken> {
        let mut m = self.in_flight.lock().ok()?;
        if m.get(&destination).copied().unwrap_or(0) >= self.limit(destination) {
            return None;
        }
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        *m.entry(destination).or_default() += 1;
        Some(Taken {
            slots: self.clone(),
            destination,
            _permit: permit,
        })
    }
}

/// A slot held by one attempt; dropping it gives the room back.
pub struct Taken {
    slots: Arc<Slots>,
    destination: i64,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Taken {
    fn drop(&mut self) {
        if let Ok(mut m) = self.slots.in_flight.lock() {
            if let Some(n) = m.get_mut(&self.destination) {
                *n -= 1;
                if *n <= 0 {
                    m.remove(&self.destination);
                }
            }
        }
    }
}

/// A leased first attempt on its way to the engine.
pub struct Handed {
    pub delivery: Claimed,
    pub body: Arc<[u8]>,
    /// Its destination, when ingest found it kept (`Targets::kept`).
    pub target: Option<Loaded>,
    pub slot: Taken,
}

/// A delivery the ingest write stored leased: its place in the write, what
/// the engine needs to start it, and its destination if ingest found it kept.
pub struct Leased {
    pub place: usize,
    pub delivery: Claimed,
    pub body: Arc<[u8]>,
    pub target: Option<Loaded>,
}

/// The door between ingest and a running engine; shut when none runs.
#[derive(Default)]
pub struct Handoff {
    open: Mutex<Option<Open>>,
}

struct Open {
    owner: Arc<str>,
    lease: Duration,
    slots: Arc<Slots>,
    engine: mpsc::UnboundedSender<Handed>,
}

impl Handoff {
    pub(crate) fn open(
        &self,
        owner: Arc<str>,
        lease: Duration,
        slots: Arc<Slots>,
    ) -> mpsc::UnboundedReceiver<Handed> {
        let (engine, inbox) = mpsc::unbounded_channel();
        if let Ok(mut open) = self.open.lock() {
            *open = Some(Open {
                owner,
                lease,
                slots,
                engine,
            });
        }
        inbox
    }

    pub(super) fn close(&self) {
        if let Ok(mut open) = self.open.lock() {
            *open = None;
        }
    }

    /// Room for as many of these first attempts (by destination, in order;
    /// `None` for one that is not to be handed) as the engine can start now;
    /// `None` when no engine runs here or it has no room.
    pub fn reserve(&self, destinations: &[Option<i64>], now_ms: i64) -> Option<Reservation> {
        let open = self.open.lock().ok()?;
        let open = open.as_ref()?;
        let slots: Vec<Option<Taken>> = destinations
            .iter()
            .map(|d| d.and_then(|d| open.slots.try_take(d)))
            .collect();
        if slots.iter().all(Option::is_none) {
            return None;
        }
        let lease_ms = i64::try_from(open.lease.as_millis()).unwrap_or(60_000);
        Some(Reservation {
            owner: open.owner.clone(),
            lease_until: now_ms + lease_ms,
            slots,
            engine: open.engine.clone(),
        })
    }
}

/// Slots held for the deliveries of one ingest write, by their order in it.
pub struct Reservation {
    pub owner: Arc<str>,
    pub lease_until: i64,
    slots: Vec<Option<Taken>>,
    engine: mpsc::UnboundedSender<Handed>,
}

impl Reservation {
    /// Whether the `i`-th delivery of the write has a slot (and is leased).
    pub fn has(&self, i: usize) -> bool {
        self.slots.get(i).is_some_and(Option::is_some)
    }

    /// After the commit: starts the stored leased deliveries, each with the
    /// slot of its place in the write. Slots of deliveries not stored (a
    /// duplicate event) are given back when the reservation drops.
    pub fn hand(mut self, stored: Vec<Leased>) {
        for Leased {
            place,
            delivery,
            body,
            target,
        } in stored
        {
            let Some(slot) = self.slots.get_mut(place).and_then(Option::take) else {
                continue;
            };
            // A stopped engine drops it: the lease is given back or runs out.
            let _ = self.engine.send(Handed {
                delivery,
                body,
                target,
                slot,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_keep_to_the_engine_room() {
        let slots = Slots::new(3, 2, Arc::default());
        let handoff = Handoff::default();
        assert!(
            handoff.reserve(&[Some(1)], 0).is_none(),
            "no engine, no hand-off"
        );
        let _inbox = handoff.open(Arc::from("w"), Duration::from_secs(60), slots.clone());
        let first = handoff
            .reserve(&[Some(1), Some(1), Some(1), None, Some(2)], 5)
            .unwrap();
        assert_eq!(first.lease_until, 60_005);
        assert_eq!(
            (0..5).map(|i| first.has(i)).collect::<Vec<_>>(),
            [true, true, false, false, true],
            "two per destination, three in all"
        );
        assert!(
            handoff.reserve(&[Some(3)], 5).is_none(),
            "the process is full"
        );
        assert_eq!(slots.room().into_iter().collect::<HashMap<_, _>>()[&1], 0);
        drop(first);
        assert!(
            slots.room().is_empty(),
            "an unused reservation gives its room back"
        );
        handoff.close();
        assert!(handoff.reserve(&[Some(1)], 0).is_none());
    }

    #[test]
    fn a_failing_destination_has_one_attempt_in_flight_until_one_is_delivered() {
        use super::super::standing::Standing;
        let standings = Arc::new(Standings::default());
        let slots = Slots::new(100, 8, standings.clone());
        standings.settle(1, Standing::Failing);
        let room: HashMap<_, _> = slots.room().into_iter().collect();
        assert_eq!(room.get(&1), Some(&1), "the claim is told: one");
        assert_eq!(room.get(&2), None, "others keep the default");
        let first = slots.try_take(1).expect("one attempt");
        assert!(slots.try_take(1).is_none(), "a second waits");
        assert_eq!(slots.room(), [(1, 0)]);
        let others: Vec<_> = (0..8).filter_map(|_| slots.try_take(2)).collect();
        assert_eq!(others.len(), 8, "a destination not failing keeps its 8");
        drop(first);
        standings.settle(1, Standing::Answers);
        let again: Vec<_> = (0..8).filter_map(|_| slots.try_take(1)).collect();
        assert_eq!(again.len(), 8, "delivered again: the whole room");
    }
}
