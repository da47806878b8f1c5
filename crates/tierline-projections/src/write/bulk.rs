//! A rebuild's rows, written in one go into emptied tables: binary COPY on PostgreSQL,
//! multi-row INSERTs on SQLite.

use sqlx::Sqlite;
use tierline_events::Date;
use tierline_scoring::{Agg, Indicator, TierDay};
use tierline_store::CopyBuf;

use super::{Result, WriteTx};
use crate::column::{Day, Parts};
use crate::rows::DayBucket;

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
        if let WriteTx::Postgres(tx) = self {
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
            return Ok(());
        }
        // SQLite: multi-row INSERTs into the emptied tables (well under SQLite's limit
        // of bound values per statement).
        let WriteTx::Sqlite(tx) = self else {
            return Ok(());
        };
        for chunk in rows.days.chunks(500) {
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
        for chunk in rows.tier_days.chunks(1000) {
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
