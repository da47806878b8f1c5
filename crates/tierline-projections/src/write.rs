//! The projector's writes, in one transaction per step. Each statement is written once
//! where the dialects agree (the `column` types carry the differences); PostgreSQL
//! takes a supplier's rows as arrays (`UNNEST`) and a rebuild's by binary COPY, SQLite,
//! in the same process, one prepared statement per row.

use sqlx::{Postgres, Sqlite, Transaction};
use tierline_events::{Date, Timestamp};
use tierline_scoring::{Indicator, TierDay};
use uuid::Uuid;

use crate::column::{Day, Instant, JsonText, Parts, pg_date};
use crate::read::{EPISODE_COLUMNS, episode};
use crate::rows::{Checkpoint, DayBucket, EpisodeRow, OutboxMessage, Publication, ScorecardRow};
use crate::{PROJECTIONS_CHANNEL, ProjectionsError};

mod arrays;
mod bulk;

use arrays::{pg_upsert_episodes, pg_write_days};
pub use bulk::BulkRows;

type Result<T> = std::result::Result<T, ProjectionsError>;

/// A projector step's transaction.
#[derive(Debug)]
pub enum WriteTx {
    /// On PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
    /// On SQLite.
    Sqlite(Transaction<'static, Sqlite>),
}

/// Runs `$body` with `$c` bound to the transaction's connection, whichever the backend
/// (the body is compiled once per backend).
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            WriteTx::Postgres(tx) => {
                let $c = &mut **tx;
                $body
            }
            WriteTx::Sqlite(tx) => {
                let $c = &mut **tx;
                $body
            }
        }
    };
}

const UPSERT_DAY: &str = "INSERT INTO indicator_daily (supplier_id, indicator, day, numerator, denominator, samples,
                                              numerator_parts, denominator_parts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (supplier_id, indicator, day) DO UPDATE
     SET numerator = excluded.numerator, denominator = excluded.denominator, samples = excluded.samples,
         numerator_parts = excluded.numerator_parts, denominator_parts = excluded.denominator_parts";

const UPSERT_EPISODE: &str = "INSERT INTO alert_episodes (alert_id, supplier_id, rule, level, threshold, window_days, started_on,
         value_at_start, ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL)
     ON CONFLICT (alert_id) DO UPDATE SET ended_on = excluded.ended_on, value_at_end = excluded.value_at_end,
         value_at_start = excluded.value_at_start, threshold = excluded.threshold,
         published_state = excluded.published_state, announced = excluded.announced,
         raised_at = excluded.raised_at, resolved_at = excluded.resolved_at, retracted_at = NULL";

impl WriteTx {
    /// One supplier's changed daily buckets: `upserts` written, `emptied` deleted.
    pub async fn write_days(
        &mut self,
        supplier: &str,
        upserts: &[DayBucket],
        emptied: &[(Indicator, Date)],
    ) -> Result<()> {
        let tx = match self {
            WriteTx::Postgres(tx) => return pg_write_days(tx, supplier, upserts, emptied).await,
            WriteTx::Sqlite(tx) => tx,
        };
        for (i, d) in emptied {
            sqlx::query(
                "DELETE FROM indicator_daily WHERE supplier_id = $1 AND indicator = $2 AND day = $3",
            )
            .bind(supplier)
            .bind(i.name())
            .bind(Day(*d))
            .execute(&mut **tx)
            .await?;
        }
        for b in upserts {
            sqlx::query(UPSERT_DAY)
                .bind(supplier)
                .bind(b.indicator.name())
                .bind(Day(b.day))
                .bind(b.total.numerator())
                .bind(b.total.denominator())
                .bind(b.total.samples as i64)
                .bind(Parts::of(&b.total.num))
                .bind(Parts::of(&b.total.den))
                .execute(&mut **tx)
                .await?;
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
        on_tx!(self, c => {
            sqlx::query("DELETE FROM tier_history WHERE supplier_id = $1 AND ($2 IS NULL OR day > $2)")
                .bind(supplier)
                .bind(kept_until.map(Day))
                .execute(&mut *c)
                .await?;
        });
        match self {
            WriteTx::Postgres(tx) => {
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
                for t in fresh {
                    sqlx::query("INSERT INTO tier_history (supplier_id, day, score, tier) VALUES ($1, $2, $3, $4)")
                        .bind(supplier)
                        .bind(Day(t.date))
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
            on_tx!(self, c => {
                sqlx::query(
                    "INSERT INTO scorecards (supplier_id, window_days, as_of, policy_version, composite, coverage, tier, dimensions, indicators, first_day)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (supplier_id, window_days) DO UPDATE SET as_of = excluded.as_of, policy_version = excluded.policy_version,
                         composite = excluded.composite, coverage = excluded.coverage, tier = excluded.tier,
                         dimensions = excluded.dimensions, indicators = excluded.indicators, first_day = excluded.first_day",
                )
                .bind(supplier)
                .bind(sc.window_days as i32)
                .bind(Day(sc.as_of))
                .bind(&sc.policy_version)
                .bind(sc.composite)
                .bind(sc.coverage)
                .bind(&sc.tier)
                .bind(JsonText(sc.dimensions.clone()))
                .bind(JsonText(sc.indicators.clone()))
                .bind(sc.first_day.map(Day))
                .execute(c)
                .await?;
            });
        }
        Ok(())
    }

    /// A supplier's stored episodes.
    pub async fn episodes(&mut self, supplier: &str) -> Result<Vec<EpisodeRow>> {
        use sqlx::Row;
        let sql = format!("SELECT {EPISODE_COLUMNS} FROM alert_episodes WHERE supplier_id = $1");
        on_tx!(self, c => {
            let rows = sqlx::query(&sql).bind(supplier).fetch_all(c).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(episode!(r));
            }
            Ok(out)
        })
    }

    /// Writes episodes with their publication state (a retraction cleared).
    pub async fn upsert_episodes(&mut self, rows: &[EpisodeRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let tx = match self {
            WriteTx::Postgres(tx) => return pg_upsert_episodes(tx, rows).await,
            WriteTx::Sqlite(tx) => tx,
        };
        for r in rows {
            let p = &r.publication;
            sqlx::query(UPSERT_EPISODE)
                .bind(r.alert_id)
                .bind(&r.supplier_id)
                .bind(&r.rule)
                .bind(&r.level)
                .bind(r.threshold)
                .bind(r.window_days)
                .bind(Day(r.started_on))
                .bind(r.value_at_start)
                .bind(r.ended_on.map(Day))
                .bind(r.value_at_end)
                .bind(p.state.as_deref())
                .bind(p.announced)
                .bind(p.raised_at.map(Instant))
                .bind(p.resolved_at.map(Instant))
                .execute(&mut **tx)
                .await?;
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
        on_tx!(self, c => {
            sqlx::query(
                "UPDATE alert_episodes SET published_state = $2, resolved_at = $3, retracted_at = $3,
                     ended_on = started_on, value_at_end = NULL WHERE alert_id = $1",
            )
            .bind(alert_id)
            .bind(state)
            .bind(at.map(Instant))
            .execute(c)
            .await?;
        });
        Ok(())
    }

    /// Deletes episodes that were never announced and no longer exist (rare: one
    /// statement each).
    pub async fn forget_episodes(&mut self, ids: &[Uuid]) -> Result<()> {
        for id in ids {
            on_tx!(self, c => {
                sqlx::query("DELETE FROM alert_episodes WHERE alert_id = $1")
                    .bind(id)
                    .execute(c)
                    .await?;
            });
        }
        Ok(())
    }

    /// The tier last published for a supplier.
    pub async fn published_tier(&mut self, supplier: &str) -> Result<Option<String>> {
        Ok(on_tx!(self, c => {
            sqlx::query_scalar("SELECT tier FROM published_tiers WHERE supplier_id = $1")
                .bind(supplier)
                .fetch_optional(c)
                .await?
        }))
    }

    /// Records the tier published for a supplier.
    pub async fn set_published_tier(
        &mut self,
        supplier: &str,
        tier: &str,
        effective: Date,
    ) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query(
                "INSERT INTO published_tiers (supplier_id, tier, effective_date) VALUES ($1, $2, $3)
                 ON CONFLICT (supplier_id) DO UPDATE SET tier = excluded.tier, effective_date = excluded.effective_date",
            )
            .bind(supplier)
            .bind(tier)
            .bind(Day(effective))
            .execute(c)
            .await?;
        });
        Ok(())
    }

    /// Whether the outbox already holds a message with this id.
    pub async fn message_taken(&mut self, id: Uuid) -> Result<bool> {
        Ok(on_tx!(self, c => {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE message_id = $1)")
                .bind(id)
                .fetch_one(c)
                .await?
        }))
    }

    /// Adds a message to the outbox.
    pub async fn enqueue(&mut self, m: &OutboxMessage) -> Result<()> {
        on_tx!(self, c => {
            sqlx::query(
                "INSERT INTO outbox (message_id, supplier_id, record_name, value, headers, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(m.message_id)
            .bind(&m.supplier_id)
            .bind(&m.record_name)
            .bind(&m.value)
            .bind(JsonText(m.headers.clone()))
            .bind(Instant(m.created_at))
            .execute(c)
            .await?;
        });
        Ok(())
    }

    /// Saves a projector's checkpoint (at `now`). On PostgreSQL, readers caching
    /// projections drop their caches when this transaction commits.
    pub async fn save_checkpoint(
        &mut self,
        name: &str,
        c: &Checkpoint,
        now: Timestamp,
    ) -> Result<()> {
        on_tx!(self, conn => {
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
            .bind(c.projected_day.map(Day))
            .bind(&c.policy_version)
            .bind(&c.policy_digest)
            .bind(Instant(now))
            .execute(conn)
            .await?;
        });
        self.notify().await
    }

    /// Empties the projections (publication state stays, so history is never
    /// re-announced) and drops `name`'s checkpoint.
    pub async fn reset(&mut self, name: &str) -> Result<()> {
        for sql in [
            "DELETE FROM indicator_daily",
            "DELETE FROM scorecards",
            "DELETE FROM tier_history",
            "DELETE FROM alert_episodes WHERE published_state IS NULL",
        ] {
            on_tx!(self, c => {
                sqlx::query(sql).execute(c).await?;
            });
        }
        on_tx!(self, c => {
            sqlx::query("DELETE FROM projection_checkpoint WHERE name = $1")
                .bind(name)
                .execute(c)
                .await?;
        });
        self.notify().await
    }

    /// PostgreSQL: `NOTIFY` the projections channel on commit (SQLite readers cache
    /// nothing).
    async fn notify(&mut self) -> Result<()> {
        if let WriteTx::Postgres(tx) = self {
            sqlx::query(&format!("NOTIFY {PROJECTIONS_CHANNEL}"))
                .execute(&mut **tx)
                .await?;
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
