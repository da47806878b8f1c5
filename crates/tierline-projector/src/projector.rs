//! Tailing the store into projections: opening at the checkpoint, stepping along the
//! store, rebuilding. Writing one supplier's projections is in `writers`, its alert
//! and tier announcements in `alerts`.

mod alerts;
mod writers;

use writers::{BulkRows, walk_all};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Row};
use tierline_events::{Codec, Date, Timestamp};
use tierline_scoring::{Policy, SupplierLedger, TierDay};

pub use crate::clock::{Clock, FixedClock, SystemClock};
use tierline_store::{Cursor, EventStore, PgStore, StoreError};
use tracing::{info, instrument, warn};

/// Errors of the projector.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A projection query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
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
}

impl ProjectorError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ProjectorError::Store(e) => e.is_transient(),
            ProjectorError::Database(e) => tierline_store::is_transient_sqlx(e),
            _ => false,
        }
    }
}

/// Creates or upgrades the projection tables and the outbox (the projector and the
/// relay both call it, so either may start first).
pub async fn migrate(pool: &PgPool) -> Result<(), ProjectorError> {
    // The store's own migrations share the bookkeeping table: ignore them.
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}

/// The channel notified (on commit) whenever the projections change.
pub const PROJECTIONS_CHANNEL: &str = "tierline_projections";
const NOTIFY: &str = "NOTIFY tierline_projections";

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

fn pg_date(d: Date) -> NaiveDate {
    d.to_naive().unwrap_or_default()
}

fn pg_ts(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.0).unwrap_or_default()
}

/// The projector: in-memory ledgers of every supplier, and the cursor they reflect.
pub struct Projector {
    store: PgStore,
    pool: PgPool,
    codec: Codec,
    policy: Arc<Policy>,
    name: String,
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
    metrics: Arc<crate::Metrics>,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector")
            .field("name", &self.name)
            .field("cursor", &self.cursor)
            .field("suppliers", &self.ledgers.len())
            .finish()
    }
}

impl Projector {
    /// Prepares the projection tables and loads the ledgers up to the checkpoint.
    /// A checkpoint made under another policy version starts the projections over.
    pub async fn open(
        store: PgStore,
        codec: Codec,
        policy: Arc<Policy>,
        name: &str,
    ) -> Result<Projector, ProjectorError> {
        let pool = store.pool().clone();
        migrate(&pool).await?;
        let mut p = Projector {
            store,
            pool,
            codec,
            policy,
            name: name.to_owned(),
            ledgers: HashMap::new(),
            written_tiers: HashMap::new(),
            cursor: Cursor::START,
            projected_day: None,
            source: "tierline".into(),
            metrics: Arc::new(crate::Metrics::projector()),
        };
        let row = sqlx::query("SELECT txid, position, projected_day, policy_version, policy_digest FROM projection_checkpoint WHERE name = $1")
            .bind(&p.name)
            .fetch_optional(&p.pool)
            .await?;
        if let Some(row) = row {
            let version: String = row.try_get(3)?;
            let digest: Option<String> = row.try_get(4)?;
            let changed_content = digest.is_some_and(|d| d != policy_digest(&p.policy));
            if version != p.policy.version || changed_content {
                warn!(old = %version, new = %p.policy.version, changed_content, "policy changed: rebuilding the projections");
                p.reset().await?;
            } else {
                let target = Cursor {
                    txid: row.try_get::<i64, _>(0)? as u64,
                    position: row.try_get(1)?,
                };
                p.projected_day = row
                    .try_get::<Option<NaiveDate>, _>(2)?
                    .map(Date::from_naive);
                // Ledgers up to the checkpoint, writing nothing.
                p.replay(Some(target)).await?;
            }
        }
        Ok(p)
    }

    /// Stages every settled event after the cursor (up to `upto`) into the ledgers by
    /// one COPY, then settles each ledger once. Returns the events read and each
    /// supplier's changed days.
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
    pub fn metrics(&self) -> Arc<crate::Metrics> {
        self.metrics.clone()
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
    /// Returns the number of events projected.
    #[instrument(skip_all, fields(cursor = %self.cursor), err)]
    pub async fn step(&mut self, clock: &dyn Clock, limit: usize) -> Result<usize, ProjectorError> {
        let page = self.store.read_global(self.cursor, limit).await?;
        let today = clock.today(&self.policy);
        let rollover = self.projected_day != Some(today);
        if page.is_empty() && !rollover {
            return Ok(0);
        }
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
        self.write_projections(touched, clock, false).await?;
        self.metrics.events_projected.inc_by(page.len() as u64);
        self.metrics.suppliers.set(self.ledgers.len() as i64);
        let head: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
            .fetch_one(&self.pool)
            .await?;
        self.metrics
            .projection_lag_events
            .set(head.map_or(0, |h| (h - self.cursor.position).max(0)));
        Ok(page.len())
    }

    /// Projects the given suppliers (with the days whose buckets changed), advances the
    /// checkpoint, all in one transaction.
    async fn write_projections(
        &mut self,
        touched: BTreeMap<String, BTreeSet<Date>>,
        clock: &dyn Clock,
        bulk: bool,
    ) -> Result<(), ProjectorError> {
        match self.write_projections_once(touched, clock, bulk).await {
            Ok(written) => {
                self.written_tiers.extend(written);
                Ok(())
            }
            Err(e) => {
                // Whether a failed commit took effect is unknown: rewrite whole next time.
                self.written_tiers.clear();
                Err(e)
            }
        }
    }

    /// [`Projector::write_projections`]; returns the tier history written per supplier.
    async fn write_projections_once(
        &mut self,
        touched: BTreeMap<String, BTreeSet<Date>>,
        clock: &dyn Clock,
        bulk: bool,
    ) -> Result<Vec<(String, Vec<TierDay>)>, ProjectorError> {
        let today = clock.today(&self.policy);
        let mut tx = self.pool.begin().await?;
        let mut rows = bulk.then(BulkRows::default);
        // A rebuild walks every supplier: on all cores, before the writes.
        let mut walked = if bulk {
            walk_all(&self.ledgers, today)
        } else {
            HashMap::new()
        };
        let mut written = Vec::with_capacity(touched.len());
        for (supplier, days) in &touched {
            let walk = walked.remove(supplier.as_str());
            if let Some(history) = self
                .project_supplier(&mut tx, supplier, days, clock, rows.as_mut(), walk)
                .await?
            {
                written.push((supplier.clone(), history));
            }
        }
        if let Some(rows) = rows {
            for (table, text) in [
                (
                    "indicator_daily (supplier_id, indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts)",
                    rows.daily,
                ),
                ("tier_history (supplier_id, day, score, tier)", rows.tiers),
            ] {
                let mut copy = tx
                    .copy_in_raw(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
                    .await?;
                copy.send(text.finish()).await?;
                copy.finish().await?;
            }
        }
        sqlx::query(
            "INSERT INTO projection_checkpoint (name, txid, position, projected_day, policy_version, policy_digest)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET txid = EXCLUDED.txid, position = EXCLUDED.position,
                 projected_day = EXCLUDED.projected_day, policy_version = EXCLUDED.policy_version,
                 policy_digest = EXCLUDED.policy_digest, updated_at = now()",
        )
        .bind(&self.name)
        .bind(self.cursor.txid as i64)
        .bind(self.cursor.position)
        .bind(pg_date(today))
        .bind(&self.policy.version)
        .bind(policy_digest(&self.policy))
        .execute(&mut *tx)
        .await?;
        // Readers caching projections drop their caches when this transaction commits.
        sqlx::query(NOTIFY).execute(&mut *tx).await?;
        tx.commit().await?;
        self.projected_day = Some(today);
        Ok(written)
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
    /// every event into the ledgers first (one COPY out of the store), then each
    /// supplier projected once.
    pub async fn rebuild(&mut self, clock: &dyn Clock) -> Result<usize, ProjectorError> {
        self.reset().await?;
        let started = std::time::Instant::now();
        let (n, touched) = self.replay(None).await?;
        let replayed = started.elapsed();
        self.write_projections(touched, clock, true).await?;
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

    async fn reset(&mut self) -> Result<(), ProjectorError> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM indicator_daily",
            "DELETE FROM scorecards",
            "DELETE FROM tier_history",
            "DELETE FROM alert_episodes WHERE published_state IS NULL",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM projection_checkpoint WHERE name = $1")
            .bind(&self.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(NOTIFY).execute(&mut *tx).await?;
        tx.commit().await?;
        self.ledgers.clear();
        self.written_tiers.clear();
        self.cursor = Cursor::START;
        self.projected_day = None;
        Ok(())
    }
}
