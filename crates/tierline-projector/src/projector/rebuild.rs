//! Rebuilding the projections from the whole store in one transaction, a cache's worth
//! of suppliers at a time.

use tierline_clock::Clock;
use tierline_projections::{BulkRows, WriteTx};
use tierline_scoring::Walks;
use tracing::info;

use super::writers::{Input, compute_all};
use super::{Projector, ProjectorError, WRITE_GROUP};

impl Projector {
    /// Rebuilds the projections from the whole store (publication state stays) in one
    /// transaction: until it commits, readers see the previous projections, never an
    /// empty or half-built read model. Suppliers are replayed a cache's worth at a time.
    pub async fn rebuild(&mut self, clock: &dyn Clock) -> Result<usize, ProjectorError> {
        self.ensure_lease().await?;
        self.rebuild_at(clock).await
    }

    /// [`Projector::rebuild`] without taking the lease (the caller holds it).
    pub(super) async fn rebuild_at(&mut self, clock: &dyn Clock) -> Result<usize, ProjectorError> {
        let _renewing = self.keep_lease();
        let started = std::time::Instant::now();
        let today = clock.today(&self.policy);
        let upto = self.store.head_cursor().await?;
        let suppliers = self.store.suppliers_upto(upto).await?;
        self.cache.clear();
        self.cursor = upto;
        self.projected_day = None;
        // Every ledger fits: read them all (one pass over the store) before the write
        // transaction, which on SQLite holds the one writer's lock.
        let everyone = suppliers.len() <= self.cache.capacity();
        let loaded = if everyone {
            let names: Vec<&str> = suppliers.iter().map(String::as_str).collect();
            self.load_ledgers(&names, upto, true).await
        } else {
            Ok(0)
        };
        let result = match loaded {
            Ok(preloaded) => {
                let mut tx = self.projections.begin().await?;
                match self.rebuild_into(&mut tx, &suppliers, clock).await {
                    Ok(n) => self.finish(tx, clock).await.map(|()| n + preloaded),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        let n = match result {
            Ok(n) => n,
            Err(e) => {
                self.loaded = false;
                return Err(e);
            }
        };
        self.cache.end_step();
        self.projected_day = Some(today);
        self.renewed = Some(std::time::Instant::now());
        info!(
            events = n,
            suppliers = suppliers.len(),
            seconds = started.elapsed().as_secs_f64(),
            "rebuilt"
        );
        self.metrics.events_projected.inc_by(n);
        Ok(n as usize)
    }

    /// Empties the projections in `tx` and writes every supplier into them (loading the
    /// ledgers not loaded yet, a cache's worth at a time). Returns the events it read.
    async fn rebuild_into(
        &mut self,
        tx: &mut WriteTx,
        suppliers: &[String],
        clock: &dyn Clock,
    ) -> Result<u64, ProjectorError> {
        tx.reset(&self.lease.name).await?;
        tx.recount_source_days(self.cursor).await?;
        let today = clock.today(&self.policy);
        let mut events = 0;
        let empty = Walks::default();
        for chunk in suppliers.chunks(self.cache.capacity()) {
            let names: Vec<&str> = chunk.iter().map(String::as_str).collect();
            // Loaded already when every ledger fits (see `rebuild_at`).
            if names.iter().any(|s| !self.cache.contains(s)) {
                self.cache.clear();
                events += self.load_ledgers(&names, self.cursor, false).await?;
            }
            let inputs: Vec<Input<'_>> = names
                .iter()
                .filter_map(|s| self.cache.get(s))
                .map(|c| Input {
                    ledger: &c.ledger,
                    stored: &empty,
                    changed: &[],
                    from_start: true,
                })
                .collect();
            let mut written = Vec::with_capacity(inputs.len());
            for part in inputs.chunks(WRITE_GROUP) {
                let mut computed = compute_all(part, today, &self.policy.version);
                // Buckets and tier history go in by bulk rows (COPY on PostgreSQL).
                let mut bulk = BulkRows::for_tx(tx);
                for (c, input) in computed.iter_mut().zip(part) {
                    for (i, day, total) in input.ledger.daily_totals() {
                        if tierline_scoring::persists(i, total) {
                            bulk.day(&c.supplier, i, day, total);
                        }
                    }
                    for (s, t) in c.rows.tiers.drain(..) {
                        bulk.tier(&s, &t);
                    }
                }
                tx.write_bulk(bulk).await?;
                written.extend(self.write_computed(tx, computed, clock).await?);
            }
            drop(inputs);
            for (s, walks, standing) in written {
                if let Some(c) = self.cache.get_mut(&s) {
                    c.walks = walks;
                    c.standing = standing;
                }
            }
            self.cache.end_step();
        }
        Ok(events)
    }
}
