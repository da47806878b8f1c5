//! Reading the projections (and the store, for lineage) and finishing the numbers with
//! the scoring crate, so a past `as_of` gets exactly what the ledger would compute.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tierline_events::{Codec, Date};
use tierline_projections::{DayBucket, Projections, SummaryQuery};
use tierline_scoring::{Agg, Indicator, Policy, Scorecard, Tier, scorecard_from_sums};
use tierline_store::Store;
use tracing::instrument;

use crate::model::*;
use crate::problem::Problem;

mod alerts;
mod credit;
mod finish;
pub(crate) mod gate;
mod lineage;
mod plans;
pub(crate) mod profile;
pub(crate) mod standing;

pub(crate) use alerts::{AlertFilter, AlertStatus};
pub(crate) use finish::{
    compare, continue_tiers, dimensions_json, history_of, indicators_json, window_sum,
};
pub(crate) use lineage::{EventQuery, event_json, events_page};

/// Daily totals keyed like the ledger's, so window sums add days in the same order.
pub(crate) type Buckets = BTreeMap<BucketKey, Agg>;

/// An indicator on a day.
type BucketKey = (Indicator, Date);

/// How the supplier list is ordered.
pub(crate) type Sort = tierline_projections::ListSort;

/// Keyset position in the supplier list: the last row's score (as bits) and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ListKey {
    pub(crate) s: Option<u64>,
    pub(crate) id: String,
}

/// The read side: the read model the projector writes, and the store for lineage, on
/// either backend.
#[derive(Debug, Clone)]
pub struct Reader {
    projections: Projections,
    store: Store,
    policy: Arc<Policy>,
    codec: Codec,
}

fn tier_name(s: &str) -> Tier {
    Tier::from_name(s).unwrap_or(Tier::Unrated)
}

fn buckets_of(rows: impl IntoIterator<Item = DayBucket>) -> Buckets {
    rows.into_iter()
        .map(|b| ((b.indicator, b.day), b.total))
        .collect()
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Problem> {
    serde_json::from_str(text).map_err(|e| {
        tracing::error!(error = %e, "stored projection JSON is unreadable");
        Problem::internal()
    })
}

impl Reader {
    /// A reader over `store`'s database, scoring with `policy`.
    pub fn new(store: Store, policy: Arc<Policy>, codec: Codec) -> Reader {
        Reader {
            projections: Projections::of(&store),
            store,
            policy,
            codec,
        }
    }

    /// The policy the API scores with.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The event store (lineage, and the write path appends to it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The codec events are read and written with.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The read model.
    pub fn projections(&self) -> &Projections {
        &self.projections
    }

    async fn buckets(&self, supplier: &str, from: Date, to: Date) -> Result<Buckets, Problem> {
        Ok(buckets_of(
            self.projections.buckets(supplier, from, to).await?,
        ))
    }

    /// The day the projector last brought every supplier up to.
    async fn projected_day(&self) -> Result<Option<Date>, Problem> {
        Ok(self.projections.projected_day().await?)
    }

    /// Per-day tiers of one supplier on `from..=to` (UNRATED before its first day).
    async fn tiers(&self, supplier: &str, from: Date, to: Date) -> Result<Vec<Tier>, Problem> {
        let rows = self.projections.tier_rows(supplier, from, to).await?;
        let stored: BTreeMap<Date, Tier> = rows.iter().map(|(d, t)| (*d, tier_name(t))).collect();
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
        let row = self
            .projections
            .scorecard(supplier, window)
            .await?
            .ok_or_else(|| Problem::unknown_supplier(supplier))?;
        if row.as_of == as_of {
            return Ok(ScorecardJson {
                supplier_id: supplier.to_owned(),
                as_of: as_of.to_string(),
                window,
                policy_version: row.policy_version,
                score: row.composite,
                coverage: row.coverage,
                tier: row.tier,
                status: String::new(),
                dimensions: parse_json(&row.dimensions)?,
                indicators: parse_json(&row.indicators)?,
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
            status: String::new(),
            dimensions: dimensions_json(&sc),
            indicators: indicators_json(&sc),
        })
    }

    /// Whether the read model knows the supplier.
    pub(crate) async fn is_known(&self, supplier: &str) -> Result<bool, Problem> {
        self.known(supplier).await
    }

    async fn known(&self, supplier: &str) -> Result<bool, Problem> {
        Ok(self.projections.known(supplier).await?)
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

    /// `GET /v1/suppliers`, each with its status today; with `status`, only the
    /// suppliers of that status (pages are read until one is full).
    #[instrument(skip(self), err(Debug, level = "debug"))]
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn suppliers(
        &self,
        as_of: Date,
        window: u32,
        tier: Option<Tier>,
        status: Option<&str>,
        sort: Sort,
        page_size: usize,
        mut after: Option<ListKey>,
    ) -> Result<SupplierPage, Problem> {
        let statuses = self.projections.statuses().await?;
        let status_of = |id: &str| statuses.get(id).map_or("APPROVED", String::as_str);
        let key = |r: &SupplierSummary| ListKey {
            s: r.score.map(f64::to_bits),
            id: r.supplier_id.clone(),
        };
        let projected = self.projected_day().await? == Some(as_of);
        let mut rows: Vec<SupplierSummary> = Vec::new();
        loop {
            let batch = if projected {
                self.suppliers_projected(as_of, window, tier, sort, page_size, after.as_ref())
                    .await?
            } else {
                self.suppliers_computed(as_of, window, tier, sort, page_size, after.as_ref())
                    .await?
            };
            let more = batch.len() > page_size;
            let last = batch
                .get(page_size.min(batch.len()).saturating_sub(1))
                .map(key);
            rows.extend(
                batch
                    .into_iter()
                    .take(page_size)
                    .filter(|r| status.is_none_or(|st| status_of(&r.supplier_id) == st)),
            );
            if !more || rows.len() > page_size {
                break;
            }
            after = last;
        }
        for r in &mut rows {
            r.status = status_of(&r.supplier_id).to_owned();
        }
        let (items, next_page_token) = crate::params::page(rows, page_size, key);
        Ok(SupplierPage {
            items,
            next_page_token,
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
        let rows = self
            .projections
            .summaries(&SummaryQuery {
                window,
                as_of,
                tier: tier.map(Tier::name),
                sort,
                limit: page_size + 1,
                after: after.map(|k| (k.s.map(f64::from_bits), k.id.as_str())),
            })
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(SupplierSummary {
                    supplier_id: r.supplier_id,
                    score: r.composite,
                    tier: r.tier,
                    dimensions: parse_json(&r.dimensions)?,
                    open_alerts: r.open_alerts,
                    last_event_at: r.last_event_at.map(|t| t.to_string()),
                    status: String::new(),
                })
            })
            .collect()
    }

    /// Every supplier's tier as of `as_of`.
    async fn all_tiers(&self, as_of: Date) -> Result<BTreeMap<String, Tier>, Problem> {
        let rows = self
            .projections
            .tiers_on(self.policy.tier_window_days, as_of)
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
        let mut buckets: HashMap<String, Buckets> = HashMap::new();
        for (supplier, b) in self
            .projections
            .buckets_between(Date(as_of.0 + 1 - window as i32), as_of)
            .await?
        {
            buckets
                .entry(supplier)
                .or_default()
                .insert((b.indicator, b.day), b.total);
        }
        let open: HashMap<String, i64> = self
            .projections
            .open_alert_counts(as_of)
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
        let last: HashMap<String, tierline_events::Timestamp> = self
            .projections
            .last_event_at(&ids)
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
                last_event_at: last.get(&supplier).map(|t| t.to_string()),
                status: String::new(),
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
            let rows = self
                .projections
                .tier_counts(self.policy.tier_window_days)
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
        self.projections.ping(tierline_http::READY_TIMEOUT).await
    }
}
