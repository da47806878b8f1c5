//! A supplier's standing as of a day (docs/scoring.md "Plans, status and credit"): its
//! plan, status and violation records from the store and its episodes from the read
//! model, read once, and the plans with their reviews. Plans, credit and the gate are
//! all answered from one of these.

use std::collections::BTreeMap;

use tierline_events::{Date, Record, RecordKind};
use tierline_projections::{AlertQuery, AlertStatus, EpisodeRow};
use tierline_scoring::{CriticalEpisode, Plan, Review, StatusLine, SupplierActions, review_by};

use super::Reader;
use crate::problem::Problem;

/// The record kinds a standing reads.
const KINDS: [RecordKind; 6] = [
    RecordKind::RectificationPlanOpened,
    RecordKind::RectificationProgressReported,
    RecordKind::RectificationPlanClosed,
    RecordKind::SupplierStatusDecided,
    RecordKind::SupplierComplianceViolationRecorded,
    RecordKind::SupplierComplianceViolationRetracted,
];

/// One supplier's standing as of `as_of`.
pub(crate) struct Standing {
    /// The day it is as of.
    pub(crate) as_of: Date,
    /// Its plan, status and violation records, by ordering key.
    pub(crate) records: Vec<Record>,
    /// Every episode, retracted ones included.
    pub(crate) episodes: Vec<EpisodeRow>,
    /// Its plan records and decisions.
    pub(crate) actions: SupplierActions,
    /// Every plan, stored and derived.
    pub(crate) plans: BTreeMap<String, Plan>,
    /// The plans reviewed by `as_of`.
    pub(crate) reviews: BTreeMap<String, Review>,
}

impl Standing {
    /// Whether nothing at all is known of the supplier's actions and episodes.
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty() && self.episodes.is_empty()
    }

    /// The status line of its decisions.
    pub(crate) fn status(&self, reader: &Reader) -> StatusLine {
        self.actions.status(|t| reader.policy.day_of(t))
    }
}

impl Reader {
    /// Reads `supplier`'s standing as of `as_of`.
    pub(crate) async fn standing(&self, supplier: &str, as_of: Date) -> Result<Standing, Problem> {
        let mut standing = self.unreviewed_standing(supplier, as_of).await?;
        for (id, plan) in &standing.plans {
            let Some(r) = plan.review_date().filter(|r| *r <= as_of) else {
                continue;
            };
            let value = self.value_on(supplier, plan, r).await?;
            if let Some(review) = review_by(plan, as_of, &self.policy, |_| value) {
                standing.reviews.insert(id.clone(), review);
            }
        }
        Ok(standing)
    }

    /// The standing without its plans' reviews (no daily buckets read): which plans
    /// exist, and everything but their outcomes.
    pub(crate) async fn unreviewed_standing(
        &self,
        supplier: &str,
        as_of: Date,
    ) -> Result<Standing, Problem> {
        let records =
            super::profile::records_of(&self.store, &self.codec, supplier, &KINDS).await?;
        let episodes = self
            .projections
            .alerts(&AlertQuery {
                status: AlertStatus::All,
                supplier_id: Some(supplier),
                level: None,
                after: None,
                limit: 100_000,
            })
            .await?;
        let mut actions = SupplierActions::default();
        for r in &records {
            actions.stage(r);
        }
        let critical: Vec<CriticalEpisode<'_>> = episodes
            .iter()
            .filter(|e| e.level == "CRITICAL" && e.publication.retracted_at.is_none())
            .map(|e| CriticalEpisode {
                alert_id: e.alert_id,
                rule: &e.rule,
                started_on: e.started_on,
            })
            .collect();
        let plans = actions.plans(&critical, &self.policy);
        Ok(Standing {
            as_of,
            records,
            episodes,
            actions,
            plans,
            reviews: BTreeMap::new(),
        })
    }

    /// A plan's indicator over its window as of `day`, from the daily buckets.
    pub(crate) async fn value_on(
        &self,
        supplier: &str,
        plan: &Plan,
        day: Date,
    ) -> Result<Option<f64>, Problem> {
        let one = self.series(supplier, plan, day, day).await?;
        Ok(one.first().and_then(|p| p.value))
    }
}
