//! Tailing the store into projections: the lease, opening at the checkpoint, stepping
//! along the store, rebuilding, and the service loop. Writing one supplier's
//! projections is in `writers`, its alert and tier announcements in `alerts`.

mod alerts;
mod lease;
mod service;
mod writers;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tierline_clock::Clock;
use tierline_events::{Codec, Date};
use tierline_projections::{BulkRows, Checkpoint, Lease, Projections, ProjectionsError, WriteTx};
use tierline_scoring::{Policy, SupplierLedger, TierDay};
use tierline_store::{Cursor, EventStore, Store, StoreError};
use tracing::{info, instrument, warn};

pub use lease::{LEASE_TTL, Role};
use writers::walk_all;

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

/// The projector: in-memory ledgers of every supplier, and the cursor they reflect.
pub struct Projector {
    store: Store,
    projections: Projections,
    codec: Codec,
    policy: Arc<Policy>,
    lease: Lease,
    /// Whether the ledgers reflect the checkpoint under a lease this projector holds.
    loaded: bool,
    /// When the lease was last renewed (by taking it or by a fenced commit).
    renewed: Option<std::time::Instant>,
    ledgers: HashMap<String, SupplierLedger>,
    /// Each supplier's rows in `tier_history` as of the last commit, so a step rewrites
    /// only the days from the first that changed (a live page touches most suppliers,
    /// and rewriting each one's whole year was most of the database's work). Unknown
    /// suppliers are rewritten whole; cleared on any failed write.
    written_tiers: HashMap<String, Vec<TierDay>>,
    cursor: Cursor,
    projected_day: Option<Date>,
    /// `ce_source` of published messages.
    source: String,
    metrics: Arc<crate::ProjectorMetrics>,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector")
            .field("name", &self.lease.name)
            .field("cursor", &self.cursor)
            .field("suppliers", &self.ledgers.len())
            .finish()
    }
}

impl Projector {
    /// Prepares the projection tables and, if this projector can take the lease on
    /// `name`, loads the ledgers up to the checkpoint (a checkpoint made under another
    /// policy starts the projections over); otherwise it stands by until
    /// [`Projector::step`] can take it.
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
            ledgers: HashMap::new(),
            written_tiers: HashMap::new(),
            cursor: Cursor::START,
            projected_day: None,
            source: "tierline".into(),
            metrics: Arc::new(crate::ProjectorMetrics::default()),
        };
        match p.ensure_lease().await {
            Ok(()) | Err(ProjectorError::Standby(_)) => Ok(p),
            Err(e) => Err(e),
        }
    }

    /// Loads the ledgers up to the checkpoint (a fresh start if the policy changed).
    async fn load(&mut self) -> Result<(), ProjectorError> {
        self.ledgers.clear();
        self.written_tiers.clear();
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
            return self.reset().await;
        }
        self.projected_day = c.projected_day;
        // Ledgers up to the checkpoint, writing nothing.
        self.replay(Some(c.cursor)).await?;
        Ok(())
    }

    /// Stages every settled event after the cursor (up to `upto`) into the ledgers (one
    /// COPY on PostgreSQL), then settles each ledger once. Returns the events read and
    /// each supplier's changed days.
    async fn replay(
        &mut self,
        upto: Option<Cursor>,
    ) -> Result<(u64, BTreeMap<String, BTreeSet<Date>>), ProjectorError> {
        let (codec, policy, ledgers) = (&self.codec, &self.policy, &mut self.ledgers);
        let done = self
            .store
            .replay(self.cursor, upto, |e| -> Result<(), ProjectorError> {
                let record = codec.decode_datum(e.fingerprint, e.datum).map_err(|err| {
                    ProjectorError::Unreadable {
                        position: e.cursor.position,
                        reason: err.to_string(),
                    }
                })?;
                let supplier = record.supplier_id();
                match ledgers.get_mut(supplier) {
                    Some(l) => l.stage(&record),
                    None => ledgers
                        .entry(supplier.to_owned())
                        .or_insert_with(|| SupplierLedger::new(supplier, policy.clone()))
                        .stage(&record),
                };
                Ok(())
            })
            .await?;
        self.cursor = done.last;
        let touched = ledgers
            .iter_mut()
            .map(|(s, l)| (s.clone(), l.settle()))
            .collect();
        Ok((done.events, touched))
    }

    /// Stages one stored event into its supplier's ledger (settled per page).
    fn stage(&mut self, e: &tierline_store::StoredEvent) -> Result<(), ProjectorError> {
        let record = e
            .decode(&self.codec)
            .map_err(|err| ProjectorError::Unreadable {
                position: e.position,
                reason: err.to_string(),
            })?;
        self.cursor = e.cursor;
        let ledger = self
            .ledgers
            .entry(e.supplier_id.clone())
            .or_insert_with(|| SupplierLedger::new(e.supplier_id.clone(), self.policy.clone()));
        ledger.stage(&record);
        Ok(())
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

    /// Suppliers known.
    pub fn suppliers(&self) -> usize {
        self.ledgers.len()
    }

    /// Projects up to `limit` more events, or every supplier when the day rolled over.
    /// Returns the number of events projected; [`ProjectorError::Standby`] while another
    /// projector holds the lease.
    #[instrument(skip_all, fields(cursor = %self.cursor))]
    pub async fn step(&mut self, clock: &dyn Clock, limit: usize) -> Result<usize, ProjectorError> {
        self.ensure_lease().await?;
        let page = self.store.read_global(self.cursor, limit).await?;
        let today = clock.today(&self.policy);
        let rollover = self.projected_day != Some(today);
        if page.is_empty() && !rollover {
            return Ok(0);
        }
        let _renewing = self.keep_lease();
        let mut touched: BTreeMap<String, BTreeSet<Date>> = BTreeMap::new();
        for e in &page {
            self.stage(e)?;
            touched.entry(e.supplier_id.clone()).or_default();
        }
        // Each supplier's touched entities are recomputed once per page.
        for (supplier, days) in &mut touched {
            if let Some(l) = self.ledgers.get_mut(supplier) {
                *days = l.settle();
            }
        }
        if rollover {
            for supplier in self.ledgers.keys() {
                touched.entry(supplier.clone()).or_default();
            }
        }
        let mut tx = self.projections.begin().await?;
        let result = match self.write_live(&mut tx, touched, clock).await {
            Ok(written) => self.finish(tx, clock).await.map(|()| written),
            Err(e) => Err(e),
        };
        self.committed(result, today)?;
        self.metrics.events_projected.inc_by(page.len() as u64);
        self.metrics.suppliers.set(self.ledgers.len() as i64);
        let head = self.projections.head_position().await?;
        self.metrics
            .projection_lag_events
            .set(head.map_or(0, |h| (h - self.cursor.position).max(0)));
        Ok(page.len())
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
        Ok(())
    }

    /// Notes what a step's commit wrote, or that it failed.
    fn committed(
        &mut self,
        result: Result<Vec<(String, Vec<TierDay>)>, ProjectorError>,
        today: Date,
    ) -> Result<(), ProjectorError> {
        match result {
            Ok(written) => {
                self.written_tiers.extend(written);
                self.projected_day = Some(today);
                self.renewed = Some(std::time::Instant::now());
                Ok(())
            }
            Err(e) => {
                // Whether a failed commit took effect is unknown: reload before the next
                // step (which also drops what this step staged).
                self.loaded = false;
                Err(e)
            }
        }
    }

    /// Forgets what the tier history rows are, so the next step rewrites each touched
    /// supplier's history whole (what every step did before it wrote only the changed
    /// days). For the benchmark's same-run baseline.
    #[doc(hidden)]
    pub fn forget_written_tier_history(&mut self) {
        self.written_tiers.clear();
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

    /// Drops the projections (publication state stays) and replays the whole store:
    /// every event into the ledgers first (one COPY out of the store on PostgreSQL),
    /// then each supplier projected once.
    pub async fn rebuild(&mut self, clock: &dyn Clock) -> Result<usize, ProjectorError> {
        self.ensure_lease().await?;
        let _renewing = self.keep_lease();
        self.reset().await?;
        let started = std::time::Instant::now();
        let (n, touched) = self.replay(None).await?;
        let replayed = started.elapsed();
        let today = clock.today(&self.policy);
        let mut tx = self.projections.begin().await?;
        let result = match self.write_rebuild(&mut tx, touched, clock).await {
            Ok(written) => self.finish(tx, clock).await.map(|()| written),
            Err(e) => Err(e),
        };
        self.committed(result, today)?;
        info!(
            events = n,
            suppliers = self.ledgers.len(),
            replay_s = replayed.as_secs_f64(),
            projections_s = (started.elapsed() - replayed).as_secs_f64(),
            "rebuilt"
        );
        self.metrics.events_projected.inc_by(n);
        Ok(n as usize)
    }

    /// Writes the touched suppliers of a live step.
    async fn write_live(
        &self,
        tx: &mut WriteTx,
        touched: BTreeMap<String, BTreeSet<Date>>,
        clock: &dyn Clock,
    ) -> Result<Vec<(String, Vec<TierDay>)>, ProjectorError> {
        let mut written = Vec::with_capacity(touched.len());
        for (supplier, days) in &touched {
            let Some(l) = self.ledgers.get(supplier) else {
                continue;
            };
            let walk = writers::Walk::of(l, clock.today(&self.policy));
            self.write_days(tx, l, days).await?;
            self.write_tier_history(tx, l, &walk.history).await?;
            written.push((
                supplier.clone(),
                self.project_supplier(tx, l, walk, clock).await?,
            ));
        }
        Ok(written)
    }

    /// Writes every supplier into emptied tables: the walks on all cores first, the
    /// buckets and tier history by bulk rows.
    async fn write_rebuild(
        &self,
        tx: &mut WriteTx,
        touched: BTreeMap<String, BTreeSet<Date>>,
        clock: &dyn Clock,
    ) -> Result<Vec<(String, Vec<TierDay>)>, ProjectorError> {
        let mut walked = walk_all(&self.ledgers, clock.today(&self.policy));
        let mut rows = BulkRows::for_tx(tx);
        let mut written = Vec::with_capacity(touched.len());
        for supplier in touched.keys() {
            let (Some(l), Some(walk)) =
                (self.ledgers.get(supplier), walked.remove(supplier.as_str()))
            else {
                continue;
            };
            for (i, day, a) in l.daily_totals() {
                if !a.is_empty() {
                    rows.day(supplier, i, day, a);
                }
            }
            for t in &walk.history {
                rows.tier(supplier, t);
            }
            written.push((
                supplier.clone(),
                self.project_supplier(tx, l, walk, clock).await?,
            ));
        }
        tx.write_bulk(rows).await?;
        Ok(written)
    }

    async fn reset(&mut self) -> Result<(), ProjectorError> {
        let mut tx = self.projections.begin().await?;
        tx.reset(&self.lease.name).await?;
        if !tx.fence(&self.lease).await? {
            return Err(ProjectorError::Standby(self.lease.name.clone()));
        }
        tx.commit().await?;
        self.ledgers.clear();
        self.written_tiers.clear();
        self.cursor = Cursor::START;
        self.projected_day = None;
        Ok(())
    }
}
