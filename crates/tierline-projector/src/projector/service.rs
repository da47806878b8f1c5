//! The projector as a service: step while there is work, wake when events are appended
//! (polling as the fallback), stand by while another holds the lease, stop cleanly
//! (releasing it).

use std::time::Duration;

use tierline_clock::Clock;
use tracing::{info, warn};

use super::{Projector, ProjectorError};

/// The first look again after a wake-up that found nothing to project.
const FIRST_RETRY: Duration = Duration::from_millis(5);

impl Projector {
    /// Projects until `stop` turns true: at once while there is work, else when events
    /// are appended (or every `idle`, the fallback and the day's rollover); on standby
    /// while another projector holds the lease. Transient failures are logged and
    /// retried; others end the run.
    ///
    /// On PostgreSQL a woken step may find nothing yet: the global cursor reads only
    /// transactions older than every running one, so any other open transaction hides
    /// the new events for a moment. After such a wake it looks again soon (from 5 ms,
    /// doubling up to `idle`) rather than sleeping the whole interval.
    pub async fn run(
        &mut self,
        clock: &dyn Clock,
        batch: usize,
        idle: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), ProjectorError> {
        let mut standing_by = false;
        let mut changes = self.store.changes().await;
        let mut retry: Option<Duration> = None;
        while !*stop.borrow() {
            let n = match self.step(clock, batch).await {
                Ok(n) => {
                    if standing_by {
                        info!(name = %self.lease.name, cursor = %self.cursor, "took the lease: projecting");
                        standing_by = false;
                    }
                    n
                }
                Err(ProjectorError::Standby(name)) => {
                    if !standing_by {
                        info!(%name, "another projector holds the lease: standing by");
                        standing_by = true;
                    }
                    0
                }
                Err(e) if e.is_transient() => {
                    warn!(error = %e, "store unavailable; retrying");
                    0
                }
                Err(e) => return Err(e),
            };
            if n > 0 {
                retry = None;
                continue;
            }
            let wait = retry.map_or(idle, |r| r.min(idle));
            tokio::select! {
                woken = changes.wait(wait) => {
                    retry = if woken {
                        Some(FIRST_RETRY)
                    } else {
                        retry.map(|r| r * 2).filter(|r| *r < idle)
                    };
                }
                _ = stop.changed() => {}
            }
        }
        self.release().await;
        info!(cursor = %self.cursor, "projector stopped");
        Ok(())
    }
}
