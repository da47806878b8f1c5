//! Tailing the store into projections.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Postgres, Row, Transaction};
use tierline_events::{
    AlertLevel, Codec, Date, Framing, Record, SupplierAlertRaised, SupplierAlertResolved,
    SupplierTierChanged, Timestamp,
};
use tierline_scoring::{
    Episode, ID_NAMESPACE, Indicator, Level, Policy, SupplierLedger, Tier, TierDay, WINDOWS,
    indicator_value, tier_change_id,
};

use crate::announce::{Message, Published, Stored, announce};
use tierline_store::{CopyBuf, Cursor, EventStore, PgStore, StoreError};
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

/// "Now", for the imperative shell; scoring itself never reads a clock.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
    /// Today under `policy` (its time zone), by [`Policy::day_of`] like every date.
    fn today(&self, policy: &Policy) -> Date {
        policy.day_of(self.now())
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

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
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

    async fn project_supplier(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        supplier: &str,
        days: &BTreeSet<Date>,
        clock: &dyn Clock,
        mut bulk: Option<&mut BulkRows>,
        walk: Option<Walk>,
    ) -> Result<Option<Vec<TierDay>>, ProjectorError> {
        let Some(l) = self.ledgers.get(supplier) else {
            return Ok(None);
        };
        let today = clock.today(&self.policy);
        let Walk { history, episodes } = walk.unwrap_or_else(|| Walk::of(l, today));
        let now = clock.now();
        if let Some(b) = bulk.as_deref_mut() {
            // A rebuild starts from empty tables: every non-empty total is copied.
            for (i, day, a) in l.daily_totals() {
                if a.is_empty() {
                    continue;
                }
                let r = &mut b.daily;
                r.fields(8);
                r.bytes(supplier.as_bytes());
                r.bytes(i.name().as_bytes());
                r.date(day.0);
                r.f64(a.numerator());
                r.f64(a.denominator());
                r.i64(a.samples as i64);
                r.f64_array(&a.num.canonical_parts());
                r.f64_array(&a.den.canonical_parts());
            }
        }
        // Daily buckets of the days that changed: emptied ones deleted, the rest upserted.
        let days = if bulk.is_some() {
            &BTreeSet::new()
        } else {
            days
        };
        let (mut up_i, mut up_d, mut up_n, mut up_den, mut up_s) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Partials as text array literals: UNNEST cannot take an array of arrays of
        // varying length.
        let (mut up_np, mut up_dp) = (Vec::new(), Vec::new());
        let (mut del_i, mut del_d) = (Vec::new(), Vec::new());
        for day in days {
            for i in Indicator::ALL {
                let a = l.day(i, *day);
                if a.is_empty() {
                    del_i.push(i.name().to_owned());
                    del_d.push(pg_date(*day));
                } else {
                    up_i.push(i.name().to_owned());
                    up_d.push(pg_date(*day));
                    up_n.push(a.numerator());
                    up_den.push(a.denominator());
                    up_s.push(a.samples as i64);
                    up_np.push(float8_array_literal(&a.num.canonical_parts()));
                    up_dp.push(float8_array_literal(&a.den.canonical_parts()));
                }
            }
        }
        if !del_i.is_empty() {
            sqlx::query(
                "DELETE FROM indicator_daily d USING UNNEST($2::text[], $3::date[]) AS k (indicator, day)
                 WHERE d.supplier_id = $1 AND d.indicator = k.indicator AND d.day = k.day",
            )
            .bind(supplier)
            .bind(&del_i)
            .bind(&del_d)
            .execute(&mut **tx)
            .await?;
        }
        if !up_i.is_empty() {
            sqlx::query(
                "INSERT INTO indicator_daily (supplier_id, indicator, day, numerator, denominator, samples,
                                              numerator_parts, denominator_parts)
                 SELECT $1, i, d, n, den, s, np::float8[], dp::float8[]
                 FROM UNNEST($2::text[], $3::date[], $4::float8[], $5::float8[], $6::int8[], $7::text[], $8::text[])
                      AS u (i, d, n, den, s, np, dp)
                 ON CONFLICT (supplier_id, indicator, day) DO UPDATE
                 SET numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator, samples = EXCLUDED.samples,
                     numerator_parts = EXCLUDED.numerator_parts, denominator_parts = EXCLUDED.denominator_parts",
            )
            .bind(supplier)
            .bind(&up_i)
            .bind(&up_d)
            .bind(&up_n)
            .bind(&up_den)
            .bind(&up_s)
            .bind(&up_np)
            .bind(&up_dp)
            .execute(&mut **tx)
            .await?;
        }
        // Tier walk, then the scorecards that show its result.
        let tier = history.last().map_or(Tier::Unrated, |t| t.tier);
        if let Some(b) = bulk {
            for t in &history {
                let r = &mut b.tiers;
                r.fields(4);
                r.bytes(supplier.as_bytes());
                r.date(t.date.0);
                match t.score {
                    Some(v) => r.f64(v),
                    None => r.null(),
                }
                r.bytes(t.tier.name().as_bytes());
            }
        } else {
            // Only the days from the first that differs from what is stored.
            let written = self.written_tiers.get(supplier);
            let same = written.map_or(0, |w| {
                w.iter().zip(&history).take_while(|(a, b)| a == b).count()
            });
            if written.is_none_or(|w| same < w.len() || same < history.len()) {
                let kept_until = same.checked_sub(1).map(|i| pg_date(history[i].date));
                sqlx::query(
                    "DELETE FROM tier_history WHERE supplier_id = $1 AND ($2::date IS NULL OR day > $2)",
                )
                .bind(supplier)
                .bind(kept_until)
                .execute(&mut **tx)
                .await?;
                let fresh = &history[same..];
                sqlx::query(
                    "INSERT INTO tier_history (supplier_id, day, score, tier)
                 SELECT $1, * FROM UNNEST($2::date[], $3::float8[], $4::text[])",
                )
                .bind(supplier)
                .bind(fresh.iter().map(|t| pg_date(t.date)).collect::<Vec<_>>())
                .bind(fresh.iter().map(|t| t.score).collect::<Vec<_>>())
                .bind(
                    fresh
                        .iter()
                        .map(|t| t.tier.name().to_owned())
                        .collect::<Vec<_>>(),
                )
                .execute(&mut **tx)
                .await?;
            }
        }
        for w in WINDOWS {
            let sc = l.scorecard(today, w);
            let indicators: serde_json::Map<String, serde_json::Value> = sc
                .indicators
                .iter()
                .map(|(i, v)| {
                    (
                        i.name().to_owned(),
                        serde_json::json!({"value": v.value, "status": v.status(), "subscore": v.subscore,
                            "numerator": v.numerator, "denominator": v.denominator, "samples": v.samples}),
                    )
                })
                .collect();
            let dimensions: serde_json::Map<String, serde_json::Value> = sc
                .dimensions
                .iter()
                .map(|(d, v)| (d.name().to_owned(), serde_json::json!(v)))
                .collect();
            sqlx::query(
                "INSERT INTO scorecards (supplier_id, window_days, as_of, policy_version, composite, coverage, tier, dimensions, indicators, first_day)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)
                 ON CONFLICT (supplier_id, window_days) DO UPDATE SET as_of = EXCLUDED.as_of, policy_version = EXCLUDED.policy_version,
                     composite = EXCLUDED.composite, coverage = EXCLUDED.coverage, tier = EXCLUDED.tier,
                     dimensions = EXCLUDED.dimensions, indicators = EXCLUDED.indicators, first_day = EXCLUDED.first_day",
            )
            .bind(supplier)
            .bind(w as i32)
            .bind(pg_date(today))
            .bind(&self.policy.version)
            .bind(sc.composite)
            .bind(sc.coverage)
            .bind(tier.name())
            .bind(serde_json::Value::Object(dimensions).to_string())
            .bind(serde_json::Value::Object(indicators).to_string())
            .bind(l.first_day().map(pg_date))
            .execute(&mut **tx)
            .await?;
        }
        self.project_alerts(tx, l, episodes, today, now).await?;
        self.project_tier(tx, l, &history, now).await?;
        Ok(Some(history))
    }

    /// Stores the supplier's current episodes with their publication state, retracts
    /// announced episodes a late event erased, and enqueues what [`announce`] decides.
    async fn project_alerts(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        l: &SupplierLedger,
        episodes: Vec<Episode>,
        today: Date,
        now: Timestamp,
    ) -> Result<(), ProjectorError> {
        let supplier = l.supplier_id();
        let rows = sqlx::query(
            "SELECT alert_id, published_state, announced, raised_at, resolved_at, retracted_at, rule, window_days, value_at_start
             FROM alert_episodes WHERE supplier_id = $1",
        )
        .bind(supplier)
        .fetch_all(&mut **tx)
        .await?;
        let mut stored = HashMap::with_capacity(rows.len());
        let mut known: HashMap<uuid::Uuid, (String, i32, f64)> = HashMap::new();
        for r in &rows {
            let id: uuid::Uuid = r.try_get(0)?;
            let ts = |i: usize| -> Result<Option<Timestamp>, sqlx::Error> {
                Ok(r.try_get::<Option<DateTime<Utc>>, _>(i)?
                    .map(|t| Timestamp(t.timestamp_millis())))
            };
            stored.insert(
                id,
                Stored {
                    state: Published::from_name(r.try_get::<Option<String>, _>(1)?.as_deref()),
                    cycles: r.try_get(2)?,
                    raised_at: ts(3)?,
                    resolved_at: ts(4)?,
                    retracted_at: ts(5)?,
                },
            );
            known.insert(id, (r.try_get(6)?, r.try_get(7)?, r.try_get(8)?));
        }
        let decided = announce(&episodes, &stored, now);
        let mut rows = EpisodeRows::default();
        for (e, (_, state)) in episodes.iter().zip(&decided.current) {
            rows.push(e, state);
        }
        if !rows.id.is_empty() {
            sqlx::query(
                "INSERT INTO alert_episodes (alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
                                             ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at)
                 SELECT id, $1, rule, level, threshold, window_days, started_on, value_at_start, ended_on, value_at_end,
                        published_state, announced, raised_at, resolved_at, NULL
                 FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::float8[], $6::int4[], $7::date[], $8::float8[], $9::date[],
                             $10::float8[], $11::text[], $12::int4[], $13::timestamptz[], $14::timestamptz[])
                      AS e (id, rule, level, threshold, window_days, started_on, value_at_start, ended_on, value_at_end,
                            published_state, announced, raised_at, resolved_at)
                 ON CONFLICT (alert_id) DO UPDATE SET ended_on = EXCLUDED.ended_on, value_at_end = EXCLUDED.value_at_end,
                     value_at_start = EXCLUDED.value_at_start, threshold = EXCLUDED.threshold,
                     published_state = EXCLUDED.published_state, announced = EXCLUDED.announced,
                     raised_at = EXCLUDED.raised_at, resolved_at = EXCLUDED.resolved_at, retracted_at = NULL",
            )
            .bind(supplier)
            .bind(&rows.id)
            .bind(&rows.rule)
            .bind(&rows.level)
            .bind(&rows.threshold)
            .bind(&rows.window_days)
            .bind(&rows.started_on)
            .bind(&rows.value_at_start)
            .bind(&rows.ended_on)
            .bind(&rows.value_at_end)
            .bind(&rows.published_state)
            .bind(&rows.announced)
            .bind(&rows.raised_at)
            .bind(&rows.resolved_at)
            .execute(&mut **tx)
            .await?;
        }
        // A retracted episode was never open: it ends where it starts.
        for (id, s) in &decided.retracted {
            sqlx::query(
                "UPDATE alert_episodes SET published_state = $2, resolved_at = $3, retracted_at = $3,
                     ended_on = started_on, value_at_end = NULL WHERE alert_id = $1",
            )
            .bind(id)
            .bind(s.state.name())
            .bind(s.retracted_at.map(pg_ts))
            .execute(&mut **tx)
            .await?;
        }
        if !decided.forgotten.is_empty() {
            sqlx::query("DELETE FROM alert_episodes WHERE alert_id = ANY($1)")
                .bind(&decided.forgotten)
                .execute(&mut **tx)
                .await?;
        }
        let by_id: HashMap<uuid::Uuid, &Episode> =
            episodes.iter().map(|e| (e.alert_id, e)).collect();
        for m in &decided.messages {
            let record: Record = match m {
                Message::Raise { alert_id, .. } => match by_id.get(alert_id) {
                    Some(e) => self.raised(supplier, e, today, now),
                    None => continue,
                },
                Message::Resolve {
                    alert_id, reason, ..
                } => {
                    let (rule, value, as_of) = match by_id.get(alert_id) {
                        Some(e) => (
                            e.rule.clone(),
                            e.value_at_end.unwrap_or(e.value_at_start),
                            e.ended_on.unwrap_or(today),
                        ),
                        // Retracted: today's value of the rule where it is sufficient.
                        None => {
                            let Some((rule, window, at_start)) = known.get(alert_id) else {
                                continue;
                            };
                            let value = Indicator::from_name(rule)
                                .and_then(|i| {
                                    let w = (*window).max(1) as u32;
                                    indicator_value(l.policy(), i, &l.window(i, today, w)).value
                                })
                                .unwrap_or(*at_start);
                            (rule.clone(), value, today)
                        }
                    };
                    SupplierAlertResolved {
                        alert_id: *alert_id,
                        supplier_id: supplier.to_owned(),
                        rule,
                        value,
                        as_of,
                        resolved_at: now,
                        policy_version: self.policy.version.clone(),
                        reason: *reason,
                    }
                    .into()
                }
            };
            let message_id = match m {
                Message::Raise { message_id, .. } | Message::Resolve { message_id, .. } => {
                    *message_id
                }
            };
            self.enqueue(tx, supplier, &record, message_id, now).await?;
        }
        Ok(())
    }

    async fn project_tier(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        l: &SupplierLedger,
        history: &[tierline_scoring::TierDay],
        now: Timestamp,
    ) -> Result<(), ProjectorError> {
        let Some(last) = history.last() else {
            return Ok(());
        };
        let supplier = l.supplier_id();
        let published: Option<String> =
            sqlx::query_scalar("SELECT tier FROM published_tiers WHERE supplier_id = $1")
                .bind(supplier)
                .fetch_optional(&mut **tx)
                .await?;
        // Nothing published counts as UNRATED: a new supplier is announced once rated.
        let from = published
            .clone()
            .unwrap_or_else(|| Tier::Unrated.name().to_owned());
        if from == last.tier.name() {
            return Ok(());
        }
        let effective = history
            .iter()
            .rev()
            .take_while(|t| t.tier == last.tier)
            .last()
            .map_or(last.date, |t| t.date);
        // An id already published (the same run announced before) gets `|k` appended
        // (clarifications.md 37), so consumers deduplicating by id still see it.
        let base = tier_change_id(supplier, last.tier, effective);
        let base_name = format!("{supplier}|TIER|{}|{effective}", last.tier.name());
        let mut event_id = base;
        for k in 2.. {
            let taken: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE message_id = $1)")
                    .bind(event_id)
                    .fetch_one(&mut **tx)
                    .await?;
            if !taken {
                break;
            }
            event_id = uuid::Uuid::new_v5(&ID_NAMESPACE, format!("{base_name}|{k}").as_bytes());
        }
        let record: Record = SupplierTierChanged {
            event_id,
            supplier_id: supplier.to_owned(),
            from_tier: published,
            to_tier: last.tier.name().to_owned(),
            score: last.score,
            effective_date: effective,
            policy_version: self.policy.version.clone(),
        }
        .into();
        self.enqueue(tx, supplier, &record, event_id, now).await?;
        sqlx::query(
            "INSERT INTO published_tiers (supplier_id, tier, effective_date) VALUES ($1, $2, $3)
             ON CONFLICT (supplier_id) DO UPDATE SET tier = EXCLUDED.tier, effective_date = EXCLUDED.effective_date",
        )
        .bind(supplier)
        .bind(last.tier.name())
        .bind(pg_date(effective))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    fn raised(&self, supplier: &str, e: &Episode, today: Date, now: Timestamp) -> Record {
        SupplierAlertRaised {
            alert_id: e.alert_id,
            supplier_id: supplier.to_owned(),
            rule: e.rule.clone(),
            level: match e.level {
                Level::Warning => AlertLevel::Warning,
                Level::Critical => AlertLevel::Critical,
            },
            value: e.value_at_start,
            threshold: e.threshold,
            window_days: e.window_days as i32,
            as_of: today,
            raised_at: now,
            policy_version: self.policy.version.clone(),
        }
        .into()
    }

    /// Adds a message to the outbox; `id` is its CloudEvents id (and outbox message id).
    async fn enqueue(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        supplier: &str,
        record: &Record,
        id: uuid::Uuid,
        now: Timestamp,
    ) -> Result<(), ProjectorError> {
        let value = self.codec.to_bytes(record, Framing::Confluent)?;
        let headers = serde_json::json!({
            "ce_specversion": "1.0",
            "ce_id": id.to_string(),
            "ce_source": self.source,
            "ce_type": record.kind().full_name(),
            "ce_subject": supplier,
            "ce_time": now.to_string(),
        });
        self.metrics
            .messages_enqueued
            .get_or_create(&crate::metrics::RecordLabel {
                record: record.kind().name().into(),
            })
            .inc();
        sqlx::query("INSERT INTO outbox (message_id, supplier_id, record_name, value, headers) VALUES ($1, $2, $3, $4, $5::jsonb)")
            .bind(id)
            .bind(supplier)
            .bind(record.kind().full_name())
            .bind(value)
            .bind(headers.to_string())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// A `float8[]` literal whose values read back bit for bit (Rust prints the shortest
/// representation that round-trips, and PostgreSQL's float8 input is exact).
fn float8_array_literal(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
    format!("{{{}}}", items.join(","))
}

/// Alert episode columns, for one bulk upsert.
#[derive(Default)]
struct EpisodeRows {
    id: Vec<uuid::Uuid>,
    rule: Vec<String>,
    level: Vec<String>,
    threshold: Vec<f64>,
    window_days: Vec<i32>,
    started_on: Vec<NaiveDate>,
    value_at_start: Vec<f64>,
    ended_on: Vec<Option<NaiveDate>>,
    value_at_end: Vec<Option<f64>>,
    published_state: Vec<Option<String>>,
    announced: Vec<i32>,
    raised_at: Vec<Option<DateTime<Utc>>>,
    resolved_at: Vec<Option<DateTime<Utc>>>,
}

impl EpisodeRows {
    fn push(&mut self, e: &Episode, s: &Stored) {
        self.id.push(e.alert_id);
        self.rule.push(e.rule.clone());
        self.level.push(e.level.name().to_owned());
        self.threshold.push(e.threshold);
        self.window_days.push(e.window_days as i32);
        self.started_on.push(pg_date(e.started_on));
        self.value_at_start.push(e.value_at_start);
        self.ended_on.push(e.ended_on.map(pg_date));
        self.value_at_end.push(e.value_at_end);
        self.published_state.push(s.state.name().map(str::to_owned));
        self.announced.push(s.cycles);
        self.raised_at.push(s.raised_at.map(pg_ts));
        self.resolved_at.push(s.resolved_at.map(pg_ts));
    }
}

/// A supplier's day-by-day walks: tier history and alert episodes.
struct Walk {
    history: Vec<TierDay>,
    episodes: Vec<Episode>,
}

impl Walk {
    fn of(l: &SupplierLedger, today: Date) -> Walk {
        Walk {
            history: l.tier_history(today),
            episodes: l.alert_episodes(today),
        }
    }
}

/// Every supplier's walks, spread over the machine's cores (pure CPU work).
fn walk_all(ledgers: &HashMap<String, SupplierLedger>, today: Date) -> HashMap<&str, Walk> {
    let all: Vec<(&String, &SupplierLedger)> = ledgers.iter().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = all.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = all
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(s, l)| (s.as_str(), Walk::of(l, today)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            // A panicking walk is a bug: it propagates as it would on one thread.
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Rows a rebuild copies in one go (PostgreSQL binary COPY format).
struct BulkRows {
    daily: CopyBuf,
    tiers: CopyBuf,
}

impl Default for BulkRows {
    fn default() -> Self {
        BulkRows {
            daily: CopyBuf::new(0),
            tiers: CopyBuf::new(0),
        }
    }
}
