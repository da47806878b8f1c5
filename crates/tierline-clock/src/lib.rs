//! "Now", for the imperative shell; scoring itself never reads a clock.
//!
//! Services take a `&dyn Clock`: [`SystemClock`] in production, [`FixedClock`] to
//! evaluate as of a pinned instant, and [`FileClock`] for tests whose processes share
//! one instant that the test moves (due dates, period closings and midnight rollovers
//! without waiting).

use std::path::PathBuf;
use std::sync::Mutex;

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
    /// The `occurred_at` of a record written now through the API: [`now`](Self::now),
    /// except that a clock pinned to a date gives that date at the current time of day.
    fn write_instant(&self) -> Timestamp {
        self.now()
    }
}

/// A shared clock that configuration structs can carry (`Debug`, `Clone`).
#[derive(Clone)]
pub struct SharedClock(pub std::sync::Arc<dyn Clock>);

impl std::fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not `now()`: a file clock would read its file to be printed.
        f.write_str("SharedClock(..)")
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

impl FixedClock {
    /// Noon (UTC) of `day`.
    pub fn noon(day: Date) -> FixedClock {
        FixedClock(Timestamp(i64::from(day.0) * 86_400_000 + 12 * 3_600_000))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
    fn write_instant(&self) -> Timestamp {
        let day = self.0.0.div_euclid(86_400_000) * 86_400_000;
        Timestamp(day + SystemClock.now().0.rem_euclid(86_400_000))
    }
}

/// A clock that follows the system clock unless its owner pins it (the demo pins it to
/// the last loaded day while history loads, so the dashboard shows the population then).
#[derive(Debug)]
pub struct PinnableClock {
    /// Milliseconds of the pinned instant; `i64::MIN` follows the system clock.
    pinned: std::sync::atomic::AtomicI64,
}

impl Default for PinnableClock {
    fn default() -> Self {
        PinnableClock {
            pinned: std::sync::atomic::AtomicI64::new(i64::MIN),
        }
    }
}

impl PinnableClock {
    /// Holds "now" at `t` until [`PinnableClock::unpin`].
    pub fn pin(&self, t: Timestamp) {
        self.pinned.store(t.0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Follows the system clock again.
    pub fn unpin(&self) {
        self.pinned
            .store(i64::MIN, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Clock for PinnableClock {
    fn now(&self) -> Timestamp {
        match self.pinned.load(std::sync::atomic::Ordering::Relaxed) {
            i64::MIN => SystemClock.now(),
            t => Timestamp(t),
        }
    }
}

/// A clock read from a file holding one RFC 3339 instant, re-read on every call, so
/// separate processes of one test share an instant the test moves by rewriting the
/// file ([`FileClock::set`]). For tests only (`--clock-file`). An unreadable file keeps
/// the last instant read (and says so); before any, the system clock's.
#[derive(Debug)]
pub struct FileClock {
    path: PathBuf,
    last: Mutex<Option<Timestamp>>,
}

impl FileClock {
    /// A clock following `path`.
    pub fn new(path: impl Into<PathBuf>) -> FileClock {
        FileClock {
            path: path.into(),
            last: Mutex::new(None),
        }
    }

    /// Moves every clock following `path` to `t` (written whole, then renamed, so a
    /// reader never sees half an instant).
    pub fn set(path: &std::path::Path, t: Timestamp) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, t.to_string())?;
        std::fs::rename(&tmp, path)
    }

    fn read(&self) -> Result<Timestamp, String> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| e.to_string())?;
        Timestamp::parse_rfc3339(text.trim())
            .ok_or_else(|| format!("not an RFC 3339 instant: {:?}", text.trim()))
    }
}

impl Clock for FileClock {
    fn now(&self) -> Timestamp {
        let mut last = match self.last.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match self.read() {
            Ok(t) => {
                *last = Some(t);
                t
            }
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "clock file unreadable: keeping the last instant");
                last.unwrap_or_else(|| SystemClock.now())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_pinnable_clock_holds_while_pinned() {
        let clock = PinnableClock::default();
        let t = Timestamp::parse_rfc3339("2025-01-01T00:00:00Z").unwrap();
        clock.pin(t);
        assert_eq!(clock.now(), t);
        clock.unpin();
        assert!(clock.now() > t);
    }

    #[test]
    fn a_file_clock_follows_its_file_and_keeps_the_last_instant_when_it_breaks() {
        let path = std::env::temp_dir().join(format!("tierline-clock-{}", std::process::id()));
        let clock = FileClock::new(&path);
        let a = Timestamp::parse_rfc3339("2026-03-01T23:59:00Z").unwrap();
        FileClock::set(&path, a).unwrap();
        assert_eq!(clock.now(), a);
        let b = Timestamp::parse_rfc3339("2026-03-02T00:01:00Z").unwrap();
        FileClock::set(&path, b).unwrap();
        assert_eq!(clock.now(), b);
        assert_eq!(clock.today(&Policy::default()).to_string(), "2026-03-02");
        std::fs::write(&path, "not a time").unwrap();
        assert_eq!(clock.now(), b);
        std::fs::remove_file(&path).unwrap();
    }
}
