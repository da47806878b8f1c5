//! A rebuild's rows, written in one go into emptied tables: binary COPY on PostgreSQL,
//! multi-row INSERTs on SQLite.

use sqlx::Sqlite;
use tierline_events::Date;
use tierline_scoring::{Agg, Indicator, TierDay};
use tierline_store::CopyBuf;

use super::{Result, WriteTx};
use crate::column::{Day, Parts};
use crate::rows::DayBucket;

/// Rows a rebuild writes in one go into emptied tables, in the form its backend takes.
#[derive(Debug)]
pub enum BulkRows {
    /// Binary COPY rows of `indicator_daily` and `tier_history`.
    Postgres {
        /// Daily buckets.
        daily: CopyBuf,
        /// Tier history.
        tiers: CopyBuf,
    },
    /// Rows for multi-row INSERTs.
    Sqlite {
        /// Daily buckets by supplier.
        days: Vec<(String, DayBucket)>,
        /// Tier history by supplier.
        tiers: Vec<(String, TierDay)>,
    },
}

impl BulkRows {
    /// Empty rows for `tx`'s backend.
    pub fn for_tx(tx: &WriteTx) -> BulkRows {
        match tx {
            WriteTx::Postgres(_) => BulkRows::Postgres {
                daily: CopyBuf::new(0),
                tiers: CopyBuf::new(0),
            },
            WriteTx::Sqlite(_) => BulkRows::Sqlite {
                days: Vec::new(),
                tiers: Vec::new(),
            },
        }
    }

    /// A non-empty daily bucket.
    pub fn day(&mut self, supplier: &str, indicator: Indicator, day: Date, total: &Agg) {
        match self {
            BulkRows::Sqlite { days, .. } => days.push((
                supplier.to_owned(),
                DayBucket {
                    indicator,
                    day,
                    total: total.clone(),
                },
            )),
            BulkRows::Postgres { daily: r, .. } => {
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
        }
    }

    /// A tier-history day.
    pub fn tier(&mut self, supplier: &str, t: &TierDay) {
        match self {
            BulkRows::Sqlite { tiers, .. } => tiers.push((supplier.to_owned(), *t)),
            BulkRows::Postgres { tiers: r, .. } => {
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
    }
}

impl WriteTx {
    /// Writes a rebuild's rows.
    pub async fn write_bulk(&mut self, rows: BulkRows) -> Result<()> {
        let (tx, days, tier_days) = match (self, rows) {
            (WriteTx::Postgres(tx), BulkRows::Postgres { daily, tiers }) => {
                return pg_copy(tx, daily, tiers).await;
            }
            (WriteTx::Sqlite(tx), BulkRows::Sqlite { days, tiers }) => (tx, days, tiers),
            _ => {
                return Err(crate::ProjectionsError::Corrupt(
                    "rebuild rows made for the other backend (a bug)".into(),
                ));
            }
        };
        // SQLite: multi-row INSERTs into the emptied tables (well under SQLite's limit
        // of bound values per statement).
        for chunk in days.chunks(500) {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO indicator_daily (supplier_id, indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts) ",
            );
            q.push_values(chunk, |mut r, (supplier, b)| {
                r.push_bind(supplier)
                    .push_bind(b.indicator.name())
                    .push_bind(Day(b.day))
                    .push_bind(b.total.numerator())
                    .push_bind(b.total.denominator())
                    .push_bind(b.total.samples as i64)
                    .push_bind(Parts::of(&b.total.num))
                    .push_bind(Parts::of(&b.total.den));
            });
            q.build().execute(&mut **tx).await?;
        }
        for chunk in tier_days.chunks(1000) {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO tier_history (supplier_id, day, score, tier) ",
            );
            q.push_values(chunk, |mut r, (supplier, t)| {
                r.push_bind(supplier)
                    .push_bind(Day(t.date))
                    .push_bind(t.score)
                    .push_bind(t.tier.name());
            });
            q.build().execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// PostgreSQL: the rows by binary COPY.
async fn pg_copy(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    daily: CopyBuf,
    tiers: CopyBuf,
) -> Result<()> {
    for (table, buf) in [
        (
            "indicator_daily (supplier_id, indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts)",
            daily,
        ),
        ("tier_history (supplier_id, day, score, tier)", tiers),
    ] {
        let mut copy = tx
            .copy_in_raw(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
            .await?;
        copy.send(buf.finish()).await?;
        copy.finish().await?;
    }
    Ok(())
}
