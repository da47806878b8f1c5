//! A supplier's rectification plans (docs/scoring.md "Plans, status and credit"), stored and
//! derived, with their state on a day, and one plan's baseline and daily series.

use std::collections::BTreeMap;

use tierline_events::{Date, PlanOutcome, Record};
use tierline_scoring::{Plan, PlanState};

use super::Reader;
use super::standing::Standing;
use crate::model::{PlanJson, ProgressJson, SeriesPoint};
use crate::problem::Problem;

impl Standing {
    /// Every plan with its state on the standing's day, by id.
    pub(crate) fn plans_json(
        &self,
        supplier: &str,
        policy: &tierline_scoring::Policy,
    ) -> Vec<PlanJson> {
        let mut progress: BTreeMap<&str, Vec<ProgressJson>> = BTreeMap::new();
        for r in &self.records {
            if let Record::RectificationProgressReported(p) = r {
                progress
                    .entry(p.plan_id.as_str())
                    .or_default()
                    .push(ProgressJson {
                        occurred_at: p.occurred_at.to_string(),
                        percent_complete: p.percent_complete,
                        note: p.note.clone(),
                        source: p.source.clone(),
                    });
            }
        }
        self.plans
            .iter()
            .map(|(id, plan)| {
                let review = self.reviews.get(id);
                let state = plan.state_on(self.as_of, policy, || review.and_then(|r| r.value));
                plan_json(
                    supplier,
                    id,
                    plan,
                    state,
                    progress.remove(id.as_str()).unwrap_or_default(),
                )
            })
            .collect()
    }
}

/// A plan as the API shows it.
fn plan_json(
    supplier: &str,
    plan_id: &str,
    plan: &Plan,
    state: PlanState,
    progress: Vec<ProgressJson>,
) -> PlanJson {
    let (state_name, review) = match state {
        PlanState::NotYet | PlanState::Open => ("OPEN", None),
        PlanState::Closed(_) => ("CLOSED", None),
        PlanState::Reviewed(o, v) => (outcome_name(o), Some(v)),
    };
    PlanJson {
        plan_id: plan_id.to_owned(),
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
        baseline: None,
        series: Vec::new(),
    }
}

impl Reader {
    /// Every plan of `supplier` with its state on `today`.
    pub(crate) async fn plans(
        &self,
        supplier: &str,
        today: Date,
    ) -> Result<Vec<PlanJson>, Problem> {
        Ok(self
            .standing(supplier, today)
            .await?
            .plans_json(supplier, &self.policy))
    }

    /// One plan with its baseline (the indicator as of its opening day) and its daily
    /// series from then to the earlier of its review date and `today`.
    pub(crate) async fn plan(
        &self,
        supplier: &str,
        plan_id: &str,
        today: Date,
    ) -> Result<Option<PlanJson>, Problem> {
        let standing = self.standing(supplier, today).await?;
        let Some(plan) = standing.plans.get(plan_id) else {
            return Ok(None);
        };
        let Some(mut json) = standing
            .plans_json(supplier, &self.policy)
            .into_iter()
            .find(|p| p.plan_id == plan_id)
        else {
            return Ok(None);
        };
        let end = plan.review_date().map_or(today, |r| r.min(today));
        json.series = self.series(supplier, plan, plan.opened_on, end).await?;
        json.baseline = json.series.first().and_then(|p| p.value);
        Ok(Some(json))
    }

    /// The plan's indicator over its window for each day of `from..=to`.
    pub(crate) async fn series(
        &self,
        supplier: &str,
        plan: &Plan,
        from: Date,
        to: Date,
    ) -> Result<Vec<SeriesPoint>, Problem> {
        let Some(indicator) = tierline_scoring::Indicator::from_name(&plan.fields.indicator) else {
            return Ok(Vec::new());
        };
        let w = u32::try_from(plan.fields.window_days).unwrap_or(30);
        let b = self
            .buckets(supplier, Date(from.0 + 1 - w as i32), to)
            .await?;
        Ok((from.0..=to.0)
            .map(Date)
            .map(|d| SeriesPoint {
                date: d.to_string(),
                value: tierline_scoring::indicator_value(
                    &self.policy,
                    indicator,
                    &super::window_sum(&b, indicator, d, w),
                )
                .value,
            })
            .collect())
    }
}

pub(crate) fn outcome_name(o: PlanOutcome) -> &'static str {
    match o {
        PlanOutcome::Verified => "VERIFIED",
        PlanOutcome::Failed => "FAILED",
        _ => "UNVERIFIABLE",
    }
}
