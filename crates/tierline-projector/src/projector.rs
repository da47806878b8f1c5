//! Tailing the store into projections: opening at the checkpoint and stepping along the
//! store. The lease is in `lease`, the service loop in `service`, rebuilding in
//! `rebuild`. The ledgers are a cache over the store (`cache`, loaded by `load`); what
//! a step writes for each supplier is computed in `writers`, its
//! alert and tier announcements in `alerts`, and the whole step's rows are written
//! together, one statement per table.

mod alerts;
mod cache;
mod closed_loop;
mod lease;
mod load;
mod rebuild;
mod service;
mod sources;
mod writers;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tierline_clock::Clock;
use tierline_events::{Codec, Date};
use tierline_projections::{Checkpoint, Lease, PageRows, Projections, ProjectionsError, WriteTx};
use tierline_scoring::{Indicator, Policy, Walks};
use tierline_store::{Cursor, EventStore, Store, StoreError};
use tracing::{instrument, warn};

use cache::Cache;
pub use lease::{LEASE_TTL, Role};
use writers::{Computed, Input, compute_all};

/// What a step wrote for a supplier: its walks and standing, kept with its ledger once
/// the step commits.
type Written = (String, Walks, Option<tierline_projections::StandingRow>);

/// Suppliers computed and written together: one statement per table for each group
/// (large enough to amortise a statement; small enough that a step's rows of ten
/// thousand suppliers are never all in memory at once).
const WRITE_GROUP: usize = 1000;

/// Ledgers kept in memory by default: each a supplier's events by entity, so memory
/// grows with the history of the suppliers kept, not of all suppliers.
pub const DEFAULT_LEDGER_CACHE: usize = 10_000;

/// Errors of the projector.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The read model failed.
    #[error(transparent)]
    Projections(#[from] ProjectionsError),
    /// A stored event cannot be read.
    #[error("stored event at position {position} cannot be read: {reason}")]
    Unreadable {
        /// Its position.
        position: i64,
        /// Why.
        reason: String,
    },
    /// An outgoing message broke the contract (a bug).
    #[error("outgoing message is invalid: {0}")]
    Invalid(#[from] tierline_events::ValidationError),
    /// Another projector holds this name's lease: this one is on standby.
    #[error("another projector holds the lease on `{0}`: standing by")]
    Standby(String),
}

impl ProjectorError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ProjectorError::Store(e) => e.is_transient(),
            ProjectorError::Projections(e) => e.is_transient(),
            ProjectorError::Standby(_) => true,
            _ => false,
        }
    }
}

/// SHA-256 of the resolved policy as JSON (maps in key order, so the same policy gives
/// the same digest whatever its file's layout).
fn policy_digest(policy: &Policy) -> String {
    use sha2::Digest;
    let json = serde_json::to_vec(policy).unwrap_or_default();
    sha2::Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The projector: a cache of supplier ledgers over the store, and the cursor the read
/// model reflects.
pub struct Projector {
    store: Store,
    projections: Projections,
    codec: Codec,
    policy: Arc<Policy>,
    lease: Lease,
    /// Whether the cache and cursor reflect the checkpoint under a lease this projector
    /// holds.
    loaded: bool,
    /// When the lease was last renewed (by taking it or by a fenced commit).
    renewed: Option<std::time::Instant>,
    cache: Cache,
    cursor: Cursor,
    projected_day: Option<Date>,
    /// Write each supplier by itself, walking from its first day (the benchmark's
    /// baseline: how every step worked before steps were batched).
    per_supplier: bool,
    /// `ce_source` of published messages.
    source: String,
    metrics: Arc<crate::ProjectorMetrics>,
    /// When the lag gauges were last measured.
    lag_observed: Option<std::time::Instant>,
    /// When the source-health gauges were last measured.
    sources_observed: Option<std::time::Instant>,
    sources_every: Duration,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector")
            .field("name", &self.lease.name)
            .field("cursor", &self.cursor)
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl Projector {
    /// Prepares the projection tables and, if this projector can take the lease on
    /// `name`, opens at the checkpoint (a checkpoint made under another policy rebuilds
    /// the projections); otherwise it stands by until [`Projector::step`] can take it.
    pub async fn open(
        store: Store,
        codec: Codec,
        policy: Arc<Policy>,
        name: &str,
    ) -> Result<Projector, ProjectorError> {
        Projector::open_with_lease(store, codec, policy, name, LEASE_TTL).await
    }

    /// [`Projector::open`] with a lease of `ttl` (how long it lasts unless renewed: the
    /// takeover time after a crash) instead of [`LEASE_TTL`].
    pub async fn open_with_lease(
        store: Store,
        codec: Codec,
        policy: Arc<Policy>,
        name: &str,
        ttl: Duration,
    ) -> Result<Projector, ProjectorError> {
        let projections = Projections::of(&store);
        projections.migrate().await?;
        let mut p = Projector {
            store,
            projections,
            codec,
            policy,
            lease: lease::new(name, ttl),
            loaded: false,
            renewed: None,
            cache: Cache::new(DEFAULT_LEDGER_CACHE),
            cursor: Cursor::START,
            lag_observed: None,
            sources_observed: None,
            sources_every: sources::EVERY,
            projected_day: None,
            per_supplier: false,
            source: "tierline".into(),
            metrics: Arc::new(crate::ProjectorMetrics::default()),
        };
        match p.ensure_lease().await {
            Ok(()) | Err(ProjectorError::Standby(_)) => Ok(p),
            Err(e) => Err(e),
        }
    }

    /// Keeps at most `suppliers` ledgers in memory between steps (at least one). Results
    /// do not depend on it: an evicted ledger is reloaded from the store when needed.
    pub fn set_ledger_cache(&mut self, suppliers: usize) {
        self.cache.set_capacity(suppliers);
        self.cache.end_step();
    }

    /// Writes each supplier by itself, walking from its first day: how steps worked
    /// before they were batched. For the benchmark's same-run baseline.
    #[doc(hidden)]
    pub fn set_per_supplier(&mut self, on: bool) {
        self.per_supplier = on;
    }

    /// Opens at the checkpoint, loading nothing yet (a rebuild if the policy changed).
    async fn load(&mut self) -> Result<(), ProjectorError> {
        self.cache.clear();
        self.cursor = Cursor::START;
        self.projected_day = None;
        let Some(c) = self.projections.checkpoint(&self.lease.name).await? else {
            return Ok(());
        };
        let changed_content = c
            .policy_digest
            .as_ref()
            .is_some_and(|d| *d != policy_digest(&self.policy));
        if c.policy_version != self.policy.version || changed_content {
            warn!(old = %c.policy_version, new = %self.policy.version, changed_content, "policy changed: rebuilding the projections");
            // Until the rebuild commits, readers see the projections of the old policy;
            // it brings them to the day they were at.
            let day = tierline_clock::FixedClock::noon(c.projected_day.unwrap_or(Date(0)));
            self.rebuild_at(&day).await?;
            return Ok(());
        }
        self.cursor = c.cursor;
        self.projected_day = c.projected_day;
        self.count_sources_if_new().await
    }

    /// Stages a cached supplier's events of a page and settles its ledger once.
    /// Returns the days whose buckets changed.
    fn stage(
        &mut self,
        supplier: &str,
        events: &[&tierline_store::StoredEvent],
    ) -> Result<Vec<(Indicator, Date)>, ProjectorError> {
        let Some(c) = self.cache.get_mut(supplier) else {
            return Ok(Vec::new());
        };
        for e in events {
            let record = e
                .decode(&self.codec)
                .map_err(|err| ProjectorError::Unreadable {
                    position: e.position,
                    reason: err.to_string(),
                })?;
            c.ledger.stage(&record);
        }
        Ok(c.ledger.settle_buckets())
    }

    /// Its metrics.
    pub fn metrics(&self) -> Arc<crate::ProjectorMetrics> {
        self.metrics.clone()
    }

    /// The read model it writes.
    pub fn projections(&self) -> &Projections {
        &self.projections
    }

    /// Where the projections are.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// Suppliers whose ledgers are in memory.
    pub fn suppliers(&self) -> usize {
        self.cache.len()
    }

    /// Projects up to `limit` more events, and every supplier when the day rolled over.
    /// Returns the number of events projected; [`ProjectorError::Standby`] while another
    /// projector holds the lease.
    #[instrument(skip_all, fields(cursor = %self.cursor))]
    pub async fn step(&mut self, clock: &dyn Clock, limit: usize) -> Result<usize, ProjectorError> {
        self.ensure_lease().await?;
        let page = self.store.read_global(self.cursor, limit).await?;
        let today = clock.today(&self.policy);
        let rollover = self.projected_day != Some(today);
        if page.is_empty() && !rollover {
            // Nothing visible: caught up, or held back by an open transaction.
            if self.stall_due() {
                self.observe_lag_events().await?;
                self.observe_stall().await?;
            }
            self.observe_sources(clock).await?;
            return Ok(0);
        }
        let _renewing = self.keep_lease();
        let result = self.project_page(&page, rollover, clock).await;
        self.committed(result, today)?;
        self.metrics.events_projected.inc_by(page.len() as u64);
        self.metrics.suppliers.set(self.cache.len() as i64);
        self.observe_lag_events().await?;
        if self.stall_due() {
            self.observe_stall().await?;
        }
        self.observe_sources(clock).await?;
        Ok(page.len())
    }

    /// Events behind the store's head (by position).
    async fn observe_lag_events(&self) -> Result<(), ProjectorError> {
        let head = self.projections.head_position().await?;
        self.metrics
            .projection_lag_events
            .set(head.map_or(0, |h| (h - self.cursor.position).max(0)));
        Ok(())
    }

    /// Whether a second has passed since the stall gauges were measured (and if so,
    /// they are measured now).
    fn stall_due(&mut self) -> bool {
        let due = self
            .lag_observed
            .is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1));
        if due {
            self.lag_observed = Some(std::time::Instant::now());
        }
        due
    }

    /// Sets the gauges that show a stall: seconds behind the oldest stored event not
    /// applied yet, and the age of the oldest open transaction (which hides later
    /// commits).
    async fn observe_stall(&self) -> Result<(), ProjectorError> {
        let behind = self
            .projections
            .lag_seconds_after(self.cursor.position)
            .await?
            .map_or(0.0, |s| s.max(0.0));
        self.metrics.projection_lag_seconds.set(behind);
        let oldest = self.projections.oldest_transaction_seconds().await?;
        self.metrics
            .oldest_transaction_seconds
            .set(oldest.unwrap_or(0.0).max(0.0));
        Ok(())
    }

    /// Stages a page into its suppliers' ledgers and writes them (and, on a rollover,
    /// every other supplier) in one transaction, a cache's worth of suppliers at a time.
    /// Returns the walks committed.
    async fn project_page(
        &mut self,
        page: &[tierline_store::StoredEvent],
        rollover: bool,
        clock: &dyn Clock,
    ) -> Result<Vec<Written>, ProjectorError> {
        let mut by_supplier: BTreeMap<&str, Vec<&tierline_store::StoredEvent>> = BTreeMap::new();
        for e in page {
            by_supplier.entry(&e.supplier_id).or_default().push(e);
        }
        let before = self.cursor;
        let mut tx = self.projections.begin().await?;
        let mut written: Vec<Written> = Vec::new();
        let suppliers: Vec<&str> = by_supplier.keys().copied().collect();
        let large = suppliers.len() > self.cache.capacity();
        for chunk in suppliers.chunks(self.cache.capacity()) {
            if large {
                self.cache.make_room(chunk.len());
                written.retain(|(s, _, _)| self.cache.contains(s));
            }
            self.load_ledgers(chunk, before, false).await?;
            let mut group: BTreeMap<String, Vec<(Indicator, Date)>> = BTreeMap::new();
            for s in chunk {
                let events = by_supplier.get(s).map_or(&[][..], Vec::as_slice);
                group.insert((*s).to_owned(), self.stage(s, events)?);
            }
            written.extend(self.write_group(&mut tx, &group, clock).await?);
        }
        if let Some(last) = page.last() {
            self.cursor = last.cursor;
        }
        tx.add_source_days(&tierline_projections::count_page(page))
            .await?;
        if rollover {
            let touched: BTreeSet<&str> = suppliers.iter().copied().collect();
            written.extend(self.roll_over(&mut tx, &touched, clock).await?);
        }
        self.finish(tx, clock).await?;
        Ok(written)
    }

    /// Advances every supplier the page did not touch to today, a cache's worth at a
    /// time (each resumes its walks from the day after the last projected one).
    async fn roll_over(
        &mut self,
        tx: &mut WriteTx,
        touched: &BTreeSet<&str>,
        clock: &dyn Clock,
    ) -> Result<Vec<Written>, ProjectorError> {
        let all = self.store.suppliers_upto(self.cursor).await?;
        let rest: Vec<&String> = all
            .iter()
            .filter(|s| !touched.contains(s.as_str()))
            .collect();
        let mut written: Vec<Written> = Vec::with_capacity(rest.len());
        let unchanged = Vec::new();
        for chunk in rest.chunks(self.cache.capacity()) {
            let names: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
            // Keeps memory to a cache's worth while the rollover goes on (the walks of
            // evicted suppliers are not kept either).
            let missing = names.iter().filter(|s| !self.cache.contains(s)).count();
            self.cache.make_room(missing);
            written.retain(|(s, _, _)| self.cache.contains(s));
            self.load_ledgers(&names, self.cursor, false).await?;
            let group: BTreeMap<String, Vec<(Indicator, Date)>> = chunk
                .iter()
                .map(|s| ((*s).clone(), unchanged.clone()))
                .collect();
            written.extend(self.write_group(tx, &group, clock).await?);
        }
        Ok(written)
    }

    /// Writes a group of cached suppliers (their changed days given): all together, or
    /// one by one in the per-supplier baseline.
    async fn write_group(
        &self,
        tx: &mut WriteTx,
        group: &BTreeMap<String, Vec<(Indicator, Date)>>,
        clock: &dyn Clock,
    ) -> Result<Vec<Written>, ProjectorError> {
        let inputs: Vec<Input<'_>> = group
            .iter()
            .filter_map(|(s, days)| {
                self.cache.get(s).map(|c| Input {
                    ledger: &c.ledger,
                    stored: &c.walks,
                    changed: days,
                    from_start: self.per_supplier,
                })
            })
            .collect();
        let today = clock.today(&self.policy);
        let mut written = Vec::with_capacity(inputs.len());
        if !self.per_supplier {
            for part in inputs.chunks(WRITE_GROUP) {
                let computed = compute_all(part, today, &self.policy.version);
                written.extend(self.write_computed(tx, computed, clock).await?);
            }
            return Ok(written);
        }
        for input in &inputs {
            let computed = vec![writers::compute(input, today, &self.policy.version)];
            written.extend(self.write_computed(tx, computed, clock).await?);
        }
        Ok(written)
    }

    /// Announces and writes computed suppliers; returns their walks.
    async fn write_computed(
        &self,
        tx: &mut WriteTx,
        computed: Vec<Computed>,
        clock: &dyn Clock,
    ) -> Result<Vec<Written>, ProjectorError> {
        let mut rows = PageRows::default();
        let ledger = |s: &str| self.cache.get(s).map(|c| &c.ledger);
        let last = |s: &str| self.cache.get(s).and_then(|c| c.standing.as_ref());
        let mut standings = self
            .announce_page(
                tx,
                &computed,
                ledger,
                last,
                clock.today(&self.policy),
                clock.now(),
                &mut rows,
            )
            .await?;
        let mut written = Vec::with_capacity(computed.len());
        for c in computed {
            rows.extend(c.rows);
            let standing = standings.remove(&c.supplier);
            written.push((c.supplier, c.walks, standing));
        }
        tx.write_page(&rows).await?;
        Ok(written)
    }

    /// Saves the checkpoint and commits `tx`, fenced by the lease.
    async fn finish(&self, mut tx: WriteTx, clock: &dyn Clock) -> Result<(), ProjectorError> {
        let today = clock.today(&self.policy);
        tx.save_checkpoint(
            &self.lease.name,
            &Checkpoint {
                cursor: self.cursor,
                projected_day: Some(today),
                policy_version: self.policy.version.clone(),
                policy_digest: Some(policy_digest(&self.policy)),
            },
            clock.now(),
        )
        .await?;
        if !tx.fence(&self.lease).await? {
            return Err(ProjectorError::Standby(self.lease.name.clone()));
        }
        tx.commit().await?;
        // Wakes a relay of this process on SQLite (PostgreSQL's NOTIFY went with the commit).
        self.store.signal_projected();
        Ok(())
    }

    /// Notes what a step's commit wrote, or that it failed.
    fn committed(
        &mut self,
        result: Result<Vec<Written>, ProjectorError>,
        today: Date,
    ) -> Result<(), ProjectorError> {
        match result {
            Ok(written) => {
                for (supplier, walks, standing) in written {
                    if let Some(c) = self.cache.get_mut(&supplier) {
                        c.walks = walks;
                        c.standing = standing;
                    }
                }
                self.cache.end_step();
                self.projected_day = Some(today);
                self.renewed = Some(std::time::Instant::now());
                Ok(())
            }
            Err(e) => {
                // Whether a failed commit took effect is unknown: reopen at the
                // checkpoint before the next step (which also drops what this step
                // staged).
                self.loaded = false;
                Err(e)
            }
        }
    }

    /// Projects until the store has nothing more.
    pub async fn catch_up(
        &mut self,
        clock: &dyn Clock,
        batch: usize,
    ) -> Result<usize, ProjectorError> {
        let mut total = 0;
        loop {
            let n = self.step(clock, batch).await?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }
}
