//! The projector's writes, in one transaction per step: each table's operation once
//! per dialect. PostgreSQL takes arrays (`UNNEST`) and binary COPY; SQLite, in the same
//! process, takes one prepared statement per row.

use sqlx::{Postgres, Sqlite, Transaction};
use tierline_events::{Date, Timestamp};
use tierline_scoring::{Agg, Indicator, TierDay};
use tierline_store::CopyBuf;
use uuid::Uuid;

use crate::convert::{float8_array_literal, parts_blob, pg_date, pg_ts};
use crate::rows::{Checkpoint, DayBucket, EpisodeRow, OutboxMessage, Publication, ScorecardRow};
use crate::{PROJECTIONS_CHANNEL, ProjectionsError};

type Result<T> = std::result::Result<T, ProjectionsError>;

/// A projector step's transaction.
#[derive(Debug)]
pub enum WriteTx {
    /// On PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
    /// On SQLite.
    Sqlite(Transaction<'static, Sqlite>),
}

/// Rows a rebuild writes in one go into emptied tables (binary COPY on PostgreSQL).
#[derive(Debug)]
pub struct BulkRows {
    daily: CopyBuf,
    tiers: CopyBuf,
    days: Vec<(String, DayBucket)>,
    tier_days: Vec<(String, TierDay)>,
    postgres: bool,
}

impl BulkRows {
    /// Empty rows for `tx`'s backend.
    pub fn for_tx(tx: &WriteTx) -> BulkRows {
        BulkRows {
            daily: CopyBuf::new(0),
            tiers: CopyBuf::new(0),
            days: Vec::new(),
            tier_days: Vec::new(),
            postgres: matches!(tx, WriteTx::Postgres(_)),
        }
    }

    /// A non-empty daily bucket.
    pub fn day(&mut self, supplier: &str, indicator: Indicator, day: Date, total: &Agg) {
        if !self.postgres {
            self.days.push((
                supplier.to_owned(),
                DayBucket {
                    indicator,
                    day,
                    total: total.clone(),
                },
            ));
            return;
        }
        let r = &mut self.daily;
        r.fields(8);
        r.bytes(supplier.as_bytes());
        r.bytes(indicator.name().as_bytes());
        r.date(day.0);
        r.f64(total.numerator());
        r.f64(total.denominator());
        r.i64(total.samples as i64);
        r.f64_array(&total.num.canonical_parts());
        r.f64_array(&total.den.canonical_parts());
    }

    /// A tier-history day.
    pub fn tier(&mut self, supplier: &str, t: &TierDay) {
        if !self.postgres {
            self.tier_days.push((supplier.to_owned(), *t));
            return;
        }
        let r = &mut self.tiers;
        r.fields(4);
        r.bytes(supplier.as_bytes());
        r.date(t.date.0);
        match t.score {
            Some(v) => r.f64(v),
            None => r.null(),
        }
        r.bytes(t.tier.name().as_bytes());
    }
}

impl WriteTx {
    /// Writes a rebuild's rows.
    pub async fn write_bulk(&mut self, rows: BulkRows) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => {
                for (table, buf) in [
                    (
                        "indicator_daily (supplier_id, indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts)",
                        rows.daily,
                    ),
                    ("tier_history (supplier_id, day, score, tier)", rows.tiers),
                ] {
                    let mut copy = tx
                        .copy_in_raw(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
                        .await?;
                    copy.send(buf.finish()).await?;
                    copy.finish().await?;
                }
            }
            WriteTx::Sqlite(_) => {
                for (supplier, b) in &rows.days {
                    self.upsert_day(supplier, b).await?;
                }
                let mut by_supplier: std::collections::BTreeMap<&str, Vec<TierDay>> =
                    Default::default();
                for (s, t) in &rows.tier_days {
                    by_supplier.entry(s).or_default().push(*t);
                }
                for (s, days) in by_supplier {
                    self.replace_tiers(s, None, &days).await?;
                }
            }
        }
        Ok(())
    }

    async fn upsert_day(&mut self, supplier: &str, b: &DayBucket) -> Result<()> {
        if let WriteTx::Sqlite(tx) = self {
            sqlx::query(
                "INSERT INTO indicator_daily (supplier_id, indicator, day, numerator, denominator, samples,
                                              numerator_parts, denominator_parts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (supplier_id, indicator, day) DO UPDATE
                 SET numerator = excluded.numerator, denominator = excluded.denominator, samples = excluded.samples,
                     numerator_parts = excluded.numerator_parts, denominator_parts = excluded.denominator_parts",
            )
            .bind(supplier)
            .bind(b.indicator.name())
            .bind(i64::from(b.day.0))
            .bind(b.total.numerator())
            .bind(b.total.denominator())
            .bind(b.total.samples as i64)
            .bind(parts_blob(&b.total.num.canonical_parts()))
            .bind(parts_blob(&b.total.den.canonical_parts()))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// One supplier's changed daily buckets: `upserts` written, `emptied` deleted.
    pub async fn write_days(
        &mut self,
        supplier: &str,
        upserts: &[DayBucket],
        emptied: &[(Indicator, Date)],
    ) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => {
                if !emptied.is_empty() {
                    sqlx::query(
                        "DELETE FROM indicator_daily d USING UNNEST($2::text[], $3::date[]) AS k (indicator, day)
                         WHERE d.supplier_id = $1 AND d.indicator = k.indicator AND d.day = k.day",
                    )
                    .bind(supplier)
                    .bind(emptied.iter().map(|(i, _)| i.name()).collect::<Vec<_>>())
                    .bind(emptied.iter().map(|(_, d)| pg_date(*d)).collect::<Vec<_>>())
                    .execute(&mut **tx)
                    .await?;
                }
                if !upserts.is_empty() {
                    // Partials as text array literals: UNNEST cannot take an array of
                    // arrays of varying length.
                    let parts = |f: fn(&Agg) -> String| -> Vec<String> {
                        upserts.iter().map(|b| f(&b.total)).collect()
                    };
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
                    .bind(upserts.iter().map(|b| b.indicator.name()).collect::<Vec<_>>())
                    .bind(upserts.iter().map(|b| pg_date(b.day)).collect::<Vec<_>>())
                    .bind(upserts.iter().map(|b| b.total.numerator()).collect::<Vec<_>>())
                    .bind(upserts.iter().map(|b| b.total.denominator()).collect::<Vec<_>>())
                    .bind(upserts.iter().map(|b| b.total.samples as i64).collect::<Vec<_>>())
                    .bind(parts(|a| float8_array_literal(&a.num.canonical_parts())))
                    .bind(parts(|a| float8_array_literal(&a.den.canonical_parts())))
                    .execute(&mut **tx)
                    .await?;
                }
            }
            WriteTx::Sqlite(tx) => {
                for (i, d) in emptied {
                    sqlx::query(
                        "DELETE FROM indicator_daily WHERE supplier_id = $1 AND indicator = $2 AND day = $3",
                    )
                    .bind(supplier)
                    .bind(i.name())
                    .bind(i64::from(d.0))
                    .execute(&mut **tx)
                    .await?;
                }
                for b in upserts {
                    self.upsert_day(supplier, b).await?;
                }
            }
        }
        Ok(())
    }

    /// Keeps a supplier's tier history up to `kept_until` (none: nothing) and writes
    /// `fresh` after it.
    pub async fn replace_tiers(
        &mut self,
        supplier: &str,
        kept_until: Option<Date>,
        fresh: &[TierDay],
    ) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => {
                sqlx::query(
                    "DELETE FROM tier_history WHERE supplier_id = $1 AND ($2::date IS NULL OR day > $2)",
                )
                .bind(supplier)
                .bind(kept_until.map(pg_date))
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "INSERT INTO tier_history (supplier_id, day, score, tier)
                     SELECT $1, * FROM UNNEST($2::date[], $3::float8[], $4::text[])",
                )
                .bind(supplier)
                .bind(fresh.iter().map(|t| pg_date(t.date)).collect::<Vec<_>>())
                .bind(fresh.iter().map(|t| t.score).collect::<Vec<_>>())
                .bind(fresh.iter().map(|t| t.tier.name()).collect::<Vec<_>>())
                .execute(&mut **tx)
                .await?;
            }
            WriteTx::Sqlite(tx) => {
                sqlx::query(
                    "DELETE FROM tier_history WHERE supplier_id = $1 AND ($2 IS NULL OR day > $2)",
                )
                .bind(supplier)
                .bind(kept_until.map(|d| i64::from(d.0)))
                .execute(&mut **tx)
                .await?;
                for t in fresh {
                    sqlx::query("INSERT INTO tier_history (supplier_id, day, score, tier) VALUES ($1, $2, $3, $4)")
                        .bind(supplier)
                        .bind(i64::from(t.date.0))
                        .bind(t.score)
                        .bind(t.tier.name())
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// A supplier's current scorecards (one per window).
    pub async fn upsert_scorecards(&mut self, supplier: &str, rows: &[ScorecardRow]) -> Result<()> {
        for sc in rows {
            match self {
                WriteTx::Postgres(tx) => {
                    sqlx::query(
                        "INSERT INTO scorecards (supplier_id, window_days, as_of, policy_version, composite, coverage, tier, dimensions, indicators, first_day)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)
                         ON CONFLICT (supplier_id, window_days) DO UPDATE SET as_of = EXCLUDED.as_of, policy_version = EXCLUDED.policy_version,
                             composite = EXCLUDED.composite, coverage = EXCLUDED.coverage, tier = EXCLUDED.tier,
                             dimensions = EXCLUDED.dimensions, indicators = EXCLUDED.indicators, first_day = EXCLUDED.first_day",
                    )
                    .bind(supplier)
                    .bind(sc.window_days as i32)
                    .bind(pg_date(sc.as_of))
                    .bind(&sc.policy_version)
                    .bind(sc.composite)
                    .bind(sc.coverage)
                    .bind(&sc.tier)
                    .bind(&sc.dimensions)
                    .bind(&sc.indicators)
                    .bind(sc.first_day.map(pg_date))
                    .execute(&mut **tx)
                    .await?;
                }
                WriteTx::Sqlite(tx) => {
                    sqlx::query(
                        "INSERT INTO scorecards (supplier_id, window_days, as_of, policy_version, composite, coverage, tier, dimensions, indicators, first_day)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         ON CONFLICT (supplier_id, window_days) DO UPDATE SET as_of = excluded.as_of, policy_version = excluded.policy_version,
                             composite = excluded.composite, coverage = excluded.coverage, tier = excluded.tier,
                             dimensions = excluded.dimensions, indicators = excluded.indicators, first_day = excluded.first_day",
                    )
                    .bind(supplier)
                    .bind(i64::from(sc.window_days))
                    .bind(i64::from(sc.as_of.0))
                    .bind(&sc.policy_version)
                    .bind(sc.composite)
                    .bind(sc.coverage)
                    .bind(&sc.tier)
                    .bind(&sc.dimensions)
                    .bind(&sc.indicators)
                    .bind(sc.first_day.map(|d| i64::from(d.0)))
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// A supplier's stored episodes.
    pub async fn episodes(&mut self, supplier: &str) -> Result<Vec<EpisodeRow>> {
        match self {
            WriteTx::Postgres(tx) => crate::read::pg_episodes(&mut **tx, supplier).await,
            WriteTx::Sqlite(tx) => crate::read::sqlite_episodes(&mut **tx, supplier).await,
        }
    }

    /// Writes episodes with their publication state (a retraction cleared).
    pub async fn upsert_episodes(&mut self, rows: &[EpisodeRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            WriteTx::Postgres(tx) => {
                let col = |f: &dyn Fn(&EpisodeRow) -> Option<Timestamp>| -> Vec<_> {
                    rows.iter().map(|r| f(r).map(pg_ts)).collect()
                };
                sqlx::query(
                    "INSERT INTO alert_episodes (alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
                                                 ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at)
                     SELECT id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start, ended_on, value_at_end,
                            published_state, announced, raised_at, resolved_at, NULL
                     FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::int4[], $7::date[], $8::float8[],
                                 $9::date[], $10::float8[], $11::text[], $12::int4[], $13::timestamptz[], $14::timestamptz[])
                          AS e (id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start, ended_on,
                                value_at_end, published_state, announced, raised_at, resolved_at)
                     ON CONFLICT (alert_id) DO UPDATE SET ended_on = EXCLUDED.ended_on, value_at_end = EXCLUDED.value_at_end,
                         value_at_start = EXCLUDED.value_at_start, threshold = EXCLUDED.threshold,
                         published_state = EXCLUDED.published_state, announced = EXCLUDED.announced,
                         raised_at = EXCLUDED.raised_at, resolved_at = EXCLUDED.resolved_at, retracted_at = NULL",
                )
                .bind(rows.iter().map(|r| r.alert_id).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.supplier_id.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.level.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.threshold).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.window_days).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| pg_date(r.started_on)).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.value_at_start).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.ended_on.map(pg_date)).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.value_at_end).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.publication.state.as_deref()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.publication.announced).collect::<Vec<_>>())
                .bind(col(&|r| r.publication.raised_at))
                .bind(col(&|r| r.publication.resolved_at))
                .execute(&mut **tx)
                .await?;
            }
            WriteTx::Sqlite(tx) => {
                for r in rows {
                    let Publication {
                        state,
                        announced,
                        raised_at,
                        resolved_at,
                        ..
                    } = &r.publication;
                    sqlx::query(
                        "INSERT INTO alert_episodes (alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
                                                     ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL)
                         ON CONFLICT (alert_id) DO UPDATE SET ended_on = excluded.ended_on, value_at_end = excluded.value_at_end,
                             value_at_start = excluded.value_at_start, threshold = excluded.threshold,
                             published_state = excluded.published_state, announced = excluded.announced,
                             raised_at = excluded.raised_at, resolved_at = excluded.resolved_at, retracted_at = NULL",
                    )
                    .bind(r.alert_id)
                    .bind(&r.supplier_id)
                    .bind(&r.rule)
                    .bind(&r.level)
                    .bind(r.threshold)
                    .bind(r.window_days)
                    .bind(i64::from(r.started_on.0))
                    .bind(r.value_at_start)
                    .bind(r.ended_on.map(|d| i64::from(d.0)))
                    .bind(r.value_at_end)
                    .bind(state.as_deref())
                    .bind(announced)
                    .bind(raised_at.map(|t| t.0))
                    .bind(resolved_at.map(|t| t.0))
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Marks an announced episode retracted: it was never open, so it ends where it
    /// starts.
    pub async fn retract_episode(
        &mut self,
        alert_id: Uuid,
        state: &str,
        at: Option<Timestamp>,
    ) -> Result<()> {
        let sql =
            "UPDATE alert_episodes SET published_state = $2, resolved_at = $3, retracted_at = $3,
                       ended_on = started_on, value_at_end = NULL WHERE alert_id = $1";
        match self {
            WriteTx::Postgres(tx) => {
                sqlx::query(sql)
                    .bind(alert_id)
                    .bind(state)
                    .bind(at.map(pg_ts))
                    .execute(&mut **tx)
                    .await?;
            }
            WriteTx::Sqlite(tx) => {
                sqlx::query(sql)
                    .bind(alert_id)
                    .bind(state)
                    .bind(at.map(|t| t.0))
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Deletes episodes that were never announced and no longer exist.
    pub async fn forget_episodes(&mut self, ids: &[Uuid]) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) if !ids.is_empty() => {
                sqlx::query("DELETE FROM alert_episodes WHERE alert_id = ANY($1)")
                    .bind(ids)
                    .execute(&mut **tx)
                    .await?;
            }
            WriteTx::Postgres(_) => {}
            WriteTx::Sqlite(tx) => {
                for id in ids {
                    sqlx::query("DELETE FROM alert_episodes WHERE alert_id = $1")
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The tier last published for a supplier.
    pub async fn published_tier(&mut self, supplier: &str) -> Result<Option<String>> {
        let sql = "SELECT tier FROM published_tiers WHERE supplier_id = $1";
        Ok(match self {
            WriteTx::Postgres(tx) => {
                sqlx::query_scalar(sql)
                    .bind(supplier)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            WriteTx::Sqlite(tx) => {
                sqlx::query_scalar(sql)
                    .bind(supplier)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        })
    }

    /// Records the tier published for a supplier.
    pub async fn set_published_tier(
        &mut self,
        supplier: &str,
        tier: &str,
        effective: Date,
    ) -> Result<()> {
        let sql = "INSERT INTO published_tiers (supplier_id, tier, effective_date) VALUES ($1, $2, $3)
                   ON CONFLICT (supplier_id) DO UPDATE SET tier = excluded.tier, effective_date = excluded.effective_date";
        match self {
            WriteTx::Postgres(tx) => {
                sqlx::query(sql)
                    .bind(supplier)
                    .bind(tier)
                    .bind(pg_date(effective))
                    .execute(&mut **tx)
                    .await?;
            }
            WriteTx::Sqlite(tx) => {
                sqlx::query(sql)
                    .bind(supplier)
                    .bind(tier)
                    .bind(i64::from(effective.0))
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Whether the outbox already holds a message with this id.
    pub async fn message_taken(&mut self, id: Uuid) -> Result<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM outbox WHERE message_id = $1)";
        Ok(match self {
            WriteTx::Postgres(tx) => {
                sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?
            }
            WriteTx::Sqlite(tx) => {
                sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?
            }
        })
    }

    /// Adds a message to the outbox.
    pub async fn enqueue(&mut self, m: &OutboxMessage) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => {
                sqlx::query("INSERT INTO outbox (message_id, supplier_id, record_name, value, headers, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)")
                    .bind(m.message_id)
                    .bind(&m.supplier_id)
                    .bind(&m.record_name)
                    .bind(&m.value)
                    .bind(&m.headers)
                    .bind(pg_ts(m.created_at))
                    .execute(&mut **tx)
                    .await?;
            }
            WriteTx::Sqlite(tx) => {
                sqlx::query("INSERT INTO outbox (message_id, supplier_id, record_name, value, headers, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(m.message_id)
                    .bind(&m.supplier_id)
                    .bind(&m.record_name)
                    .bind(&m.value)
                    .bind(&m.headers)
                    .bind(m.created_at.0)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Saves a projector's checkpoint.
    pub async fn save_checkpoint(&mut self, name: &str, c: &Checkpoint) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => {
                sqlx::query(
                    "INSERT INTO projection_checkpoint (name, txid, position, projected_day, policy_version, policy_digest)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (name) DO UPDATE SET txid = EXCLUDED.txid, position = EXCLUDED.position,
                         projected_day = EXCLUDED.projected_day, policy_version = EXCLUDED.policy_version,
                         policy_digest = EXCLUDED.policy_digest, updated_at = now()",
                )
                .bind(name)
                .bind(c.cursor.txid as i64)
                .bind(c.cursor.position)
                .bind(c.projected_day.map(pg_date))
                .bind(&c.policy_version)
                .bind(&c.policy_digest)
                .execute(&mut **tx)
                .await?;
                // Readers caching projections drop their caches when this commits.
                sqlx::query(&format!("NOTIFY {PROJECTIONS_CHANNEL}"))
                    .execute(&mut **tx)
                    .await?;
            }
            WriteTx::Sqlite(tx) => {
                sqlx::query(
                    "INSERT INTO projection_checkpoint (name, txid, position, projected_day, policy_version, policy_digest, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, position = excluded.position,
                         projected_day = excluded.projected_day, policy_version = excluded.policy_version,
                         policy_digest = excluded.policy_digest, updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(c.cursor.txid as i64)
                .bind(c.cursor.position)
                .bind(c.projected_day.map(|d| i64::from(d.0)))
                .bind(&c.policy_version)
                .bind(&c.policy_digest)
                .bind(chrono::Utc::now().timestamp_millis())
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }

    /// Empties the projections (publication state stays, so history is never
    /// re-announced) and drops `name`'s checkpoint.
    pub async fn reset(&mut self, name: &str) -> Result<()> {
        let statements = [
            "DELETE FROM indicator_daily",
            "DELETE FROM scorecards",
            "DELETE FROM tier_history",
            "DELETE FROM alert_episodes WHERE published_state IS NULL",
        ];
        let drop_checkpoint = "DELETE FROM projection_checkpoint WHERE name = $1";
        match self {
            WriteTx::Postgres(tx) => {
                for sql in statements {
                    sqlx::query(sql).execute(&mut **tx).await?;
                }
                sqlx::query(drop_checkpoint)
                    .bind(name)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query(&format!("NOTIFY {PROJECTIONS_CHANNEL}"))
                    .execute(&mut **tx)
                    .await?;
            }
            WriteTx::Sqlite(tx) => {
                for sql in statements {
                    sqlx::query(sql).execute(&mut **tx).await?;
                }
                sqlx::query(drop_checkpoint)
                    .bind(name)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => tx.commit().await?,
            WriteTx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
