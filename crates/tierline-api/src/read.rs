//! Reading the projections (and the store, for lineage) and finishing the numbers with
//! the scoring crate, so a past `as_of` gets exactly what the ledger would compute.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use tierline_events::{Codec, Date, Timestamp};
use tierline_scoring::{Agg, ExactSum, Indicator, Policy, Scorecard, Tier, scorecard_from_sums};
use tierline_store::PgStore;
use tracing::instrument;

use crate::model::*;
use crate::problem::Problem;

mod alerts;
mod finish;
mod lineage;

pub(crate) use alerts::{AlertFilter, AlertKey, AlertStatus, episode_status};
pub(crate) use finish::{
    compare, continue_tiers, dimensions_json, history_of, indicators_json, window_sum,
};
pub(crate) use lineage::{EventQuery, events_page};

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

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Problem> {
    serde_json::from_str(text).map_err(|e| {
        tracing::error!(error = %e, "stored projection JSON is unreadable");
        Problem::internal()
    })
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
