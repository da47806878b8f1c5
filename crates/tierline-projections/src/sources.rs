//! The read model of source health: events per (source, record type, UTC day) by when
//! the store recorded them. The projector adds each page's counts in its step's
//! transaction (so each event counts once); a rebuild recounts from the store.

use std::collections::BTreeMap;

use tierline_events::{Date, Timestamp};
use tierline_store::{Cursor, StoredEvent};

use crate::column::{Day, Instant};
use crate::health::{self, BASELINE_DAYS, SourceDay, SourceHealth};
use crate::{Projections, ProjectionsError, WriteTx};

type Result<T> = std::result::Result<T, ProjectionsError>;

/// A page's events counted per (source, record name, day), with the last one's time.
pub fn count_page(page: &[StoredEvent]) -> Vec<SourceDay> {
    let mut by: BTreeMap<(&str, &str, Date), (i64, Timestamp)> = BTreeMap::new();
    for e in page {
        let day = e.recorded_at.date().unwrap_or(Date(0));
        let entry = by
            .entry((&e.source, &e.record_name, day))
            .or_insert((0, e.recorded_at));
        entry.0 += 1;
        entry.1 = entry.1.max(e.recorded_at);
    }
    by.into_iter()
        .map(|((source, record, day), (events, last))| SourceDay {
            source: source.to_owned(),
            record_name: record.to_owned(),
            day,
            events,
            last_recorded_at: last,
        })
        .collect()
}

const UPSERT_PG: &str =
    "INSERT INTO source_days (source, record_name, day, events, last_recorded_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (source, record_name, day) DO UPDATE SET
       events = source_days.events + excluded.events,
       last_recorded_at = GREATEST(source_days.last_recorded_at, excluded.last_recorded_at)";
const UPSERT_SQLITE: &str =
    "INSERT INTO source_days (source, record_name, day, events, last_recorded_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (source, record_name, day) DO UPDATE SET
       events = source_days.events + excluded.events,
       last_recorded_at = max(source_days.last_recorded_at, excluded.last_recorded_at)";

impl WriteTx {
    /// Adds a page's counts (see [`count_page`]).
    pub async fn add_source_days(&mut self, rows: &[SourceDay]) -> Result<()> {
        for r in rows {
            macro_rules! bind {
                ($sql:expr, $c:expr) => {
                    sqlx::query($sql)
                        .bind(&r.source)
                        .bind(&r.record_name)
                        .bind(Day(r.day))
                        .bind(r.events)
                        .bind(Instant(r.last_recorded_at))
                        .execute($c)
                        .await
                        .map(|_| ())?
                };
            }
            match self {
                WriteTx::Postgres(tx) => bind!(UPSERT_PG, &mut **tx),
                WriteTx::Sqlite(tx) => bind!(UPSERT_SQLITE, &mut **tx),
            }
        }
        Ok(())
    }

    /// Recounts every event up to `upto` (inclusive, on the global cursor) from the store
    /// (a rebuild; [`WriteTx::reset`] emptied the table).
    pub async fn recount_source_days(&mut self, upto: Cursor) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => {
                sqlx::query(
                    "INSERT INTO source_days (source, record_name, day, events, last_recorded_at)
                     SELECT source, record_name, (recorded_at AT TIME ZONE 'UTC')::date, count(*), max(recorded_at)
                     FROM events WHERE (txid, position) <= ($1::text::xid8, $2)
                     GROUP BY 1, 2, 3",
                )
                .bind(upto.txid.to_string())
                .bind(upto.position)
                .execute(&mut **tx)
                .await?;
            }
            WriteTx::Sqlite(tx) => {
                sqlx::query(
                    "INSERT INTO source_days (source, record_name, day, events, last_recorded_at)
                     SELECT source, record_name, recorded_at / 86400000, count(*), max(recorded_at)
                     FROM events WHERE position <= $1
                     GROUP BY 1, 2, 3",
                )
                .bind(upto.position)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }
}

impl Projections {
    /// Whether any source count is stored.
    pub async fn has_source_days(&self) -> Result<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM source_days)";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await?))
    }

    /// Every (source, record type)'s health as of `now` (docs/operations.md "Source
    /// health"), stale first.
    pub async fn source_health(&self, now: Timestamp) -> Result<Vec<SourceHealth>> {
        let today = now.date().unwrap_or(Date(0));
        let since = Date(today.0 - BASELINE_DAYS);
        let recent_sql =
            "SELECT source, record_name, day, events, last_recorded_at FROM source_days
                          WHERE day >= $1";
        // Each pair's first day and last event ever (also pairs silent for the whole window).
        let lifetime_sql = "SELECT source, record_name, min(day), CAST(0 AS BIGINT), max(last_recorded_at) FROM source_days
                            GROUP BY source, record_name";
        macro_rules! read {
            ($p:expr, $row:ty) => {{
                use sqlx::Row;
                let map = |r: &$row| -> Result<SourceDay> {
                    Ok(SourceDay {
                        source: r.try_get(0)?,
                        record_name: r.try_get(1)?,
                        day: r.try_get::<Day, _>(2)?.0,
                        events: r.try_get(3)?,
                        last_recorded_at: r.try_get::<Instant, _>(4)?.0,
                    })
                };
                let recent = sqlx::query(recent_sql)
                    .bind(Day(since))
                    .fetch_all($p)
                    .await?;
                let lifetime = sqlx::query(lifetime_sql).fetch_all($p).await?;
                (
                    recent.iter().map(map).collect::<Result<Vec<_>>>()?,
                    lifetime.iter().map(map).collect::<Result<Vec<_>>>()?,
                )
            }};
        }
        let (recent, lifetime) = match self {
            Projections::Postgres(p) => read!(p, sqlx::postgres::PgRow),
            Projections::Sqlite(p) => read!(p, sqlx::sqlite::SqliteRow),
        };
        Ok(health::source_health(
            &health::series(&recent, &lifetime),
            now,
        ))
    }
}
