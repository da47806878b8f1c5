//! What people decided about a supplier (docs/scoring.md "Plans, status and credit"): its
//! plan records and status decisions as a ledger keeps them, the plans they and the
//! CRITICAL episodes make, and each plan's review. Pure.

use std::collections::BTreeMap;

use tierline_events::{Date, PlanOutcome, Record, Timestamp};
use uuid::Uuid;

use crate::plan::{Plan, PlanFields, PlanRecords, PlanState};
use crate::policy::{Direction, Policy};
use crate::status::{Decision, StatusLine};
use crate::walk::ID_NAMESPACE;

/// A supplier's plan records (by plan id) and status decisions.
#[derive(Debug, Clone, Default)]
pub struct SupplierActions {
    /// Opened and Closed records of each plan id.
    pub plans: BTreeMap<String, PlanRecords>,
    /// Status decisions, any order.
    pub decisions: Vec<Decision>,
}

impl SupplierActions {
    /// Keeps `record` if it is a plan's Opened or Closed or a status decision (the
    /// caller has dropped duplicates). Returns whether it was kept.
    pub fn stage(&mut self, record: &Record) -> bool {
        match record {
            Record::RectificationPlanOpened(o) => {
                let fields = PlanFields {
                    indicator: o.indicator.clone(),
                    window_days: o.window_days,
                    target: o.target,
                    due_date: o.due_date,
                    trigger_alert_id: o.trigger_alert_id,
                    owner: o.owner.clone(),
                    measures: o.measures.clone(),
                };
                let key = (o.occurred_at, o.event_id, o.source.clone());
                let plan = self.plans.entry(o.plan_id.clone()).or_default();
                plan.opened.push((key, fields));
            }
            Record::RectificationPlanClosed(c) => {
                let key = (c.occurred_at, c.event_id, c.source.clone());
                let plan = self.plans.entry(c.plan_id.clone()).or_default();
                plan.closed.push((key, c.reason));
            }
            Record::SupplierStatusDecided(d) => self.decisions.push(Decision {
                occurred_at: d.occurred_at,
                event_id: d.event_id,
                source: d.source.clone(),
                status: d.status,
                reason: d.reason.clone(),
                valid_until: d.valid_until,
            }),
            _ => return false,
        }
        true
    }

    /// The status line of the decisions.
    pub fn status(&self, day_of: impl Fn(Timestamp) -> Date) -> StatusLine {
        StatusLine::new(self.decisions.clone(), day_of)
    }

    /// Every plan: the stored ones and those derived from `critical` episodes
    /// ([`derive_plans`]).
    pub fn plans(
        &self,
        critical: &[CriticalEpisode<'_>],
        policy: &Policy,
    ) -> BTreeMap<String, Plan> {
        let day_of = |t| policy.day_of(t);
        let mut records = self.plans.clone();
        derive_plans(&mut records, critical, policy);
        records
            .into_iter()
            .filter_map(|(id, r)| r.plan(day_of).map(|p| (id, p)))
            .collect()
    }
}

/// A CRITICAL alert episode, as far as plans are concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriticalEpisode<'a> {
    /// Its id (a derived plan's `trigger_alert_id`, and the seed of its plan id).
    pub alert_id: Uuid,
    /// The alert rule.
    pub rule: &'a str,
    /// Its first day.
    pub started_on: Date,
}

/// The id of the plan an episode implies: UUIDv5 of `{alert_id}|PLAN`.
pub fn derived_plan_id(alert_id: Uuid) -> String {
    Uuid::new_v5(&ID_NAMESPACE, format!("{alert_id}|PLAN").as_bytes()).to_string()
}

/// Adds to `records` the plan each CRITICAL episode implies under `[rectification]`,
/// oldest episode first, unless another plan (stored, or derived from an earlier
/// episode) on its indicator is OPEN on the episode's start. A suppressed plan whose id
/// has stored records exists from them alone.
pub fn derive_plans(
    records: &mut BTreeMap<String, PlanRecords>,
    critical: &[CriticalEpisode<'_>],
    policy: &Policy,
) {
    let day_of = |t| policy.day_of(t);
    let mut episodes: Vec<&CriticalEpisode<'_>> = critical
        .iter()
        .filter(|e| policy.rectification.derives(e.rule))
        .collect();
    episodes.sort_by_key(|e| (e.started_on, e.alert_id));
    for e in episodes {
        let Some(rule) = policy.alerts.iter().find(|a| a.rule == e.rule) else {
            continue;
        };
        let open_on_start = records.values().any(|r| {
            r.plan(day_of).is_some_and(|p| {
                p.fields.indicator == e.rule
                    && p.state_on(e.started_on, policy, || None) == PlanState::Open
            })
        });
        if open_on_start {
            continue;
        }
        let target = match rule.direction {
            Direction::Below => rule.warning + rule.margin,
            Direction::Above => rule.warning - rule.margin,
        };
        let due_days = policy.rectification.due_days_of(e.rule) as i32;
        let fields = PlanFields {
            indicator: e.rule.to_owned(),
            window_days: rule.window_days as i32,
            target,
            due_date: Date(e.started_on.0.saturating_add(due_days)),
            trigger_alert_id: Some(e.alert_id),
            owner: "unassigned".into(),
            measures: Vec::new(),
        };
        let id = derived_plan_id(e.alert_id);
        records.entry(id).or_default().derived = Some((e.started_on, fields));
    }
}

/// A plan's review: its date, outcome and the value it was judged on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Review {
    /// The review date (due date, or the COMPLETED closing's date).
    pub date: Date,
    /// VERIFIED, FAILED or UNVERIFIABLE.
    pub outcome: PlanOutcome,
    /// The indicator over the plan's window as of the review date (`None`: insufficient).
    pub value: Option<f64>,
}

/// The review of `plan` if its review date is on or before `day`; `value_on` gives the
/// plan's indicator over its window as of a date.
pub fn review_by(
    plan: &Plan,
    day: Date,
    policy: &Policy,
    value_on: impl FnOnce(Date) -> Option<f64>,
) -> Option<Review> {
    let date = plan.review_date().filter(|r| *r <= day)?;
    match plan.state_on(day, policy, || value_on(date)) {
        PlanState::Reviewed(outcome, value) => Some(Review {
            date,
            outcome,
            value,
        }),
        _ => None,
    }
}

impl crate::ledger::SupplierLedger {
    /// A plan's indicator over its window as of `day` (`None`: insufficient, or not an
    /// indicator).
    pub fn plan_value(&self, plan: &Plan, day: Date) -> Option<f64> {
        let indicator = crate::indicator::Indicator::from_name(&plan.fields.indicator)?;
        let w = u32::try_from(plan.fields.window_days).ok()?;
        crate::score::indicator_value(self.policy(), indicator, &self.window(indicator, day, w))
            .value
    }

    /// Its plans (stored, and derived from the CRITICAL episodes of `walks`) reviewed by
    /// `day`, by plan id.
    pub fn reviews(
        &self,
        walks: &crate::walk::Walks,
        day: Date,
    ) -> BTreeMap<String, (Plan, Review)> {
        let critical: Vec<CriticalEpisode<'_>> = walks
            .episodes()
            .filter(|e| e.level == crate::walk::Level::Critical)
            .map(|e| CriticalEpisode {
                alert_id: e.alert_id,
                rule: &e.rule,
                started_on: e.started_on,
            })
            .collect();
        self.actions()
            .plans(&critical, self.policy())
            .into_iter()
            .filter_map(|(id, plan)| {
                let r = review_by(&plan, day, self.policy(), |d| self.plan_value(&plan, d))?;
                Some((id, (plan, r)))
            })
            .collect()
    }

    /// Every episode announced up to `until`: the alert rules' and the status
    /// proposals' (what `/v1/alerts` lists and the alerts topic carries).
    pub fn announced_episodes(&self, until: Date) -> Vec<crate::walk::Episode> {
        let walks = self.walks(until);
        let failed: Vec<Date> = self
            .reviews(&walks, until)
            .values()
            .filter(|(_, r)| r.outcome == PlanOutcome::Failed)
            .map(|(_, r)| r.date)
            .collect();
        let status = self.actions().status(|t| self.policy().day_of(t));
        let mut out: Vec<crate::walk::Episode> = walks.episodes().cloned().collect();
        out.extend(crate::proposals::proposals(
            self.supplier_id(),
            &walks.tiers,
            &status,
            &failed,
            until,
        ));
        out
    }
}
