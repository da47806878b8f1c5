//! A supplier's credit record (docs/scoring.md "Plans, status and credit"): every delta with
//! its cause, from the read model's episodes, the plans and the stored violations.

use tierline_events::{Date, PlanOutcome, Record, RecordKind};
use tierline_projections::{AlertQuery, AlertStatus};
use tierline_scoring::{
    CREDIT_RULES, Level, credit_class, credit_on, episode_delta, plan_delta, violation_delta,
};

use super::Reader;
use crate::model::{CreditDeltaJson, CreditJson};
use crate::problem::Problem;

impl Reader {
    /// The credit record of `supplier` as of `as_of`.
    pub(crate) async fn credit(&self, supplier: &str, as_of: Date) -> Result<CreditJson, Problem> {
        let mut deltas: Vec<CreditDeltaJson> = Vec::new();
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
        let live = |e: &&tierline_projections::EpisodeRow| e.publication.retracted_at.is_none();
        for e in episodes
            .iter()
            .filter(|e| CREDIT_RULES.contains(&e.rule.as_str()))
        {
            let level = if e.level == "CRITICAL" {
                Level::Critical
            } else {
                Level::Warning
            };
            // A WARNING episode of the same rule open on the start.
            let warning_open = episodes.iter().filter(live).any(|w| {
                w.rule == e.rule
                    && w.level == "WARNING"
                    && w.started_on <= e.started_on
                    && w.ended_on.is_none_or(|end| end > e.started_on)
            });
            deltas.push(CreditDeltaJson {
                date: e.started_on.to_string(),
                delta: episode_delta(level, warning_open),
                cause: "episode".into(),
                reference: e.alert_id.to_string(),
                detail: format!("{} {} from {}", e.rule, e.level, e.started_on),
                withdrawn: e.publication.retracted_at.is_some(),
            });
        }
        for p in self.plans(supplier, as_of).await? {
            let outcome = match p.state.as_str() {
                "VERIFIED" => PlanOutcome::Verified,
                "FAILED" => PlanOutcome::Failed,
                "UNVERIFIABLE" => PlanOutcome::Unverifiable,
                _ => continue,
            };
            deltas.push(CreditDeltaJson {
                date: p.review_date.clone().unwrap_or_default(),
                delta: plan_delta(outcome),
                cause: "plan".into(),
                reference: p.plan_id.clone(),
                detail: format!(
                    "{} {} on {}",
                    p.indicator,
                    p.state,
                    p.review_date.unwrap_or_default()
                ),
                withdrawn: false,
            });
        }
        let kinds = [
            RecordKind::SupplierComplianceViolationRecorded,
            RecordKind::SupplierComplianceViolationRetracted,
        ];
        let records =
            super::profile::records_of(&self.store, &self.codec, supplier, &kinds).await?;
        for v in super::profile::violations(&self.policy, &records) {
            let severity = records.iter().rev().find_map(|r| match r {
                Record::SupplierComplianceViolationRecorded(x)
                    if x.violation_id == v.violation_id =>
                {
                    Some(x.severity)
                }
                _ => None,
            });
            let Some(delta) = severity.and_then(violation_delta) else {
                continue;
            };
            deltas.push(CreditDeltaJson {
                date: v.occurred_on.clone(),
                delta,
                cause: "violation".into(),
                reference: v.violation_id.clone(),
                detail: format!("{} {}", v.severity, v.regulation),
                withdrawn: v.void,
            });
        }
        deltas.sort_by(|a, b| (&a.date, &a.reference).cmp(&(&b.date, &b.reference)));
        let counted: Vec<(Date, f64)> = deltas
            .iter()
            .filter(|d| !d.withdrawn)
            .filter_map(|d| {
                let day = chrono::NaiveDate::parse_from_str(&d.date, "%Y-%m-%d").ok()?;
                Some((Date::from_naive(day), d.delta))
            })
            .collect();
        let score = credit_on(&counted, as_of);
        Ok(CreditJson {
            as_of: as_of.to_string(),
            score,
            class: credit_class(score).to_owned(),
            deltas,
        })
    }
}
