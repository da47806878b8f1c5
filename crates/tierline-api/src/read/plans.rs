//! A supplier's rectification plans (docs/scoring.md "Plans, status and credit"), stored and derived,
//! with their state today: stored records from the store, derived plans from the CRITICAL
//! episodes of the read model, review values from its daily buckets.

use std::collections::BTreeMap;

use tierline_events::{Date, PlanOutcome, Record, RecordKind};
use tierline_projections::{AlertQuery, AlertStatus};
use tierline_scoring::{Direction, PlanFields, PlanRecords, PlanState, indicator_value};

use super::{Reader, window_sum};
use crate::model::{PlanJson, ProgressJson};
use crate::problem::Problem;

/// The rules whose CRITICAL episodes imply a plan (the default `[rectification] rules`).
pub(crate) const PLAN_RULES: [&str; 5] = [
    "otif_rate",
    "defect_ppm",
    "lot_acceptance_rate",
    "return_rate_ppm",
    "critical_defects",
];

/// Days from an episode's start to its derived plan's due date (default `due_days`).
const DUE_DAYS: i32 = 60;

impl Reader {
    /// Every plan of `supplier` with its state on `today`.
    pub(crate) async fn plans(
        &self,
        supplier: &str,
        today: Date,
    ) -> Result<Vec<PlanJson>, Problem> {
        let kinds = [
            RecordKind::RectificationPlanOpened,
            RecordKind::RectificationProgressReported,
            RecordKind::RectificationPlanClosed,
        ];
        let records =
            super::profile::records_of(&self.store, &self.codec, supplier, &kinds).await?;
        let mut by_id: BTreeMap<String, (PlanRecords, Vec<ProgressJson>)> = BTreeMap::new();
        for r in &records {
            match r {
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
                    by_id
                        .entry(o.plan_id.clone())
                        .or_default()
                        .0
                        .opened
                        .push((key, fields));
                }
                Record::RectificationPlanClosed(c) => {
                    let key = (c.occurred_at, c.event_id, c.source.clone());
                    by_id
                        .entry(c.plan_id.clone())
                        .or_default()
                        .0
                        .closed
                        .push((key, c.reason));
                }
                Record::RectificationProgressReported(p) => {
                    by_id
                        .entry(p.plan_id.clone())
                        .or_default()
                        .1
                        .push(ProgressJson {
                            occurred_at: p.occurred_at.to_string(),
                            percent_complete: p.percent_complete,
                            note: p.note.clone(),
                            source: p.source.clone(),
                        });
                }
                _ => {}
            }
        }
        self.derive_plans(supplier, &mut by_id).await?;
        let policy = &self.policy;
        let day_of = |t| policy.day_of(t);
        let mut out = Vec::new();
        for (plan_id, (records, progress)) in by_id {
            let Some(plan) = records.plan(day_of) else {
                continue; // progress or a closing on a plan that does not exist (yet)
            };
            let value = match plan.review_date() {
                Some(r) if r <= today => self.value_on(supplier, &plan.fields, r).await?,
                _ => None,
            };
            let state = plan.state_on(today, policy, || value);
            let (state_name, review) = match state {
                PlanState::NotYet | PlanState::Open => ("OPEN", None),
                PlanState::Closed(_) => ("CLOSED", None),
                PlanState::Reviewed(o, v) => (outcome_name(o), Some(v)),
            };
            out.push(PlanJson {
                plan_id,
                supplier_id: supplier.to_owned(),
                derived: plan.derived,
                indicator: plan.fields.indicator.clone(),
                window_days: plan.fields.window_days,
                target: plan.fields.target,
                due_date: plan.fields.due_date.to_string(),
                opened_on: plan.opened_on.to_string(),
                state: state_name.to_owned(),
                close_reason: plan.closed.map(|(r, _)| r.symbol().to_owned()),
                review_date: plan.review_date().map(|d| d.to_string()),
                value_at_review: review.flatten(),
                owner: plan.fields.owner.clone(),
                measures: plan.fields.measures.clone(),
                trigger_alert_id: plan.fields.trigger_alert_id.map(|a| a.to_string()),
                progress,
            });
        }
        Ok(out)
    }

    /// Adds the derived plans of the supplier's CRITICAL episodes, oldest first, each
    /// unless another plan on its indicator is OPEN on the episode's start.
    async fn derive_plans(
        &self,
        supplier: &str,
        by_id: &mut BTreeMap<String, (PlanRecords, Vec<ProgressJson>)>,
    ) -> Result<(), Problem> {
        let mut episodes = self
            .projections
            .alerts(&AlertQuery {
                status: AlertStatus::Current,
                supplier_id: Some(supplier),
                level: Some("CRITICAL"),
                after: None,
                limit: 100_000,
            })
            .await?;
        episodes.sort_by_key(|e| (e.started_on, e.alert_id));
        let day_of = |t| self.policy.day_of(t);
        for e in episodes {
            let Some(rule) = self.policy.alerts.iter().find(|a| a.rule == e.rule) else {
                continue;
            };
            if !PLAN_RULES.contains(&e.rule.as_str()) {
                continue;
            }
            let open_on_start = by_id.values().any(|(r, _)| {
                r.plan(day_of).is_some_and(|p| {
                    p.fields.indicator == e.rule
                        && p.state_on(e.started_on, &self.policy, || None) == PlanState::Open
                })
            });
            let plan_id = uuid::Uuid::new_v5(
                &tierline_scoring::ID_NAMESPACE,
                format!("{}|PLAN", e.alert_id).as_bytes(),
            )
            .to_string();
            if open_on_start {
                continue; // suppressed: a stored Opened with its id still makes a plan
            }
            let target = match rule.direction {
                Direction::Below => rule.warning + rule.margin,
                Direction::Above => rule.warning - rule.margin,
            };
            let fields = PlanFields {
                indicator: e.rule.clone(),
                window_days: rule.window_days as i32,
                target,
                due_date: Date(e.started_on.0 + DUE_DAYS),
                trigger_alert_id: Some(e.alert_id),
                owner: "unassigned".into(),
                measures: Vec::new(),
            };
            by_id.entry(plan_id).or_default().0.derived = Some((e.started_on, fields));
        }
        Ok(())
    }

    /// The plan's indicator over its window as of `day`, from the daily buckets.
    async fn value_on(
        &self,
        supplier: &str,
        f: &PlanFields,
        day: Date,
    ) -> Result<Option<f64>, Problem> {
        let Some(indicator) = tierline_scoring::Indicator::from_name(&f.indicator) else {
            return Ok(None);
        };
        let w = u32::try_from(f.window_days).unwrap_or(30);
        let b = self
            .buckets(supplier, Date(day.0 + 1 - w as i32), day)
            .await?;
        Ok(indicator_value(&self.policy, indicator, &window_sum(&b, indicator, day, w)).value)
    }
}

fn outcome_name(o: PlanOutcome) -> &'static str {
    match o {
        PlanOutcome::Verified => "VERIFIED",
        PlanOutcome::Failed => "FAILED",
        _ => "UNVERIFIABLE",
    }
}
