//! "Now", for the imperative shell; scoring itself never reads a clock.

use chrono::Utc;
use tierline_events::{Date, Timestamp};
use tierline_scoring::Policy;

/// The source of the current instant.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
    /// Today under `policy` (its time zone), by [`Policy::day_of`] like every date.
    fn today(&self, policy: &Policy) -> Date {
        policy.day_of(self.now())
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(Utc::now().timestamp_millis())
    }
}

/// A clock pinned to an instant (replays and tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
