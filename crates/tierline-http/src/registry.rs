//! The connections a port holds, oldest first, and which of them may be evicted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::AbortHandle;

use crate::ConnCtl;

/// Counters of one port, for its service's metrics.
#[derive(Debug, Default)]
pub struct ConnStats {
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections accepted in all.
    pub accepted: AtomicU64,
    /// Idle connections closed to make room for a new one.
    pub evicted: AtomicU64,
    /// New connections closed because every held one was serving a request.
    pub refused: AtomicU64,
}

struct Held {
    id: u64,
    ctl: Arc<ConnCtl>,
    task: Option<AbortHandle>,
}

struct Inner {
    next_id: u64,
    held: VecDeque<Held>,
}

/// Held connections, oldest first.
#[derive(Clone)]
pub(crate) struct Registry {
    inner: Arc<Mutex<Inner>>,
    max: usize,
    stats: Arc<ConnStats>,
}

/// A held connection's place: dropping it (when the connection ends) frees it.
pub(crate) struct Slot {
    id: u64,
    pub(crate) ctl: Arc<ConnCtl>,
    registry: Registry,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut inner = self.registry.lock();
        if let Some(i) = inner.held.iter().position(|h| h.id == self.id) {
            inner.held.remove(i);
            self.registry.stats.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Registry {
    pub(crate) fn new(max: usize, stats: Arc<ConnStats>) -> Registry {
        Registry {
            inner: Arc::new(Mutex::new(Inner {
                next_id: 0,
                held: VecDeque::new(),
            })),
            max,
            stats,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing here panics while holding the lock; recover the data if it did.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for a new connection: at the cap, the oldest connection not serving a
    /// request is closed to make room; `None` when every held one is busy.
    pub(crate) fn admit(&self) -> Option<Slot> {
        let mut inner = self.lock();
        if inner.held.len() >= self.max {
            let idle = inner
                .held
                .iter()
                .position(|h| !h.ctl.busy.load(Ordering::Acquire));
            match idle {
                Some(i) => {
                    if let Some(h) = inner.held.remove(i) {
                        if let Some(task) = h.task {
                            task.abort();
                        }
                        self.stats.open.fetch_sub(1, Ordering::Relaxed);
                        self.stats.evicted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                None => {
                    self.stats.refused.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let ctl = Arc::new(ConnCtl::default());
        inner.held.push_back(Held {
            id,
            ctl: ctl.clone(),
            task: None,
        });
        self.stats.open.fetch_add(1, Ordering::Relaxed);
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            id,
            ctl,
            registry: self.clone(),
        })
    }

    /// Records the task serving the connection whose control block is `ctl`.
    pub(crate) fn started(&self, ctl: &Arc<ConnCtl>, task: AbortHandle) {
        let mut inner = self.lock();
        match inner.held.iter_mut().find(|h| Arc::ptr_eq(&h.ctl, ctl)) {
            Some(h) => h.task = Some(task),
            // Already over (or evicted) before we got here.
            None => task.abort(),
        }
    }

    /// Closes idle connections at once and the rest once their request is done or
    /// `grace` has passed.
    pub(crate) async fn drain(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        loop {
            let remaining = {
                let mut inner = self.lock();
                let late = Instant::now() >= deadline;
                inner.held.retain(|h| {
                    let close = late || !h.ctl.busy.load(Ordering::Acquire);
                    if close {
                        if let Some(task) = &h.task {
                            task.abort();
                        }
                        self.stats.open.fetch_sub(1, Ordering::Relaxed);
                    }
                    !close
                });
                inner.held.len()
            };
            if remaining == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
