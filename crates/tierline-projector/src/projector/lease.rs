//! The projector's lease on its name: taken before any write, renewed in the background
//! while a step works, fencing every commit, released on a clean stop.

use std::time::Duration;

use tierline_projections::Lease;
use tracing::{debug, info, warn};

use super::{Projector, ProjectorError};

/// How long a lease lasts unless renewed: how long a standby waits after the active
/// projector died before it takes over.
pub const LEASE_TTL: Duration = Duration::from_secs(5);

/// Whether a projector projects or stands by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It holds the lease.
    Active,
    /// Another projector holds it.
    Standby,
}

/// A lease on `name` held by this process (a unique holder id per projector).
pub(super) fn new(name: &str, ttl: Duration) -> Lease {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Lease {
        name: name.to_owned(),
        holder: format!(
            "{}-{started:x}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ),
        ttl,
    }
}

/// Renews the lease every third of its life until dropped.
pub(super) struct Renewal(tokio::task::AbortHandle);

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Projector {
    /// Whether this projector is active.
    pub fn role(&self) -> Role {
        if self.loaded {
            Role::Active
        } else {
            Role::Standby
        }
    }

    /// Takes or renews the lease; on taking it, loads the ledgers from the checkpoint
    /// (another projector may have moved it).
    pub(super) async fn ensure_lease(&mut self) -> Result<(), ProjectorError> {
        // Renewed recently enough (every commit renews it, fenced): no round trip.
        let fresh = self
            .renewed
            .is_some_and(|t| t.elapsed() < self.lease.ttl / 3);
        if self.loaded && fresh {
            return Ok(());
        }
        if !self.projections.acquire_lease(&self.lease).await? {
            if self.loaded {
                warn!(name = %self.lease.name, "lost the lease to another projector: standing by");
            }
            self.loaded = false;
            self.metrics.active.set(0);
            return Err(ProjectorError::Standby(self.lease.name.clone()));
        }
        self.renewed = Some(std::time::Instant::now());
        if !self.loaded {
            self.load().await?;
            self.loaded = true;
            self.metrics.active.set(1);
            info!(name = %self.lease.name, cursor = %self.cursor, cached = self.cache.len(), "projector active");
        }
        Ok(())
    }

    /// Keeps the lease alive while a long step or rebuild works. On SQLite a renewal
    /// waits while this projector's own transaction writes (one writer at a time; no
    /// other projector can take the lease then either, and the commit renews it).
    pub(super) fn keep_lease(&self) -> Renewal {
        let (projections, lease) = (self.projections.clone(), self.lease.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease.ttl / 3).await;
                match projections.acquire_lease(&lease).await {
                    Err(e) if e.is_busy() => {
                        debug!(error = %e, "lease renewal waited for a writer; the commit renews it")
                    }
                    Err(e) => warn!(error = %e, "renewing the projector lease failed"),
                    Ok(_) => {}
                }
            }
        });
        Renewal(task.abort_handle())
    }

    /// Gives the lease up so a standby takes over at once (a crash leaves it to expire).
    pub async fn release(&mut self) {
        if let Err(e) = self.projections.release_lease(&self.lease).await {
            warn!(error = %e, "releasing the projector lease failed; it expires by itself");
        }
        self.loaded = false;
        self.renewed = None;
        self.metrics.active.set(0);
    }
}
