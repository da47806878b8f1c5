//! The read API over [`MemoryProjection`] (stores without projection tables: the
//! embedded SQLite demo). Same JSON as the PostgreSQL reader; a test compares them.

use std::cmp::Ordering;
use std::sync::Arc;

use tierline_events::{Codec, Date};
use tierline_projector::{MemoryProjection, SupplierView};
use tierline_scoring::{Policy, Scorecard, Tier, WINDOWS, scorecard_from_sums};
use tierline_store::{EventStore, Store};

use crate::model::*;
use crate::problem::Problem;
use crate::read::{
    AlertFilter, AlertKey, EventQuery, ListKey, Sort, compare, continue_tiers, dimensions_json,
    episode_status, events_page, history_of, indicators_json, window_sum,
};

/// Reads the in-memory projection (and the store, for lineage).
#[derive(Debug, Clone)]
pub struct MemoryReader {
    projection: MemoryProjection,
    store: Store,
    codec: Codec,
}

impl MemoryReader {
    /// A reader of `projection`, with lineage from `store`.
    pub fn new(projection: MemoryProjection, store: Store, codec: Codec) -> MemoryReader {
        MemoryReader {
            projection,
            store,
            codec,
        }
    }

    pub(crate) fn policy(&self) -> &Arc<Policy> {
        self.projection.policy()
    }

    fn view(&self, supplier: &str) -> Result<Arc<SupplierView>, Problem> {
        self.projection
            .snapshot()
            .suppliers
            .get(supplier)
            .cloned()
            .ok_or_else(|| Problem::unknown_supplier(supplier))
    }

    fn scorecard_on(&self, v: &SupplierView, day: Date, as_of: Date, window: u32) -> Scorecard {
        match WINDOWS.iter().position(|w| *w == window) {
            Some(k) if as_of == day && k < v.scorecards.len() => v.scorecards[k].clone(),
            _ => scorecard_from_sums(self.policy(), as_of, window, |i| {
                window_sum(&v.totals, i, as_of, window)
            }),
        }
    }

    /// The tier on `as_of`: from the walk, continued past its end if the clock is ahead.
    fn tier_on(&self, v: &SupplierView, as_of: Date) -> Tier {
        let (Some(first), Some(last)) = (v.tiers.first(), v.tiers.last()) else {
            return Tier::Unrated;
        };
        if as_of < first.date {
            return Tier::Unrated;
        }
        if as_of <= last.date {
            return v.tiers[(as_of.0 - first.date.0) as usize].tier;
        }
        continue_tiers(self.policy(), &v.totals, last.date, last.tier, as_of)
            .pop()
            .unwrap_or(last.tier)
    }

    pub(crate) fn scorecard(
        &self,
        supplier: &str,
        as_of: Date,
        window: u32,
    ) -> Result<ScorecardJson, Problem> {
        let snap = self.projection.snapshot();
        let v = self.view(supplier)?;
        let sc = self.scorecard_on(&v, snap.day, as_of, window);
        Ok(ScorecardJson {
            supplier_id: supplier.to_owned(),
            as_of: as_of.to_string(),
            window,
            policy_version: self.policy().version.clone(),
            score: sc.composite,
            coverage: sc.coverage,
            tier: self.tier_on(&v, as_of).name().to_owned(),
            dimensions: dimensions_json(&sc),
            indicators: indicators_json(&sc),
        })
    }

    pub(crate) fn history(
        &self,
        supplier: &str,
        from: Date,
        to: Date,
        window: u32,
    ) -> Result<History, Problem> {
        let v = self.view(supplier)?;
        Ok(history_of(
            self.policy(),
            supplier,
            &v.totals,
            from,
            to,
            window,
            |d| self.tier_on(&v, d),
        ))
    }

    pub(crate) fn suppliers(
        &self,
        as_of: Date,
        window: u32,
        tier: Option<Tier>,
        sort: Sort,
        page_size: usize,
        after: Option<ListKey>,
    ) -> SupplierPage {
        let snap = self.projection.snapshot();
        let mut all: Vec<(Scorecard, Tier, &SupplierView)> = snap
            .suppliers
            .values()
            .map(|v| {
                (
                    self.scorecard_on(v, snap.day, as_of, window),
                    self.tier_on(v, as_of),
                    &**v,
                )
            })
            .filter(|(_, t, _)| tier.is_none_or(|want| want == *t))
            .collect();
        all.sort_by(|a, b| {
            compare(
                sort,
                (a.0.composite, &a.2.supplier_id),
                (b.0.composite, &b.2.supplier_id),
            )
        });
        let start = after.as_ref().map_or(0, |k| {
            let key = (k.s.map(f64::from_bits), k.id.as_str());
            all.partition_point(|(sc, _, v)| {
                compare(sort, (sc.composite, &v.supplier_id), key) != Ordering::Greater
            })
        });
        let mut items: Vec<SupplierSummary> = all
            .iter()
            .skip(start)
            .take(page_size + 1)
            .map(|(sc, t, v)| SupplierSummary {
                supplier_id: v.supplier_id.clone(),
                score: sc.composite,
                tier: t.name().to_owned(),
                dimensions: dimensions_json(sc),
                open_alerts: v
                    .episodes
                    .iter()
                    .filter(|e| e.started_on <= as_of && e.ended_on.is_none_or(|x| x > as_of))
                    .count() as i64,
                last_event_at: v.last_event_at.map(|t| t.to_string()),
            })
            .collect();
        let next = (items.len() > page_size).then(|| {
            items.truncate(page_size);
            items.last().map(|r| {
                crate::params::token(&ListKey {
                    s: r.score.map(f64::to_bits),
                    id: r.supplier_id.clone(),
                })
            })
        });
        SupplierPage {
            items,
            next_page_token: next.flatten(),
        }
    }

    pub(crate) fn tier_counts(&self, as_of: Date) -> TierCounts {
        let snap = self.projection.snapshot();
        let mut counts: std::collections::BTreeMap<String, i64> =
            Tier::ALL.iter().map(|t| (t.name().to_owned(), 0)).collect();
        for v in snap.suppliers.values() {
            *counts
                .entry(self.tier_on(v, as_of).name().to_owned())
                .or_default() += 1;
        }
        TierCounts {
            as_of: as_of.to_string(),
            counts,
        }
    }

    pub(crate) fn alerts(
        &self,
        filter: &AlertFilter,
        page_size: usize,
        after: Option<AlertKey>,
    ) -> AlertPage {
        let snap = self.projection.snapshot();
        let mut all: Vec<(&str, &tierline_scoring::Episode)> = snap
            .suppliers
            .values()
            .filter(|v| {
                filter
                    .supplier_id
                    .as_ref()
                    .is_none_or(|s| *s == v.supplier_id)
            })
            .flat_map(|v| v.episodes.iter().map(|e| (v.supplier_id.as_str(), e)))
            // Nothing is announced from memory, so nothing is ever retracted.
            .filter(|(_, e)| filter.status.lists(e.ended_on.is_some(), false))
            .filter(|(_, e)| filter.level.as_ref().is_none_or(|l| l == e.level.name()))
            .collect();
        // Newest start first, then id (as the PostgreSQL reader orders them).
        all.sort_by(|(_, a), (_, b)| {
            b.started_on
                .cmp(&a.started_on)
                .then(a.alert_id.cmp(&b.alert_id))
        });
        let start = after.as_ref().map_or(0, |k| {
            all.partition_point(|(_, e)| {
                e.started_on.0 > k.d || (e.started_on.0 == k.d && e.alert_id <= k.id)
            })
        });
        let mut items: Vec<AlertJson> = all
            .iter()
            .skip(start)
            .take(page_size + 1)
            .map(|(supplier, e)| AlertJson {
                alert_id: e.alert_id.to_string(),
                supplier_id: (*supplier).to_owned(),
                rule: e.rule.clone(),
                level: e.level.name().to_owned(),
                status: episode_status(e.ended_on.is_some(), false).to_owned(),
                value: e.value_at_start,
                value_at_end: e.value_at_end,
                threshold: e.threshold,
                window_days: e.window_days,
                started_on: e.started_on.to_string(),
                ended_on: e.ended_on.map(|d| d.to_string()),
                // Nothing is published from the in-memory projection.
                raised_at: None,
                resolved_at: None,
                retracted_at: None,
            })
            .collect();
        let next = (items.len() > page_size).then(|| {
            items.truncate(page_size);
            let (_, e) = all[start + page_size - 1];
            crate::params::token(&AlertKey {
                d: e.started_on.0,
                id: e.alert_id,
            })
        });
        AlertPage {
            items,
            next_page_token: next,
        }
    }

    pub(crate) async fn events(&self, supplier: &str, q: EventQuery) -> Result<EventPage, Problem> {
        let first_page = q.after.is_none();
        let page = events_page(&self.store, &self.codec, supplier, q).await?;
        if page.items.is_empty() && first_page && self.view(supplier).is_err() {
            return Err(Problem::unknown_supplier(supplier));
        }
        Ok(page)
    }

    pub(crate) async fn ping(&self) -> bool {
        let ping = self.store.ping();
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(2), ping).await,
            Ok(Ok(_))
        )
    }
}
