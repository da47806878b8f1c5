//! The ledgers as a cache over the store: a supplier's ledger is loaded (by the store's
//! supplier index, up to the projector's cursor) when an event or the daily rollover
//! needs it, and the least recently used are evicted beyond the capacity. With each
//! ledger, the walks as last committed, so the next walk resumes where a change begins.

use std::collections::HashMap;

use tierline_projections::StandingRow;
use tierline_scoring::{SupplierLedger, Walks};

/// A cached supplier.
#[derive(Debug)]
pub(super) struct Cached {
    pub(super) ledger: SupplierLedger,
    /// The walks the read model holds for it (to the projected day).
    pub(super) walks: Walks,
    /// The standing the read model holds for it (`None`: not known here), so an
    /// unchanged one is not rewritten.
    pub(super) standing: Option<StandingRow>,
    /// The step it was last used in.
    used: u64,
}

/// Ledgers by supplier, at most `capacity` of them between steps.
#[derive(Debug)]
pub(super) struct Cache {
    entries: HashMap<String, Cached>,
    capacity: usize,
    step: u64,
}

impl Cache {
    /// An empty cache of `capacity` suppliers (at least one).
    pub(super) fn new(capacity: usize) -> Cache {
        Cache {
            entries: HashMap::new(),
            capacity: capacity.max(1),
            step: 0,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(super) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }

    pub(super) fn contains(&self, supplier: &str) -> bool {
        self.entries.contains_key(supplier)
    }

    /// A cached supplier, marked used in this step.
    pub(super) fn get_mut(&mut self, supplier: &str) -> Option<&mut Cached> {
        let step = self.step;
        let c = self.entries.get_mut(supplier)?;
        c.used = step;
        Some(c)
    }

    pub(super) fn get(&self, supplier: &str) -> Option<&Cached> {
        self.entries.get(supplier)
    }

    pub(super) fn insert(&mut self, supplier: String, ledger: SupplierLedger, walks: Walks) {
        let used = self.step;
        self.entries.insert(
            supplier,
            Cached {
                ledger,
                walks,
                standing: None,
                used,
            },
        );
    }

    /// Ends a step: evicts the least recently used beyond the capacity.
    pub(super) fn end_step(&mut self) {
        self.step += 1;
        self.evict(self.entries.len().saturating_sub(self.capacity));
    }

    /// Evicts the least recently used so that `n` more fit within the capacity (the
    /// next group of a step larger than the cache; those of the current step are done).
    pub(super) fn make_room(&mut self, n: usize) {
        self.step += 1;
        let keep = self.capacity.saturating_sub(n);
        self.evict(self.entries.len().saturating_sub(keep));
    }

    fn evict(&mut self, excess: usize) {
        if excess == 0 {
            return;
        }
        let mut by_age: Vec<(u64, &String)> =
            self.entries.iter().map(|(s, c)| (c.used, s)).collect();
        by_age.select_nth_unstable(excess - 1);
        let evicted: Vec<String> = by_age[..excess].iter().map(|(_, s)| (*s).clone()).collect();
        for s in evicted {
            self.entries.remove(&s);
        }
    }
}
