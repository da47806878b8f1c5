//! Reading the projections (and the store, for lineage) and finishing the numbers with
//! the scoring crate, so a past `as_of` gets exactly what the ledger would compute.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use tierline_events::{Codec, Date, RecordKind, Timestamp};
use tierline_scoring::{Agg, ExactSum, Indicator, Policy, Scorecard, Tier, scorecard_from_sums};
use tierline_store::{EventStore, PgStore, SupplierCursor, SupplierFilter};
use tracing::instrument;

use crate::model::*;
use crate::problem::Problem;

/// Daily totals keyed like the ledger's, so window sums add days in the same order.
pub(crate) type Buckets = BTreeMap<BucketKey, Agg>;

/// An indicator on a day.
type BucketKey = (Indicator, Date);

/// How the supplier list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    /// Composite descending (nulls last), then id.
    ScoreDesc,
    /// Composite ascending (nulls last), then id.
    ScoreAsc,
    /// Id (byte order).
    SupplierId,
}

/// Keyset position in the supplier list: the last row's score (as bits) and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ListKey {
    pub(crate) s: Option<u64>,
    pub(crate) id: String,
}

/// Keyset position in the alert list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AlertKey {
    pub(crate) d: i32,
    pub(crate) id: uuid::Uuid,
}

/// Keyset position in a supplier's events, and the query it was issued for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EventKey {
    t: i64,
    p: i64,
    /// [`EventQuery::digest`] of the query that issued it.
    q: String,
}

/// Which episodes `GET /v1/alerts` lists by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum AlertStatus {
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
    /// Whether an episode (over when `ended`, retracted when `retracted`) is listed.
    pub(crate) fn lists(self, ended: bool, retracted: bool) -> bool {
        match self {
            AlertStatus::Open => !ended && !retracted,
            AlertStatus::Resolved => ended && !retracted,
            AlertStatus::Retracted => retracted,
            AlertStatus::Current => !retracted,
            AlertStatus::All => true,
        }
    }

    /// As the API names it, and as the SQL below switches on it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Resolved => "resolved",
            AlertStatus::Retracted => "retracted",
            AlertStatus::Current => "current",
            AlertStatus::All => "all",
        }
    }
}

/// An episode's `status` in the API.
pub(crate) fn episode_status(ended: bool, retracted: bool) -> &'static str {
    match (ended, retracted) {
        (_, true) => "retracted",
        (true, false) => "resolved",
        (false, false) => "open",
    }
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertFilter {
    pub(crate) status: AlertStatus,
    pub(crate) supplier_id: Option<String>,
    pub(crate) level: Option<String>,
}

/// The read side: projections in PostgreSQL, events from the store.
#[derive(Debug, Clone)]
pub struct Reader {
    pool: PgPool,
    store: PgStore,
    policy: Arc<Policy>,
    codec: Codec,
}

pub(crate) fn pg_date(d: Date) -> NaiveDate {
    d.to_naive().unwrap_or_default()
}

fn date(d: NaiveDate) -> Date {
    Date::from_naive(d)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    Timestamp(t.timestamp_millis()).to_string()
}

pub(crate) fn window_sum(b: &Buckets, i: Indicator, as_of: Date, days: u32) -> Agg {
    let from = Date(as_of.0.saturating_sub(days as i32 - 1));
    let mut sum = Agg::default();
    for (_, a) in b.range((i, from)..=(i, as_of)) {
        sum.add(a);
    }
    sum
}

fn tier_name(s: &str) -> Tier {
    Tier::from_name(s).unwrap_or(Tier::Unrated)
}

/// One `indicator_daily` row read from column `at` on (indicator, day, numerator,
/// denominator, samples, numerator_parts, denominator_parts); `None` for an indicator
/// this build does not know. The partials are the exact sums (a row without them,
/// written before exact sums, is read as one term).
fn bucket_row(
    r: &sqlx::postgres::PgRow,
    at: usize,
) -> Result<Option<(BucketKey, Agg)>, sqlx::Error> {
    let name: String = r.try_get(at)?;
    let Some(i) = Indicator::from_name(&name) else {
        return Ok(None);
    };
    let samples: i64 = r.try_get(at + 4)?;
    let exact = |rounded: usize, parts: usize| -> Result<ExactSum, sqlx::Error> {
        Ok(match r.try_get::<Option<Vec<f64>>, _>(parts)? {
            Some(p) => ExactSum::from_parts(&p),
            None => ExactSum::of(r.try_get(rounded)?),
        })
    };
    Ok(Some((
        (i, date(r.try_get(at + 1)?)),
        Agg {
            num: exact(at + 2, at + 5)?,
            den: exact(at + 3, at + 6)?,
            samples: samples.max(0) as u64,
        },
    )))
}

/// The JSON of a scorecard's indicators.
pub(crate) fn indicators_json(sc: &Scorecard) -> BTreeMap<String, IndicatorJson> {
    sc.indicators
        .iter()
        .map(|(i, v)| {
            (
                i.name().to_owned(),
                IndicatorJson {
                    value: v.value,
                    status: v.status().to_owned(),
                    subscore: v.subscore,
                    numerator: v.numerator,
                    denominator: v.denominator,
                    samples: v.samples,
                },
            )
        })
        .collect()
}

pub(crate) fn dimensions_json(sc: &Scorecard) -> BTreeMap<String, Option<f64>> {
    sc.dimensions
        .iter()
        .map(|(d, v)| (d.name().to_owned(), *v))
        .collect()
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Problem> {
    serde_json::from_str(text).map_err(|e| {
        tracing::error!(error = %e, "stored projection JSON is unreadable");
        Problem::internal()
    })
}

pub(crate) fn compare(sort: Sort, a: (Option<f64>, &str), b: (Option<f64>, &str)) -> Ordering {
    let by_score = |x: Option<f64>, y: Option<f64>, desc: bool| match (x, y) {
        (Some(x), Some(y)) if desc => y.total_cmp(&x),
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    match sort {
        Sort::ScoreDesc => by_score(a.0, b.0, true),
        Sort::ScoreAsc => by_score(a.0, b.0, false),
        Sort::SupplierId => Ordering::Equal,
    }
    .then_with(|| a.1.cmp(b.1))
}

impl Reader {
    /// A reader over `store`'s database, scoring with `policy`.
    pub fn new(store: PgStore, policy: Arc<Policy>, codec: Codec) -> Reader {
        Reader {
            pool: store.pool().clone(),
            store,
            policy,
            codec,
        }
    }

    /// The policy the API scores with.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The database pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn buckets(&self, supplier: &str, from: Date, to: Date) -> Result<Buckets, Problem> {
        let rows = sqlx::query(
            "SELECT indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts FROM indicator_daily
             WHERE supplier_id = $1 AND day BETWEEN $2 AND $3",
        )
        .bind(supplier)
        .bind(pg_date(from))
        .bind(pg_date(to))
        .fetch_all(&self.pool)
        .await?;
        let mut b = Buckets::new();
        for r in &rows {
            if let Some((key, agg)) = bucket_row(r, 0)? {
                b.insert(key, agg);
            }
        }
        Ok(b)
    }

    /// The day the projector last brought every supplier up to.
    async fn projected_day(&self) -> Result<Option<Date>, Problem> {
        let d: Option<NaiveDate> =
            sqlx::query_scalar("SELECT min(projected_day) FROM projection_checkpoint")
                .fetch_one(&self.pool)
                .await?;
        Ok(d.map(date))
    }

    /// Per-day tiers of one supplier on `from..=to` (UNRATED before its first day).
    async fn tiers(&self, supplier: &str, from: Date, to: Date) -> Result<Vec<Tier>, Problem> {
        let rows: Vec<(NaiveDate, String)> = sqlx::query_as(
            "(SELECT day, tier FROM tier_history WHERE supplier_id = $1 AND day < $2 ORDER BY day DESC LIMIT 1)
             UNION ALL
             (SELECT day, tier FROM tier_history WHERE supplier_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day)",
        )
        .bind(supplier)
        .bind(pg_date(from))
        .bind(pg_date(to))
        .fetch_all(&self.pool)
        .await?;
        let stored: BTreeMap<Date, Tier> =
            rows.iter().map(|(d, t)| (date(*d), tier_name(t))).collect();
        // Past the stored walk (the projector has not rolled over to the API's today
        // yet): continue it, reading the buckets once.
        let last = stored.iter().next_back().map(|(d, t)| (*d, *t));
        let continued = match last {
            Some((day, tier)) if day < to => {
                let w = self.policy.tier_window_days;
                let b = self
                    .buckets(supplier, Date(day.0 + 2 - w as i32), to)
                    .await?;
                continue_tiers(&self.policy, &b, day, tier, to)
            }
            _ => Vec::new(),
        };
        Ok((from.0..=to.0)
            .map(Date)
            .map(|d| match (stored.get(&d), last) {
                (Some(t), _) => *t,
                (None, Some((day, _))) if d > day => continued
                    .get((d.0 - day.0 - 1) as usize)
                    .copied()
                    .unwrap_or(Tier::Unrated),
                _ => Tier::Unrated,
            })
            .collect())
    }

    /// The tier of one supplier as of `as_of`.
    async fn tier_on(&self, supplier: &str, as_of: Date) -> Result<Tier, Problem> {
        Ok(self
            .tiers(supplier, as_of, as_of)
            .await?
            .pop()
            .unwrap_or(Tier::Unrated))
    }

    /// `GET /v1/suppliers/{id}/scorecard`.
    #[instrument(skip(self), err(Debug, level = "debug"))]
    pub(crate) async fn scorecard(
        &self,
        supplier: &str,
        as_of: Date,
        window: u32,
    ) -> Result<ScorecardJson, Problem> {
        let row = sqlx::query(
            "SELECT as_of, composite, coverage, tier, dimensions::text, indicators::text, policy_version
             FROM scorecards WHERE supplier_id = $1 AND window_days = $2",
        )
        .bind(supplier)
        .bind(window as i32)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Problem::unknown_supplier(supplier))?;
        let stored_as_of: NaiveDate = row.try_get(0)?;
        if date(stored_as_of) == as_of {
            let dimensions: String = row.try_get(4)?;
            let indicators: String = row.try_get(5)?;
            let tier: String = row.try_get(3)?;
            return Ok(ScorecardJson {
                supplier_id: supplier.to_owned(),
                as_of: as_of.to_string(),
                window,
                policy_version: row.try_get(6)?,
                score: row.try_get(1)?,
                coverage: row.try_get(2)?,
                tier,
                dimensions: parse_json(&dimensions)?,
                indicators: parse_json(&indicators)?,
            });
        }
        let b = self
            .buckets(supplier, Date(as_of.0 + 1 - window as i32), as_of)
            .await?;
        let sc = scorecard_from_sums(&self.policy, as_of, window, |i| {
            window_sum(&b, i, as_of, window)
        });
        let tier = self.tier_on(supplier, as_of).await?;
        Ok(ScorecardJson {
            supplier_id: supplier.to_owned(),
            as_of: as_of.to_string(),
            window,
            policy_version: self.policy.version.clone(),
            score: sc.composite,
            coverage: sc.coverage,
            tier: tier.name().to_owned(),
            dimensions: dimensions_json(&sc),
            indicators: indicators_json(&sc),
        })
    }

    async fn known(&self, supplier: &str) -> Result<bool, Problem> {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM scorecards WHERE supplier_id = $1
             UNION ALL SELECT 1 FROM events WHERE supplier_id = $1 LIMIT 1",
        )
        .bind(supplier)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// `GET /v1/suppliers/{id}/history`.
    #[instrument(skip(self), err(Debug, level = "debug"))]
    pub(crate) async fn history(
        &self,
        supplier: &str,
        from: Date,
        to: Date,
        window: u32,
    ) -> Result<History, Problem> {
        if !self.known(supplier).await? {
            return Err(Problem::unknown_supplier(supplier));
        }
        let b = self
            .buckets(supplier, Date(from.0 + 1 - window as i32), to)
            .await?;
        let tiers = self.tiers(supplier, from, to).await?;
        Ok(history_of(
            &self.policy,
            supplier,
            &b,
            from,
            to,
            window,
            |d| {
                tiers
                    .get((d.0 - from.0) as usize)
                    .copied()
                    .unwrap_or(Tier::Unrated)
            },
        ))
    }

    /// `GET /v1/suppliers`.
    #[instrument(skip(self), err(Debug, level = "debug"))]
    pub(crate) async fn suppliers(
        &self,
        as_of: Date,
        window: u32,
        tier: Option<Tier>,
        sort: Sort,
        page_size: usize,
        after: Option<ListKey>,
    ) -> Result<SupplierPage, Problem> {
        let mut rows = if self.projected_day().await? == Some(as_of) {
            self.suppliers_projected(as_of, window, tier, sort, page_size, after.as_ref())
                .await?
        } else {
            self.suppliers_computed(as_of, window, tier, sort, page_size, after.as_ref())
                .await?
        };
        let next = (rows.len() > page_size).then(|| {
            rows.truncate(page_size);
            rows.last().map(|r| {
                crate::params::token(&ListKey {
                    s: r.score.map(f64::to_bits),
                    id: r.supplier_id.clone(),
                })
            })
        });
        Ok(SupplierPage {
            items: rows,
            next_page_token: next.flatten(),
        })
    }

    /// The list straight from the current scorecards (as of the projected day).
    async fn suppliers_projected(
        &self,
        as_of: Date,
        window: u32,
        tier: Option<Tier>,
        sort: Sort,
        page_size: usize,
        after: Option<&ListKey>,
    ) -> Result<Vec<SupplierSummary>, Problem> {
        let (order, keyset) = match sort {
            Sort::ScoreDesc => (
                r#"s.composite DESC NULLS LAST, s.supplier_id COLLATE "C""#,
                r#"(CASE WHEN $5::float8 IS NULL THEN s.composite IS NULL AND s.supplier_id COLLATE "C" > $6
                    ELSE s.composite < $5 OR (s.composite = $5 AND s.supplier_id COLLATE "C" > $6) OR s.composite IS NULL END)"#,
            ),
            Sort::ScoreAsc => (
                r#"s.composite ASC NULLS LAST, s.supplier_id COLLATE "C""#,
                r#"(CASE WHEN $5::float8 IS NULL THEN s.composite IS NULL AND s.supplier_id COLLATE "C" > $6
                    ELSE s.composite > $5 OR (s.composite = $5 AND s.supplier_id COLLATE "C" > $6) OR s.composite IS NULL END)"#,
            ),
            Sort::SupplierId => (
                r#"s.supplier_id COLLATE "C""#,
                r#"s.supplier_id COLLATE "C" > $6"#,
            ),
        };
        // The page first, then the per-supplier lookups for its rows only.
        let sql = format!(
            "SELECT s.supplier_id, s.composite, s.tier, s.dimensions::text,
                    (SELECT count(*) FROM alert_episodes a WHERE a.supplier_id = s.supplier_id
                        AND a.retracted_at IS NULL AND a.started_on <= $2 AND (a.ended_on IS NULL OR a.ended_on > $2)),
                    (SELECT max(occurred_at) FROM events e WHERE e.supplier_id = s.supplier_id)
             FROM (SELECT s.supplier_id, s.composite, s.tier, s.dimensions FROM scorecards s
                   WHERE s.window_days = $1 AND ($3::text IS NULL OR s.tier = $3) AND (NOT $7 OR {keyset})
                   ORDER BY {order} LIMIT $4) s
             ORDER BY {order}"
        );
        let rows = sqlx::query(&sql)
            .bind(window as i32)
            .bind(pg_date(as_of))
            .bind(tier.map(Tier::name))
            .bind((page_size + 1) as i64)
            .bind(after.and_then(|k| k.s).map(f64::from_bits))
            .bind(after.map_or("", |k| k.id.as_str()))
            .bind(after.is_some())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let dimensions: String = r.try_get(3)?;
                let last: Option<DateTime<Utc>> = r.try_get(5)?;
                Ok(SupplierSummary {
                    supplier_id: r.try_get(0)?,
                    score: r.try_get(1)?,
                    tier: r.try_get(2)?,
                    dimensions: parse_json(&dimensions)?,
                    open_alerts: r.try_get(4)?,
                    last_event_at: last.map(rfc3339),
                })
            })
            .collect()
    }

    /// Every supplier's tier as of `as_of`.
    async fn all_tiers(&self, as_of: Date) -> Result<BTreeMap<String, Tier>, Problem> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT s.supplier_id, t.tier FROM scorecards s
             LEFT JOIN tier_history t ON t.supplier_id = s.supplier_id AND t.day = $2
             WHERE s.window_days = $1",
        )
        .bind(self.policy.tier_window_days as i32)
        .bind(pg_date(as_of))
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for (supplier, tier) in rows {
            let tier = match tier {
                Some(t) => tier_name(&t),
                // Before the first day, or past the stored walk.
                None => self.tier_on(&supplier, as_of).await?,
            };
            out.insert(supplier, tier);
        }
        Ok(out)
    }

    /// The list computed from the daily buckets (a past `as_of`).
    async fn suppliers_computed(
        &self,
        as_of: Date,
        window: u32,
        tier: Option<Tier>,
        sort: Sort,
        page_size: usize,
        after: Option<&ListKey>,
    ) -> Result<Vec<SupplierSummary>, Problem> {
        let tiers = self.all_tiers(as_of).await?;
        let rows = sqlx::query(
            "SELECT supplier_id, indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts FROM indicator_daily
             WHERE day BETWEEN $1 AND $2",
        )
        .bind(pg_date(Date(as_of.0 + 1 - window as i32)))
        .bind(pg_date(as_of))
        .fetch_all(&self.pool)
        .await?;
        let mut buckets: HashMap<String, Buckets> = HashMap::new();
        for r in &rows {
            if let Some((key, agg)) = bucket_row(r, 1)? {
                buckets.entry(r.try_get(0)?).or_default().insert(key, agg);
            }
        }
        let open: HashMap<String, i64> = sqlx::query_as(
            "SELECT supplier_id, count(*) FROM alert_episodes
             WHERE retracted_at IS NULL AND started_on <= $1 AND (ended_on IS NULL OR ended_on > $1) GROUP BY supplier_id",
        )
        .bind(pg_date(as_of))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let empty = Buckets::new();
        let mut all: Vec<(Scorecard, String, Tier)> = tiers
            .into_iter()
            .filter(|(_, t)| tier.is_none_or(|want| want == *t))
            .map(|(supplier, t)| {
                let b = buckets.get(&supplier).unwrap_or(&empty);
                let sc = scorecard_from_sums(&self.policy, as_of, window, |i| {
                    window_sum(b, i, as_of, window)
                });
                (sc, supplier, t)
            })
            .collect();
        all.sort_by(|a, b| compare(sort, (a.0.composite, &a.1), (b.0.composite, &b.1)));
        let start = after.map_or(0, |k| {
            let key = (k.s.map(f64::from_bits), k.id.as_str());
            all.partition_point(|(sc, id, _)| {
                compare(sort, (sc.composite, id), key) != Ordering::Greater
            })
        });
        let page: Vec<_> = all.into_iter().skip(start).take(page_size + 1).collect();
        let ids: Vec<String> = page.iter().map(|(_, id, _)| id.clone()).collect();
        let last: HashMap<String, DateTime<Utc>> = sqlx::query_as(
            "SELECT supplier_id, max(occurred_at) FROM events WHERE supplier_id = ANY($1) GROUP BY supplier_id",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        Ok(page
            .into_iter()
            .map(|(sc, supplier, t)| SupplierSummary {
                score: sc.composite,
                tier: t.name().to_owned(),
                dimensions: dimensions_json(&sc),
                open_alerts: open.get(&supplier).copied().unwrap_or(0),
                last_event_at: last.get(&supplier).copied().map(rfc3339),
                supplier_id: supplier,
            })
            .collect())
    }

    /// `GET /v1/tiers`.
    #[instrument(skip(self), err(Debug, level = "debug"))]
    pub(crate) async fn tier_counts(&self, as_of: Date) -> Result<TierCounts, Problem> {
        let mut counts: BTreeMap<String, i64> =
            Tier::ALL.iter().map(|t| (t.name().to_owned(), 0)).collect();
        if self.projected_day().await? == Some(as_of) {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT tier, count(*) FROM scorecards WHERE window_days = $1 GROUP BY tier",
            )
            .bind(self.policy.tier_window_days as i32)
            .fetch_all(&self.pool)
            .await?;
            for (t, n) in rows {
                *counts.entry(t).or_default() += n;
            }
        } else {
            for t in self.all_tiers(as_of).await?.values() {
                *counts.entry(t.name().to_owned()).or_default() += 1;
            }
        }
        Ok(TierCounts {
            as_of: as_of.to_string(),
            counts,
        })
    }

    /// `GET /v1/alerts`.
    #[instrument(skip(self), err(Debug, level = "debug"))]
    pub(crate) async fn alerts(
        &self,
        filter: &AlertFilter,
        page_size: usize,
        after: Option<AlertKey>,
    ) -> Result<AlertPage, Problem> {
        let rows = sqlx::query(
            "SELECT alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
                    ended_on, value_at_end, raised_at, resolved_at, retracted_at
             FROM alert_episodes
             WHERE CASE $1::text
                     WHEN 'open' THEN ended_on IS NULL AND retracted_at IS NULL
                     WHEN 'resolved' THEN ended_on IS NOT NULL AND retracted_at IS NULL
                     WHEN 'retracted' THEN retracted_at IS NOT NULL
                     WHEN 'all' THEN TRUE
                     ELSE retracted_at IS NULL END
               AND ($2::text IS NULL OR supplier_id = $2)
               AND ($3::text IS NULL OR level = $3)
               AND (NOT $6 OR started_on < $4 OR (started_on = $4 AND alert_id > $5))
             ORDER BY started_on DESC, alert_id LIMIT $7",
        )
        .bind(filter.status.name())
        .bind(filter.supplier_id.as_deref())
        .bind(filter.level.as_deref())
        .bind(pg_date(after.as_ref().map_or(Date(0), |k| Date(k.d))))
        .bind(after.as_ref().map_or(uuid::Uuid::nil(), |k| k.id))
        .bind(after.is_some())
        .bind((page_size + 1) as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut keys = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: uuid::Uuid = r.try_get(0)?;
            let started: NaiveDate = r.try_get(6)?;
            let ended: Option<NaiveDate> = r.try_get(8)?;
            let window: i32 = r.try_get(5)?;
            let raised: Option<DateTime<Utc>> = r.try_get(10)?;
            let resolved: Option<DateTime<Utc>> = r.try_get(11)?;
            let retracted: Option<DateTime<Utc>> = r.try_get(12)?;
            keys.push(AlertKey {
                d: date(started).0,
                id,
            });
            items.push(AlertJson {
                alert_id: id.to_string(),
                supplier_id: r.try_get(1)?,
                rule: r.try_get(2)?,
                level: r.try_get(3)?,
                status: episode_status(ended.is_some(), retracted.is_some()).to_owned(),
                value: r.try_get(7)?,
                value_at_end: r.try_get(9)?,
                threshold: r.try_get(4)?,
                window_days: window.max(0) as u32,
                started_on: date(started).to_string(),
                ended_on: ended.map(|d| date(d).to_string()),
                raised_at: raised.map(rfc3339),
                resolved_at: resolved.map(rfc3339),
                retracted_at: retracted.map(rfc3339),
            });
        }
        let next = (items.len() > page_size).then(|| {
            items.truncate(page_size);
            crate::params::token(&keys[page_size - 1])
        });
        Ok(AlertPage {
            items,
            next_page_token: next,
        })
    }

    /// `GET /v1/suppliers/{id}/events`.
    #[instrument(skip(self), err(Debug, level = "debug"))]
    pub(crate) async fn events(&self, supplier: &str, q: EventQuery) -> Result<EventPage, Problem> {
        let first_page = q.after.is_none();
        let page = events_page(&self.store, &self.codec, supplier, q).await?;
        if page.items.is_empty() && first_page && !self.known(supplier).await? {
            return Err(Problem::unknown_supplier(supplier));
        }
        Ok(page)
    }

    /// Whether the database answers.
    pub(crate) async fn ping(&self) -> bool {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(2), ping).await,
            Ok(Ok(_))
        )
    }
}

/// The tier walk continued from `tier` on `last` through `until`: one tier per day
/// after `last`, from the buckets `b`.
pub(crate) fn continue_tiers(
    policy: &Policy,
    b: &Buckets,
    last: Date,
    mut tier: Tier,
    until: Date,
) -> Vec<Tier> {
    let w = policy.tier_window_days;
    (last.0 + 1..=until.0)
        .map(Date)
        .map(|d| {
            let composite = scorecard_from_sums(policy, d, w, |i| window_sum(b, i, d, w)).composite;
            tier = Tier::next(policy, Some(tier), composite);
            tier
        })
        .collect()
}

/// Daily points from `from` to `to`: scores from the buckets, tiers from `tier_on`.
pub(crate) fn history_of(
    policy: &Policy,
    supplier: &str,
    b: &Buckets,
    from: Date,
    to: Date,
    window: u32,
    tier_on: impl Fn(Date) -> Tier,
) -> History {
    let points = (from.0..=to.0)
        .map(Date)
        .map(|d| {
            let sc = scorecard_from_sums(policy, d, window, |i| window_sum(b, i, d, window));
            HistoryPoint {
                date: d.to_string(),
                score: sc.composite,
                tier: tier_on(d).name().to_owned(),
                indicators: sc
                    .indicators
                    .iter()
                    .map(|(i, v)| (i.name().to_owned(), v.value))
                    .collect(),
            }
        })
        .collect();
    History {
        supplier_id: supplier.to_owned(),
        window,
        points,
    }
}

/// What `/events` asks for.
#[derive(Debug, Clone)]
pub(crate) struct EventQuery {
    pub(crate) from: Option<Date>,
    pub(crate) to: Option<Date>,
    pub(crate) kind: Option<RecordKind>,
    pub(crate) page_size: usize,
    pub(crate) after: Option<EventKey>,
}

impl EventQuery {
    /// What a page token of this query carries: a digest of the supplier and filters,
    /// so a token made by hand or taken from another query is refused, not read as
    /// "from the start".
    pub(crate) fn digest(&self, supplier: &str) -> String {
        use sha2::Digest;
        let text = format!(
            "events|{supplier}|{:?}|{:?}|{:?}",
            self.from.map(|d| d.0),
            self.to.map(|d| d.0),
            self.kind.map(RecordKind::name)
        );
        let hash = sha2::Sha256::digest(text.as_bytes());
        hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Checks that the page token (if any) was issued for this query.
    pub(crate) fn check_token(&self, supplier: &str) -> Result<(), Problem> {
        match &self.after {
            Some(k) if k.q != self.digest(supplier) || k.p < 0 => Err(Problem::bad_parameter(
                "page_token",
                "page_token was not issued for this query (use next_page_token as given, with the same filters)",
            )),
            _ => Ok(()),
        }
    }
}

/// One page of a supplier's stored events, decoded (any store backend).
pub(crate) async fn events_page<S: EventStore>(
    store: &S,
    codec: &Codec,
    supplier: &str,
    q: EventQuery,
) -> Result<EventPage, Problem> {
    let day_ms = 86_400_000_i64;
    let filter = SupplierFilter {
        occurred_from: q.from.map(|d| Timestamp(i64::from(d.0) * day_ms)),
        occurred_before: q.to.map(|d| Timestamp((i64::from(d.0) + 1) * day_ms)),
        record_name: q.kind.map(|k| k.full_name().to_owned()),
    };
    let after = q.after.as_ref().map(|k| SupplierCursor {
        occurred_at: Timestamp(k.t),
        position: k.p,
    });
    let mut page = store
        .read_supplier(supplier, &filter, after, q.page_size + 1)
        .await?;
    let more = page.len() > q.page_size;
    page.truncate(q.page_size);
    let mut items = Vec::with_capacity(page.len());
    for e in &page {
        let record = e.decode(codec).map_err(|err| {
            tracing::error!(position = e.position, error = %err, "stored event cannot be decoded");
            Problem::internal()
        })?;
        let mut payload = serde_json::to_value(&record).map_err(|err| {
            tracing::error!(position = e.position, error = %err, "event cannot be shown as JSON");
            Problem::internal()
        })?;
        if let Some(o) = payload.as_object_mut() {
            o.remove("type");
        }
        items.push(EventJson {
            event_id: e.event_id.to_string(),
            source: e.source.clone(),
            kind: record.kind().name().to_owned(),
            occurred_at: e.occurred_at.to_string(),
            recorded_at: e.recorded_at.to_string(),
            position: e.position,
            payload,
        });
    }
    let digest = q.digest(supplier);
    let next = more.then(|| page.last()).flatten().map(|e| {
        crate::params::token(&EventKey {
            t: e.occurred_at.0,
            p: e.position,
            q: digest,
        })
    });
    Ok(EventPage {
        items,
        next_page_token: next,
    })
}
