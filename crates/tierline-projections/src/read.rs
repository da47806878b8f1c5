//! Reading the read model: what the API and the projector ask of it, once per dialect.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Row, Sqlite};
use tierline_events::{Date, Timestamp};
use tierline_scoring::{Agg, ExactSum, Indicator};
use tierline_store::Cursor;
use uuid::Uuid;

use crate::convert::{blob_parts, date, day, pg_date, ts};
use crate::rows::{Checkpoint, DayBucket, EpisodeRow, Publication, ScorecardRow, SummaryRow};
use crate::{Projections, ProjectionsError};

type Result<T> = std::result::Result<T, ProjectionsError>;

/// How the supplier list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListSort {
    /// Composite descending (nulls last), then id.
    ScoreDesc,
    /// Composite ascending (nulls last), then id.
    ScoreAsc,
    /// Id (byte order).
    SupplierId,
}

/// A page of the current supplier list.
#[derive(Debug, Clone)]
pub struct SummaryQuery<'a> {
    /// The scorecards' window.
    pub window: u32,
    /// The day open alerts are counted on.
    pub as_of: Date,
    /// Only this tier.
    pub tier: Option<&'a str>,
    /// Order.
    pub sort: ListSort,
    /// Rows at most.
    pub limit: usize,
    /// After this (composite, id) in `sort` order.
    pub after: Option<(Option<f64>, &'a str)>,
}

/// Which episodes the alert list shows by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AlertStatus {
    /// Open today.
    Open,
    /// Over.
    Resolved,
    /// Announced, then erased by a late event.
    Retracted,
    /// Open and resolved: what happened (the default).
    #[default]
    Current,
    /// Every status.
    All,
}

impl AlertStatus {
    /// As the API names it, and as the SQL switches on it.
    pub fn name(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Resolved => "resolved",
            AlertStatus::Retracted => "retracted",
            AlertStatus::Current => "current",
            AlertStatus::All => "all",
        }
    }
}

/// A page of the alert list, newest start first.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery<'a> {
    /// By status.
    pub status: AlertStatus,
    /// Only this supplier.
    pub supplier_id: Option<&'a str>,
    /// Only this level.
    pub level: Option<&'a str>,
    /// After this (started_on, alert_id).
    pub after: Option<(Date, Uuid)>,
    /// Rows at most.
    pub limit: usize,
}

const ALERT_WHERE: &str = "CASE $1
         WHEN 'open' THEN ended_on IS NULL AND retracted_at IS NULL
         WHEN 'resolved' THEN ended_on IS NOT NULL AND retracted_at IS NULL
         WHEN 'retracted' THEN retracted_at IS NOT NULL
         WHEN 'all' THEN TRUE
         ELSE retracted_at IS NULL END
   AND ($2 IS NULL OR supplier_id = $2)
   AND ($3 IS NULL OR level = $3)
   AND (NOT $6 OR started_on < $4 OR (started_on = $4 AND alert_id > $5))";

const EPISODE_COLUMNS: &str =
    "alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
    ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at";

fn pg_episode(r: &PgRow) -> std::result::Result<EpisodeRow, sqlx::Error> {
    let t = |i: usize| -> std::result::Result<Option<Timestamp>, sqlx::Error> {
        Ok(r.try_get::<Option<DateTime<Utc>>, _>(i)?.map(ts))
    };
    Ok(EpisodeRow {
        alert_id: r.try_get(0)?,
        supplier_id: r.try_get(1)?,
        rule: r.try_get(2)?,
        level: r.try_get(3)?,
        threshold: r.try_get(4)?,
        window_days: r.try_get(5)?,
        started_on: date(r.try_get(6)?),
        value_at_start: r.try_get(7)?,
        ended_on: r.try_get::<Option<NaiveDate>, _>(8)?.map(date),
        value_at_end: r.try_get(9)?,
        publication: Publication {
            state: r.try_get(10)?,
            announced: r.try_get(11)?,
            raised_at: t(12)?,
            resolved_at: t(13)?,
            retracted_at: t(14)?,
        },
    })
}

fn sqlite_episode(r: &SqliteRow) -> std::result::Result<EpisodeRow, sqlx::Error> {
    let t = |i: usize| -> std::result::Result<Option<Timestamp>, sqlx::Error> {
        Ok(r.try_get::<Option<i64>, _>(i)?.map(Timestamp))
    };
    Ok(EpisodeRow {
        alert_id: r.try_get(0)?,
        supplier_id: r.try_get(1)?,
        rule: r.try_get(2)?,
        level: r.try_get(3)?,
        threshold: r.try_get(4)?,
        window_days: r.try_get(5)?,
        started_on: day(r.try_get(6)?),
        value_at_start: r.try_get(7)?,
        ended_on: r.try_get::<Option<i64>, _>(8)?.map(day),
        value_at_end: r.try_get(9)?,
        publication: Publication {
            state: r.try_get(10)?,
            announced: r.try_get(11)?,
            raised_at: t(12)?,
            resolved_at: t(13)?,
            retracted_at: t(14)?,
        },
    })
}

pub(crate) async fn pg_episodes<'e>(
    ex: impl sqlx::Executor<'e, Database = Postgres>,
    supplier: &str,
) -> Result<Vec<EpisodeRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {EPISODE_COLUMNS} FROM alert_episodes WHERE supplier_id = $1"
    ))
    .bind(supplier)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .iter()
        .map(pg_episode)
        .collect::<std::result::Result<_, _>>()?)
}

pub(crate) async fn sqlite_episodes<'e>(
    ex: impl sqlx::Executor<'e, Database = Sqlite>,
    supplier: &str,
) -> Result<Vec<EpisodeRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {EPISODE_COLUMNS} FROM alert_episodes WHERE supplier_id = $1"
    ))
    .bind(supplier)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .iter()
        .map(sqlite_episode)
        .collect::<std::result::Result<_, _>>()?)
}

/// A bucket from (indicator, day, numerator, denominator, samples, numerator_parts,
/// denominator_parts) at `at`; `None` for an indicator this build does not know. A row
/// without partials (written before exact sums) is read as one term.
fn pg_bucket(r: &PgRow, at: usize) -> std::result::Result<Option<DayBucket>, sqlx::Error> {
    let Some(indicator) = Indicator::from_name(r.try_get(at)?) else {
        return Ok(None);
    };
    let exact = |rounded: usize, parts: usize| -> std::result::Result<ExactSum, sqlx::Error> {
        Ok(match r.try_get::<Option<Vec<f64>>, _>(parts)? {
            Some(p) => ExactSum::from_parts(&p),
            None => ExactSum::of(r.try_get(rounded)?),
        })
    };
    Ok(Some(DayBucket {
        indicator,
        day: date(r.try_get(at + 1)?),
        total: Agg {
            num: exact(at + 2, at + 5)?,
            den: exact(at + 3, at + 6)?,
            samples: r.try_get::<i64, _>(at + 4)?.max(0) as u64,
        },
    }))
}

fn sqlite_bucket(r: &SqliteRow, at: usize) -> Result<Option<DayBucket>> {
    let Some(indicator) = Indicator::from_name(r.try_get(at)?) else {
        return Ok(None);
    };
    let exact = |rounded: usize, parts: usize| -> Result<ExactSum> {
        Ok(match r.try_get::<Option<Vec<u8>>, _>(parts)? {
            Some(p) => blob_parts(&p).ok_or_else(|| {
                ProjectionsError::Corrupt("a bucket's partials are not float64s".into())
            })?,
            None => ExactSum::of(r.try_get(rounded)?),
        })
    };
    Ok(Some(DayBucket {
        indicator,
        day: day(r.try_get(at + 1)?),
        total: Agg {
            num: exact(at + 2, at + 5)?,
            den: exact(at + 3, at + 6)?,
            samples: r.try_get::<i64, _>(at + 4)?.max(0) as u64,
        },
    }))
}

const BUCKET_COLUMNS: &str =
    "indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts";

impl Projections {
    /// A projector's checkpoint.
    pub async fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>> {
        let sql = "SELECT txid, position, projected_day, policy_version, policy_digest FROM projection_checkpoint WHERE name = $1";
        Ok(match self {
            Projections::Postgres(p) => {
                let row = sqlx::query(sql).bind(name).fetch_optional(p).await?;
                row.map(|r| -> std::result::Result<_, sqlx::Error> {
                    Ok(Checkpoint {
                        cursor: Cursor {
                            txid: r.try_get::<i64, _>(0)? as u64,
                            position: r.try_get(1)?,
                        },
                        projected_day: r.try_get::<Option<NaiveDate>, _>(2)?.map(date),
                        policy_version: r.try_get(3)?,
                        policy_digest: r.try_get(4)?,
                    })
                })
                .transpose()?
            }
            Projections::Sqlite(p) => {
                let row = sqlx::query(sql).bind(name).fetch_optional(p).await?;
                row.map(|r| -> std::result::Result<_, sqlx::Error> {
                    Ok(Checkpoint {
                        cursor: Cursor {
                            txid: r.try_get::<i64, _>(0)? as u64,
                            position: r.try_get(1)?,
                        },
                        projected_day: r.try_get::<Option<i64>, _>(2)?.map(day),
                        policy_version: r.try_get(3)?,
                        policy_digest: r.try_get(4)?,
                    })
                })
                .transpose()?
            }
        })
    }

    /// The greatest position in the event store.
    pub async fn head_position(&self) -> Result<Option<i64>> {
        let sql = "SELECT max(position) FROM events";
        Ok(match self {
            Projections::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
            Projections::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        })
    }

    /// The day every projector last brought every supplier up to.
    pub async fn projected_day(&self) -> Result<Option<Date>> {
        let sql = "SELECT min(projected_day) FROM projection_checkpoint";
        Ok(match self {
            Projections::Postgres(p) => sqlx::query_scalar::<_, Option<NaiveDate>>(sql)
                .fetch_one(p)
                .await?
                .map(date),
            Projections::Sqlite(p) => sqlx::query_scalar::<_, Option<i64>>(sql)
                .fetch_one(p)
                .await?
                .map(day),
        })
    }

    /// One supplier's daily buckets on `from..=to`.
    pub async fn buckets(&self, supplier: &str, from: Date, to: Date) -> Result<Vec<DayBucket>> {
        let sql = format!(
            "SELECT {BUCKET_COLUMNS} FROM indicator_daily WHERE supplier_id = $1 AND day BETWEEN $2 AND $3"
        );
        let mut out = Vec::new();
        match self {
            Projections::Postgres(p) => {
                for r in &sqlx::query(&sql)
                    .bind(supplier)
                    .bind(pg_date(from))
                    .bind(pg_date(to))
                    .fetch_all(p)
                    .await?
                {
                    out.extend(pg_bucket(r, 0)?);
                }
            }
            Projections::Sqlite(p) => {
                for r in &sqlx::query(&sql)
                    .bind(supplier)
                    .bind(i64::from(from.0))
                    .bind(i64::from(to.0))
                    .fetch_all(p)
                    .await?
                {
                    out.extend(sqlite_bucket(r, 0)?);
                }
            }
        }
        Ok(out)
    }

    /// Every supplier's daily buckets on `from..=to`.
    pub async fn buckets_between(&self, from: Date, to: Date) -> Result<Vec<(String, DayBucket)>> {
        let sql = format!(
            "SELECT supplier_id, {BUCKET_COLUMNS} FROM indicator_daily WHERE day BETWEEN $1 AND $2"
        );
        let mut out = Vec::new();
        match self {
            Projections::Postgres(p) => {
                for r in &sqlx::query(&sql)
                    .bind(pg_date(from))
                    .bind(pg_date(to))
                    .fetch_all(p)
                    .await?
                {
                    if let Some(b) = pg_bucket(r, 1)? {
                        out.push((r.try_get(0)?, b));
                    }
                }
            }
            Projections::Sqlite(p) => {
                for r in &sqlx::query(&sql)
                    .bind(i64::from(from.0))
                    .bind(i64::from(to.0))
                    .fetch_all(p)
                    .await?
                {
                    if let Some(b) = sqlite_bucket(r, 1)? {
                        out.push((r.try_get(0)?, b));
                    }
                }
            }
        }
        Ok(out)
    }

    /// A supplier's stored tiers on `from..=to`, with the last one before `from`.
    pub async fn tier_rows(
        &self,
        supplier: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<(Date, String)>> {
        let sql = "SELECT day, tier FROM (SELECT day, tier FROM tier_history WHERE supplier_id = $1 AND day < $2 ORDER BY day DESC LIMIT 1) b
                   UNION ALL
                   SELECT day, tier FROM (SELECT day, tier FROM tier_history WHERE supplier_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day) r";
        Ok(match self {
            Projections::Postgres(p) => sqlx::query_as::<_, (NaiveDate, String)>(sql)
                .bind(supplier)
                .bind(pg_date(from))
                .bind(pg_date(to))
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|(d, t)| (date(d), t))
                .collect(),
            Projections::Sqlite(p) => sqlx::query_as::<_, (i64, String)>(sql)
                .bind(supplier)
                .bind(i64::from(from.0))
                .bind(i64::from(to.0))
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|(d, t)| (day(d), t))
                .collect(),
        })
    }

    /// A supplier's current scorecard on a window.
    pub async fn scorecard(&self, supplier: &str, window: u32) -> Result<Option<ScorecardRow>> {
        let sql = "SELECT as_of, composite, coverage, tier, dimensions, indicators, policy_version, first_day
                   FROM scorecards WHERE supplier_id = $1 AND window_days = $2";
        Ok(match self {
            Projections::Postgres(p) => {
                let sql = sql.replace(
                    "dimensions, indicators",
                    "dimensions::text, indicators::text",
                );
                let row = sqlx::query(&sql)
                    .bind(supplier)
                    .bind(window as i32)
                    .fetch_optional(p)
                    .await?;
                row.map(|r| -> std::result::Result<_, sqlx::Error> {
                    Ok(ScorecardRow {
                        window_days: window,
                        as_of: date(r.try_get(0)?),
                        composite: r.try_get(1)?,
                        coverage: r.try_get(2)?,
                        tier: r.try_get(3)?,
                        dimensions: r.try_get(4)?,
                        indicators: r.try_get(5)?,
                        policy_version: r.try_get(6)?,
                        first_day: r.try_get::<Option<NaiveDate>, _>(7)?.map(date),
                    })
                })
                .transpose()?
            }
            Projections::Sqlite(p) => {
                let row = sqlx::query(sql)
                    .bind(supplier)
                    .bind(i64::from(window))
                    .fetch_optional(p)
                    .await?;
                row.map(|r| -> std::result::Result<_, sqlx::Error> {
                    Ok(ScorecardRow {
                        window_days: window,
                        as_of: day(r.try_get(0)?),
                        composite: r.try_get(1)?,
                        coverage: r.try_get(2)?,
                        tier: r.try_get(3)?,
                        dimensions: r.try_get(4)?,
                        indicators: r.try_get(5)?,
                        policy_version: r.try_get(6)?,
                        first_day: r.try_get::<Option<i64>, _>(7)?.map(day),
                    })
                })
                .transpose()?
            }
        })
    }

    /// Whether the supplier has a scorecard or any stored event.
    pub async fn known(&self, supplier: &str) -> Result<bool> {
        let sql = "SELECT 1 FROM scorecards WHERE supplier_id = $1
                   UNION ALL SELECT 1 FROM events WHERE supplier_id = $1 LIMIT 1";
        Ok(match self {
            Projections::Postgres(p) => sqlx::query_scalar::<_, i32>(sql)
                .bind(supplier)
                .fetch_optional(p)
                .await?
                .is_some(),
            Projections::Sqlite(p) => sqlx::query_scalar::<_, i32>(sql)
                .bind(supplier)
                .fetch_optional(p)
                .await?
                .is_some(),
        })
    }

    /// A page of the current supplier list, in `q.sort` order.
    pub async fn summaries(&self, q: &SummaryQuery<'_>) -> Result<Vec<SummaryRow>> {
        let pg = matches!(self, Projections::Postgres(_));
        // Byte order of ids on both: PostgreSQL's "C" collation, SQLite's BINARY.
        let id = if pg {
            r#"s.supplier_id COLLATE "C""#
        } else {
            "s.supplier_id"
        };
        let score = if pg { "$5::float8" } else { "$5" };
        let (order, keyset) = match q.sort {
            ListSort::ScoreDesc => (
                format!("s.composite DESC NULLS LAST, {id}"),
                format!("(CASE WHEN {score} IS NULL THEN s.composite IS NULL AND {id} > $6
                    ELSE s.composite < $5 OR (s.composite = $5 AND {id} > $6) OR s.composite IS NULL END)"),
            ),
            ListSort::ScoreAsc => (
                format!("s.composite ASC NULLS LAST, {id}"),
                format!("(CASE WHEN {score} IS NULL THEN s.composite IS NULL AND {id} > $6
                    ELSE s.composite > $5 OR (s.composite = $5 AND {id} > $6) OR s.composite IS NULL END)"),
            ),
            ListSort::SupplierId => (id.to_owned(), format!("{id} > $6")),
        };
        let (dimensions, tier) = if pg {
            ("s.dimensions::text", "$3::text")
        } else {
            ("s.dimensions", "$3")
        };
        // The page first, then the per-supplier lookups for its rows only.
        let sql = format!(
            "SELECT s.supplier_id, s.composite, s.tier, {dimensions},
                    (SELECT count(*) FROM alert_episodes a WHERE a.supplier_id = s.supplier_id
                        AND a.retracted_at IS NULL AND a.started_on <= $2 AND (a.ended_on IS NULL OR a.ended_on > $2)),
                    (SELECT max(occurred_at) FROM events e WHERE e.supplier_id = s.supplier_id)
             FROM (SELECT s.supplier_id, s.composite, s.tier, s.dimensions FROM scorecards s
                   WHERE s.window_days = $1 AND ({tier} IS NULL OR s.tier = $3) AND (NOT $7 OR {keyset})
                   ORDER BY {order} LIMIT $4) s
             ORDER BY {order}"
        );
        let after_score = q.after.and_then(|(s, _)| s);
        let after_id = q.after.map_or("", |(_, id)| id);
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        match self {
            Projections::Postgres(p) => {
                let rows = sqlx::query(&sql)
                    .bind(q.window as i32)
                    .bind(pg_date(q.as_of))
                    .bind(q.tier)
                    .bind(limit)
                    .bind(after_score)
                    .bind(after_id)
                    .bind(q.after.is_some())
                    .fetch_all(p)
                    .await?;
                for r in &rows {
                    out.push(SummaryRow {
                        supplier_id: r.try_get(0)?,
                        composite: r.try_get(1)?,
                        tier: r.try_get(2)?,
                        dimensions: r.try_get(3)?,
                        open_alerts: r.try_get(4)?,
                        last_event_at: r.try_get::<Option<DateTime<Utc>>, _>(5)?.map(ts),
                    });
                }
            }
            Projections::Sqlite(p) => {
                let rows = sqlx::query(&sql)
                    .bind(i64::from(q.window))
                    .bind(i64::from(q.as_of.0))
                    .bind(q.tier)
                    .bind(limit)
                    .bind(after_score)
                    .bind(after_id)
                    .bind(q.after.is_some())
                    .fetch_all(p)
                    .await?;
                for r in &rows {
                    out.push(SummaryRow {
                        supplier_id: r.try_get(0)?,
                        composite: r.try_get(1)?,
                        tier: r.try_get(2)?,
                        dimensions: r.try_get(3)?,
                        open_alerts: r.try_get(4)?,
                        last_event_at: r.try_get::<Option<i64>, _>(5)?.map(Timestamp),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Every supplier with a scorecard on `window`, with its stored tier on `on` (none
    /// before its first day or past the stored walk).
    pub async fn tiers_on(&self, window: u32, on: Date) -> Result<Vec<(String, Option<String>)>> {
        let sql = "SELECT s.supplier_id, t.tier FROM scorecards s
                   LEFT JOIN tier_history t ON t.supplier_id = s.supplier_id AND t.day = $2
                   WHERE s.window_days = $1";
        Ok(match self {
            Projections::Postgres(p) => {
                sqlx::query_as(sql)
                    .bind(window as i32)
                    .bind(pg_date(on))
                    .fetch_all(p)
                    .await?
            }
            Projections::Sqlite(p) => {
                sqlx::query_as(sql)
                    .bind(i64::from(window))
                    .bind(i64::from(on.0))
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// Alerts open on `on`, per supplier.
    pub async fn open_alert_counts(&self, on: Date) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT supplier_id, count(*) FROM alert_episodes
                   WHERE retracted_at IS NULL AND started_on <= $1 AND (ended_on IS NULL OR ended_on > $1)
                   GROUP BY supplier_id";
        Ok(match self {
            Projections::Postgres(p) => sqlx::query_as(sql).bind(pg_date(on)).fetch_all(p).await?,
            Projections::Sqlite(p) => {
                sqlx::query_as(sql)
                    .bind(i64::from(on.0))
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// The latest `occurred_at` of each of `suppliers` with events.
    pub async fn last_event_at(&self, suppliers: &[String]) -> Result<Vec<(String, Timestamp)>> {
        Ok(match self {
            Projections::Postgres(p) => sqlx::query_as::<_, (String, DateTime<Utc>)>(
                "SELECT supplier_id, max(occurred_at) FROM events WHERE supplier_id = ANY($1) GROUP BY supplier_id",
            )
            .bind(suppliers)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|(s, t)| (s, ts(t)))
            .collect(),
            Projections::Sqlite(p) => {
                let mut out = Vec::with_capacity(suppliers.len());
                for s in suppliers {
                    let last: Option<i64> =
                        sqlx::query_scalar("SELECT max(occurred_at) FROM events WHERE supplier_id = $1")
                            .bind(s)
                            .fetch_one(p)
                            .await?;
                    out.extend(last.map(|t| (s.clone(), Timestamp(t))));
                }
                out
            }
        })
    }

    /// Suppliers per current tier on `window`.
    pub async fn tier_counts(&self, window: u32) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT tier, count(*) FROM scorecards WHERE window_days = $1 GROUP BY tier";
        Ok(match self {
            Projections::Postgres(p) => {
                sqlx::query_as(sql).bind(window as i32).fetch_all(p).await?
            }
            Projections::Sqlite(p) => {
                sqlx::query_as(sql)
                    .bind(i64::from(window))
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// A page of alert episodes, newest start first.
    pub async fn alerts(&self, q: &AlertQuery<'_>) -> Result<Vec<EpisodeRow>> {
        let (after_day, after_id) = q.after.unwrap_or((Date(0), Uuid::nil()));
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        Ok(match self {
            Projections::Postgres(p) => {
                let filter = ALERT_WHERE
                    .replacen("CASE $1", "CASE $1::text", 1)
                    .replace("$2 IS NULL", "$2::text IS NULL")
                    .replace("$3 IS NULL", "$3::text IS NULL");
                let sql = format!(
                    "SELECT {EPISODE_COLUMNS} FROM alert_episodes WHERE {filter} ORDER BY started_on DESC, alert_id LIMIT $7"
                );
                let rows = sqlx::query(&sql)
                    .bind(q.status.name())
                    .bind(q.supplier_id)
                    .bind(q.level)
                    .bind(pg_date(after_day))
                    .bind(after_id)
                    .bind(q.after.is_some())
                    .bind(limit)
                    .fetch_all(p)
                    .await?;
                rows.iter()
                    .map(pg_episode)
                    .collect::<std::result::Result<_, _>>()?
            }
            Projections::Sqlite(p) => {
                let sql = format!(
                    "SELECT {EPISODE_COLUMNS} FROM alert_episodes WHERE {ALERT_WHERE} ORDER BY started_on DESC, alert_id LIMIT $7"
                );
                let rows = sqlx::query(&sql)
                    .bind(q.status.name())
                    .bind(q.supplier_id)
                    .bind(q.level)
                    .bind(i64::from(after_day.0))
                    .bind(after_id)
                    .bind(q.after.is_some())
                    .bind(limit)
                    .fetch_all(p)
                    .await?;
                rows.iter()
                    .map(sqlite_episode)
                    .collect::<std::result::Result<_, _>>()?
            }
        })
    }
}
