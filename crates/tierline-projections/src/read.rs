//! Reading the read model: what the API, the relay and the projector ask of it. Each
//! query is written once where the dialects agree (the `column` types carry the
//! differences).

use sqlx::Row;
use tierline_events::{Date, Timestamp};
use tierline_scoring::{Agg, ExactSum, Indicator};
use tierline_store::Cursor;
use uuid::Uuid;

use crate::column::{Day, Instant, JsonText, Parts};
use crate::rows::{
    Checkpoint, DayBucket, EpisodeRow, Publication, ScorecardRow, StandingRow, SummaryRow,
};
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

pub(crate) const EPISODE_COLUMNS: &str =
    "alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
    ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at";

const BUCKET_COLUMNS: &str =
    "indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts";

/// An episode from a row of [`EPISODE_COLUMNS`] (a macro: rows of either backend).
macro_rules! episode {
    ($r:expr) => {{
        let r = $r;
        EpisodeRow {
            alert_id: r.try_get("alert_id")?,
            supplier_id: r.try_get("supplier_id")?,
            rule: r.try_get("rule")?,
            level: r.try_get("level")?,
            threshold: r.try_get("threshold")?,
            window_days: r.try_get("window_days")?,
            started_on: r.try_get::<Day, _>("started_on")?.0,
            value_at_start: r.try_get("value_at_start")?,
            ended_on: r.try_get::<Option<Day>, _>("ended_on")?.map(|d| d.0),
            value_at_end: r.try_get("value_at_end")?,
            publication: Publication {
                state: r.try_get("published_state")?,
                announced: r.try_get("announced")?,
                raised_at: r.try_get::<Option<Instant>, _>("raised_at")?.map(|t| t.0),
                resolved_at: r.try_get::<Option<Instant>, _>("resolved_at")?.map(|t| t.0),
                retracted_at: r
                    .try_get::<Option<Instant>, _>("retracted_at")?
                    .map(|t| t.0),
            },
        }
    }};
}
pub(crate) use episode;

/// A bucket from a row of [`BUCKET_COLUMNS`]; `None` for an indicator this build does
/// not know. A row without partials (written before exact sums) is one term.
/// The condition on `indicator_daily d` that selects each state indicator's latest
/// bucket before the day bound to `from` (a state holds from its bucket's day on, so a
/// reader of `from..` needs it: `tierline_scoring::window_of`).
fn states_before(from: &str) -> String {
    let windowed: Vec<String> = Indicator::FIXED
        .iter()
        .filter(|i| i.kind() != tierline_scoring::Kind::State)
        .map(|i| format!("'{}'", i.name()))
        .collect();
    format!(
        "d.day < {from} AND d.indicator NOT IN ({}) AND d.day = (SELECT MAX(m.day) FROM indicator_daily m
         WHERE m.supplier_id = d.supplier_id AND m.indicator = d.indicator AND m.day < {from})",
        windowed.join(", ")
    )
}

macro_rules! bucket {
    ($r:expr) => {{
        let r = $r;
        let exact = |rounded: &str, parts: &str| -> std::result::Result<ExactSum, sqlx::Error> {
            Ok(match r.try_get::<Option<Parts>, _>(parts)? {
                Some(p) => p.sum(),
                None => ExactSum::of(r.try_get(rounded)?),
            })
        };
        match Indicator::from_name(r.try_get("indicator")?) {
            None => None,
            Some(indicator) => Some(DayBucket {
                indicator,
                day: r.try_get::<Day, _>("day")?.0,
                total: Agg {
                    num: exact("numerator", "numerator_parts")?,
                    den: exact("denominator", "denominator_parts")?,
                    samples: r.try_get::<i64, _>("samples")?.max(0) as u64,
                },
            }),
        }
    }};
}

impl Projections {
    /// A projector's checkpoint.
    pub async fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>> {
        let sql = "SELECT txid, position, projected_day, policy_version, policy_digest FROM projection_checkpoint WHERE name = $1";
        on_pool!(self, p => {
            match sqlx::query(sql).bind(name).fetch_optional(p).await? {
                None => Ok(None),
                Some(r) => Ok(Some(Checkpoint {
                    cursor: Cursor {
                        txid: r.try_get::<i64, _>("txid")? as u64,
                        position: r.try_get("position")?,
                    },
                    projected_day: r.try_get::<Option<Day>, _>("projected_day")?.map(|d| d.0),
                    policy_version: r.try_get("policy_version")?,
                    policy_digest: r.try_get("policy_digest")?,
                })),
            }
        })
    }

    /// The greatest position in the event store.
    pub async fn head_position(&self) -> Result<Option<i64>> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT max(position) FROM events").fetch_one(p).await?),
        )
    }

    /// Seconds since the first stored event past `position` was recorded, by the
    /// database's clock (by position, whether or not a reader's snapshot sees it yet):
    /// the projection lag in seconds. `None` when nothing is past it.
    pub async fn lag_seconds_after(&self, position: i64) -> Result<Option<f64>> {
        let pg = "SELECT extract(epoch FROM now() - recorded_at)::float8 FROM events
                  WHERE position > $1 ORDER BY position LIMIT 1";
        let sqlite = "SELECT (unixepoch('subsec') * 1000.0 - recorded_at) / 1000.0 FROM events
                      WHERE position > ?1 ORDER BY position LIMIT 1";
        Ok(match self {
            Projections::Postgres(p) => {
                sqlx::query_scalar(pg)
                    .bind(position)
                    .fetch_optional(p)
                    .await?
            }
            Projections::Sqlite(p) => {
                sqlx::query_scalar(sqlite)
                    .bind(position)
                    .fetch_optional(p)
                    .await?
            }
        })
    }

    /// Seconds since the oldest transaction open on the database began (another
    /// session's; PostgreSQL only): a transaction left open hides every later commit
    /// from the projector's snapshot-safe reads, so projection stalls behind it.
    pub async fn oldest_transaction_seconds(&self) -> Result<Option<f64>> {
        match self {
            Projections::Postgres(p) => Ok(sqlx::query_scalar(
                "SELECT extract(epoch FROM now() - min(xact_start))::float8 FROM pg_stat_activity
                 WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND datname = current_database()",
            )
            .fetch_one(p)
            .await?),
            Projections::Sqlite(_) => Ok(None),
        }
    }

    /// The day every projector last brought every supplier up to.
    pub async fn projected_day(&self) -> Result<Option<Date>> {
        let sql = "SELECT min(projected_day) FROM projection_checkpoint";
        let day: Option<Day> = on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await?);
        Ok(day.map(|d| d.0))
    }

    /// One supplier's daily buckets on `from..=to`.
    pub async fn buckets(&self, supplier: &str, from: Date, to: Date) -> Result<Vec<DayBucket>> {
        let sql = format!(
            "SELECT {BUCKET_COLUMNS} FROM indicator_daily WHERE supplier_id = $1 AND day BETWEEN $2 AND $3
             UNION ALL
             SELECT {BUCKET_COLUMNS} FROM indicator_daily d WHERE supplier_id = $1 AND {}",
            states_before("$2")
        );
        on_pool!(self, p => {
            let rows = sqlx::query(&sql).bind(supplier).bind(Day(from)).bind(Day(to)).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.extend(bucket!(r));
            }
            Ok(out)
        })
    }

    /// Every supplier's daily buckets on `from..=to`, with each state's latest bucket
    /// before `from`.
    pub async fn buckets_between(&self, from: Date, to: Date) -> Result<Vec<(String, DayBucket)>> {
        let sql = format!(
            "SELECT supplier_id, {BUCKET_COLUMNS} FROM indicator_daily WHERE day BETWEEN $1 AND $2
             UNION ALL
             SELECT supplier_id, {BUCKET_COLUMNS} FROM indicator_daily d WHERE {}",
            states_before("$1")
        );
        on_pool!(self, p => {
            let rows = sqlx::query(&sql).bind(Day(from)).bind(Day(to)).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                if let Some(b) = bucket!(r) {
                    out.push((r.try_get("supplier_id")?, b));
                }
            }
            Ok(out)
        })
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
        let rows: Vec<(Day, String)> = on_pool!(self, p => {
            sqlx::query_as(sql).bind(supplier).bind(Day(from)).bind(Day(to)).fetch_all(p).await?
        });
        Ok(rows.into_iter().map(|(d, t)| (d.0, t)).collect())
    }

    /// A supplier's current scorecard on a window.
    pub async fn scorecard(&self, supplier: &str, window: u32) -> Result<Option<ScorecardRow>> {
        let sql = "SELECT as_of, composite, coverage, tier, dimensions, indicators, policy_version, first_day
                   FROM scorecards WHERE supplier_id = $1 AND window_days = $2";
        on_pool!(self, p => {
            match sqlx::query(sql).bind(supplier).bind(window as i32).fetch_optional(p).await? {
                None => Ok(None),
                Some(r) => Ok(Some(ScorecardRow {
                    window_days: window,
                    as_of: r.try_get::<Day, _>("as_of")?.0,
                    composite: r.try_get("composite")?,
                    coverage: r.try_get("coverage")?,
                    tier: r.try_get("tier")?,
                    dimensions: r.try_get::<JsonText, _>("dimensions")?.0,
                    indicators: r.try_get::<JsonText, _>("indicators")?.0,
                    policy_version: r.try_get("policy_version")?,
                    first_day: r.try_get::<Option<Day>, _>("first_day")?.map(|d| d.0),
                })),
            }
        })
    }

    /// A supplier's standing as the projector last computed it.
    pub async fn standing(&self, supplier: &str) -> Result<Option<StandingRow>> {
        let sql = "SELECT as_of, status, tier, credit, critical_open, failed_plans
                   FROM supplier_standing WHERE supplier_id = $1";
        on_pool!(self, p => {
            match sqlx::query(sql).bind(supplier).fetch_optional(p).await? {
                None => Ok(None),
                Some(r) => Ok(Some(StandingRow {
                    supplier_id: supplier.to_owned(),
                    as_of: r.try_get::<Day, _>("as_of")?.0,
                    status: r.try_get("status")?,
                    tier: r.try_get("tier")?,
                    credit: r.try_get("credit")?,
                    critical_open: r.try_get("critical_open")?,
                    failed_plans: r.try_get("failed_plans")?,
                })),
            }
        })
    }

    /// The status of every supplier not `APPROVED` today (few: a partial index).
    pub async fn statuses(&self) -> Result<std::collections::HashMap<String, String>> {
        let sql = "SELECT supplier_id, status FROM supplier_standing WHERE status <> 'APPROVED'";
        let rows: Vec<(String, String)> =
            on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        Ok(rows.into_iter().collect())
    }

    /// Whether the supplier has a scorecard or any stored event.
    pub async fn known(&self, supplier: &str) -> Result<bool> {
        let sql = "SELECT 1 FROM scorecards WHERE supplier_id = $1
                   UNION ALL SELECT 1 FROM events WHERE supplier_id = $1 LIMIT 1";
        let found: Option<i32> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(supplier).fetch_optional(p).await?);
        Ok(found.is_some())
    }

    /// A page of the current supplier list, in `q.sort` order.
    pub async fn summaries(&self, q: &SummaryQuery<'_>) -> Result<Vec<SummaryRow>> {
        // Byte order of ids on both: PostgreSQL's "C" collation, SQLite's BINARY.
        let id = match self {
            Projections::Postgres(_) => r#"s.supplier_id COLLATE "C""#,
            Projections::Sqlite(_) => "s.supplier_id",
        };
        let (order, keyset) = match q.sort {
            ListSort::ScoreDesc => (
                format!("s.composite DESC NULLS LAST, {id}"),
                format!("(CASE WHEN $5 IS NULL THEN s.composite IS NULL AND {id} > $6
                    ELSE s.composite < $5 OR (s.composite = $5 AND {id} > $6) OR s.composite IS NULL END)"),
            ),
            ListSort::ScoreAsc => (
                format!("s.composite ASC NULLS LAST, {id}"),
                format!("(CASE WHEN $5 IS NULL THEN s.composite IS NULL AND {id} > $6
                    ELSE s.composite > $5 OR (s.composite = $5 AND {id} > $6) OR s.composite IS NULL END)"),
            ),
            ListSort::SupplierId => (id.to_owned(), format!("{id} > $6")),
        };
        // The page first, then the per-supplier lookups for its rows only.
        let sql = format!(
            "SELECT s.supplier_id, s.composite, s.tier, s.dimensions,
                    (SELECT count(*) FROM alert_episodes a WHERE a.supplier_id = s.supplier_id
                        AND a.retracted_at IS NULL AND a.started_on <= $2 AND (a.ended_on IS NULL OR a.ended_on > $2)) AS open_alerts,
                    (SELECT max(occurred_at) FROM events e WHERE e.supplier_id = s.supplier_id) AS last_event_at
             FROM (SELECT s.supplier_id, s.composite, s.tier, s.dimensions FROM scorecards s
                   WHERE s.window_days = $1 AND ($3 IS NULL OR s.tier = $3) AND (NOT $7 OR {keyset})
                   ORDER BY {order} LIMIT $4) s
             ORDER BY {order}"
        );
        let after_score = q.after.and_then(|(s, _)| s);
        let after_id = q.after.map_or("", |(_, id)| id);
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(q.window as i32)
                .bind(Day(q.as_of))
                .bind(q.tier)
                .bind(limit)
                .bind(after_score)
                .bind(after_id)
                .bind(q.after.is_some())
                .fetch_all(p)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(SummaryRow {
                    supplier_id: r.try_get("supplier_id")?,
                    composite: r.try_get("composite")?,
                    tier: r.try_get("tier")?,
                    dimensions: r.try_get::<JsonText, _>("dimensions")?.0,
                    open_alerts: r.try_get("open_alerts")?,
                    last_event_at: r.try_get::<Option<Instant>, _>("last_event_at")?.map(|t| t.0),
                });
            }
            Ok(out)
        })
    }

    /// Every supplier with a scorecard on `window`, with its stored tier on `on` (none
    /// before its first day or past the stored walk).
    pub async fn tiers_on(&self, window: u32, on: Date) -> Result<Vec<(String, Option<String>)>> {
        let sql = "SELECT s.supplier_id, t.tier FROM scorecards s
                   LEFT JOIN tier_history t ON t.supplier_id = s.supplier_id AND t.day = $2
                   WHERE s.window_days = $1";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(window as i32).bind(Day(on)).fetch_all(p).await?),
        )
    }

    /// Alerts open on `on`, per supplier.
    pub async fn open_alert_counts(&self, on: Date) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT supplier_id, count(*) FROM alert_episodes
                   WHERE retracted_at IS NULL AND started_on <= $1 AND (ended_on IS NULL OR ended_on > $1)
                   GROUP BY supplier_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(Day(on)).fetch_all(p).await?))
    }

    /// The latest `occurred_at` of each of `suppliers` with events.
    pub async fn last_event_at(&self, suppliers: &[String]) -> Result<Vec<(String, Timestamp)>> {
        let rows: Vec<(String, Instant)> = match self {
            // One statement for the page on PostgreSQL; SQLite is in-process.
            Projections::Postgres(p) => sqlx::query_as(
                "SELECT supplier_id, max(occurred_at) FROM events WHERE supplier_id = ANY($1) GROUP BY supplier_id",
            )
            .bind(suppliers)
            .fetch_all(p)
            .await?,
            Projections::Sqlite(p) => {
                let mut out = Vec::with_capacity(suppliers.len());
                for s in suppliers {
                    let last: Option<Instant> =
                        sqlx::query_scalar("SELECT max(occurred_at) FROM events WHERE supplier_id = $1")
                            .bind(s)
                            .fetch_one(p)
                            .await?;
                    out.extend(last.map(|t| (s.clone(), t)));
                }
                out
            }
        };
        Ok(rows.into_iter().map(|(s, t)| (s, t.0)).collect())
    }

    /// Suppliers per current tier on `window`.
    pub async fn tier_counts(&self, window: u32) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT tier, count(*) FROM scorecards WHERE window_days = $1 GROUP BY tier";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(window as i32).fetch_all(p).await?))
    }

    /// A page of alert episodes, newest start first.
    pub async fn alerts(&self, q: &AlertQuery<'_>) -> Result<Vec<EpisodeRow>> {
        let (after_day, after_id) = q.after.unwrap_or((Date(0), Uuid::nil()));
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT {EPISODE_COLUMNS} FROM alert_episodes
             WHERE CASE $1
                     WHEN 'open' THEN ended_on IS NULL AND retracted_at IS NULL
                     WHEN 'resolved' THEN ended_on IS NOT NULL AND retracted_at IS NULL
                     WHEN 'retracted' THEN retracted_at IS NOT NULL
                     WHEN 'all' THEN TRUE
                     ELSE retracted_at IS NULL END
               AND ($2 IS NULL OR supplier_id = $2)
               AND ($3 IS NULL OR level = $3)
               AND (NOT $6 OR started_on < $4 OR (started_on = $4 AND alert_id > $5))
             ORDER BY started_on DESC, alert_id LIMIT $7"
        );
        on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(q.status.name())
                .bind(q.supplier_id)
                .bind(q.level)
                .bind(Day(after_day))
                .bind(after_id)
                .bind(q.after.is_some())
                .bind(limit)
                .fetch_all(p)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(episode!(r));
            }
            Ok(out)
        })
    }
}
