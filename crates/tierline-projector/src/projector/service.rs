//! The projector as a service: step while there is work, stand by while another holds
//! the lease, stop cleanly (releasing it).

use std::time::Duration;

use tierline_clock::Clock;
use tracing::{info, warn};

use super::{Projector, ProjectorError};

impl Projector {
    /// Projects until `stop` turns true: at once while there is work, else every
    /// `idle`; on standby while another projector holds the lease. Transient failures
    /// are logged and retried; others end the run.
    pub async fn run(
        &mut self,
        clock: &dyn Clock,
        batch: usize,
        idle: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), ProjectorError> {
        let mut standing_by = false;
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
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = stop.changed() => {}
            }
        }
        self.release().await;
        info!(cursor = %self.cursor, "projector stopped");
        Ok(())
    }
}
