//! What the engine knows of each destination from its last attempt in this
//! process: its `Standing`. The pacer (`pacer.rs`) paces failing ones, the
//! lane (`lane.rs`) runs all but cheap answerers at low priority, and the
//! engine's room (`handoff::Slots`) lets a failing one have one attempt in
//! flight at a time (the circuit breaker).

use std::collections::HashMap;
use std::sync::Mutex;

/// What a destination's last attempt in this process says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Delivered, and the answer was cheap to read: the main runtime.
    Answers,
    /// Delivered, but the answer cost much to read (a body past
    /// `MAX_RESPONSE_BYTES`): the lane, not paced.
    Costly,
    /// Not delivered: the lane, paced, one attempt in flight at a time.
    Failing,
}

impl Standing {
    pub fn of(attempt: &crate::delivery::Attempt) -> Self {
        match (attempt.succeeded(), attempt.body_truncated) {
            (true, false) => Standing::Answers,
            (true, true) => Standing::Costly,
            (false, _) => Standing::Failing,
        }
    }
}

/// Every destination's standing, by id; shared by the pacer and the room.
#[derive(Default)]
pub struct Standings(Mutex<HashMap<i64, Standing>>);

impl Standings {
    /// The outcome of the last attempt to `destination` in this process.
    pub fn get(&self, destination: i64) -> Option<Standing> {
        // A poisoned lock knows nothing: no destination is held back.
        self.0.lock().ok()?.get(&destination).copied()
    }

    pub fn is_failing(&self, destination: i64) -> bool {
        self.get(destination) == Some(Standing::Failing)
    }

    /// Keeps what an attempt's outcome says about its destination.
    pub fn settle(&self, destination: i64, standing: Standing) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(destination, standing);
        }
    }

    /// Destinations whose last attempt here failed.
    pub fn failing(&self) -> Vec<i64> {
        self.0
            .lock()
            .map(|map| {
                map.iter()
                    .filter(|(_, s)| **s == Standing::Failing)
                    .map(|(d, _)| *d)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{Attempt, AttemptError, ErrorKind};
    use std::time::Duration;

    #[test]
    fn standing_is_read_from_the_attempt() {
        let mut attempt = Attempt {
            duration: Duration::ZERO,
            status: Some(200),
            reason: None,
            response_headers: Vec::new(),
            body: Vec::new(),
            body_truncated: false,
            error: None,
        };
        assert_eq!(Standing::of(&attempt), Standing::Answers);
        attempt.body_truncated = true;
        assert_eq!(Standing::of(&attempt), Standing::Costly);
        attempt.error = Some(AttemptError {
            kind: ErrorKind::Timeout,
            message: String::new(),
        });
        assert_eq!(Standing::of(&attempt), Standing::Failing);
    }

    #[test]
    fn only_failing_destinations_are_listed_as_failing() {
        let standings = Standings::default();
        standings.settle(1, Standing::Failing);
        standings.settle(2, Standing::Answers);
        standings.settle(3, Standing::Costly);
        assert_eq!(standings.failing(), [1]);
        assert!(standings.is_failing(1) && !standings.is_failing(4));
        standings.settle(1, Standing::Answers);
        assert!(
            standings.failing().is_empty(),
            "delivered again: not failing"
        );
    }
}
