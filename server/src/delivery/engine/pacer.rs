//! Pacing for destinations whose last attempt in this process failed
//! (`standing.rs`).
//!
//! A destination whose last attempt failed starts its attempts at a rate
//! shared by all such destinations: thousands of attempts to endpoints that
//! fail (TLS handshakes, resets, oversized answers) cannot take the CPU at
//! once from a destination that answers (RELIABILITY.md, section 4). A
//! destination with no attempt yet here, or whose last one was delivered, is
//! never paced: a new or healthy destination does not wait behind failing ones.
//!
//! Only a destination whose last answer was delivered and cheap to read runs
//! on the main runtime; the others (new here, failing, or sending a body past
//! the limit) run on the lane, at the lowest CPU priority (`lane.rs`). A
//! thousand new endpoints that never answer, or that stream endless bodies,
//! then cost their TLS and parsing only when the CPU is idle.
//!
//! The cost: a destination whose last attempt failed waits its turn with the
//! others, up to the number of paced attempts ahead of it over `RATE`
//! seconds, until one of its attempts is delivered; a new destination's
//! first attempts run at low priority, only slower when the CPU is short.

use super::standing::{Standing, Standings};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Attempts to failing destinations started per second, all of them together.
pub const RATE: u32 = 1_000;
/// About how many of them may start at once before the rate applies.
pub const BURST: u32 = 100;

pub struct Pacer {
    /// When the next paced attempt may start.
    next: Mutex<Instant>,
    standings: Arc<Standings>,
    interval: Duration,
    burst: Duration,
}

impl Pacer {
    pub fn new(rate: u32, burst: u32, standings: Arc<Standings>) -> Self {
        let interval = Duration::from_secs(1) / rate.max(1);
        let burst = interval * burst;
        let now = Instant::now();
        Pacer {
            next: Mutex::new(now.checked_sub(burst).unwrap_or(now)),
            standings,
            interval,
            burst,
        }
    }

    /// Whether attempts to `destination` run on the lane: all but those to a
    /// destination known here to answer cheaply.
    pub fn on_lane(&self, destination: i64) -> bool {
        self.standings.get(destination) != Some(Standing::Answers)
    }

    /// Waits until an attempt to `destination` may start.
    pub async fn admit(&self, destination: i64) {
        if let Some(at) = self.reserve(destination, Instant::now()) {
            tokio::time::sleep_until(at).await;
        }
    }

    /// When an attempt to `destination` may start; `None` for at once.
    fn reserve(&self, destination: i64, now: Instant) -> Option<Instant> {
        if !self.standings.is_failing(destination) {
            return None;
        }
        // A poisoned lock paces nothing rather than stopping deliveries.
        let mut next = self.next.lock().ok()?;
        // Time not used while nothing was paced is kept only up to the burst.
        let start = (*next).max(now.checked_sub(self.burst).unwrap_or(now));
        *next = start + self.interval;
        (start > now).then_some(start)
    }

    /// Keeps what an attempt's outcome says about its destination.
    pub fn settle(&self, destination: i64, standing: Standing) {
        self.standings.settle(destination, standing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pacer of 1,000 a second (1 ms apart) that lets about 3 start at once,
    /// with destinations 0 to 99 failing.
    fn pacer() -> Pacer {
        let pacer = Pacer::new(1_000, 3, Arc::default());
        for n in 0..100 {
            pacer.settle(n, Standing::Failing);
        }
        pacer
    }

    #[test]
    fn failing_destinations_share_the_rate_after_a_burst() {
        let pacer = pacer();
        let now = Instant::now();
        let waits: Vec<Option<Duration>> = (0..8)
            .map(|n| pacer.reserve(n, now).map(|at| at - now))
            .collect();
        let at_once = waits.iter().take_while(|w| w.is_none()).count();
        assert_eq!(
            at_once, 4,
            "the burst (and the current slot) start at once: {waits:?}"
        );
        let later: Vec<_> = waits[at_once..].iter().map(|w| w.unwrap()).collect();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(later, [ms(1), ms(2), ms(3), ms(4)], "then 1 ms apart");
    }

    #[test]
    fn new_and_delivered_destinations_are_not_paced() {
        let pacer = pacer();
        let now = Instant::now();
        for n in 0..10 {
            pacer.reserve(n, now);
        }
        assert_eq!(pacer.reserve(500, now), None, "no attempt yet: at once");
        assert!(pacer.reserve(1, now).is_some(), "failing: waits its turn");
        pacer.settle(1, Standing::Answers);
        assert_eq!(pacer.reserve(1, now), None, "delivered: at once");
        pacer.settle(1, Standing::Costly);
        assert_eq!(pacer.reserve(1, now), None, "delivered, costly: at once");
        pacer.settle(1, Standing::Failing);
        assert!(pacer.reserve(1, now).is_some(), "failed again: paced again");
    }

    #[test]
    fn only_a_destination_known_to_answer_cheaply_leaves_the_lane() {
        let pacer = pacer();
        assert!(pacer.on_lane(500), "no attempt yet: on the lane");
        assert!(pacer.on_lane(1), "failing: on the lane");
        pacer.settle(1, Standing::Answers);
        assert!(!pacer.on_lane(1), "delivered: on the main runtime");
        pacer.settle(1, Standing::Costly);
        assert!(pacer.on_lane(1), "a body past the limit: back on the lane");
        pacer.settle(1, Standing::Failing);
        assert!(pacer.on_lane(1));
    }

    #[test]
    fn idle_time_is_kept_only_up_to_the_burst() {
        let pacer = pacer();
        let a_minute_later = Instant::now() + Duration::from_secs(60);
        let at_once = (0..20)
            .take_while(|n| pacer.reserve(*n, a_minute_later).is_none())
            .count();
        assert_eq!(at_once, 4, "a quiet minute does not save up 60,000 starts");
    }

    #[tokio::test]
    async fn admit_waits_for_its_turn() {
        // 10 a second, no burst: the second attempt starts 100 ms after the first.
        let pacer = Pacer::new(10, 0, Arc::default());
        pacer.settle(1, Standing::Failing);
        let before = Instant::now();
        pacer.admit(1).await;
        pacer.admit(1).await;
        assert!(Instant::now() - before >= Duration::from_millis(100));
    }
}
