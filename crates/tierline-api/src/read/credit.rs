//! A supplier's credit record (docs/scoring.md "Plans, status and credit"): every delta with
//! its cause, from its episodes, its plans' reviews and its violations.

use tierline_events::{Date, ViolationSeverity};
use tierline_scoring::{
    EpisodeFact, Level, Policy, ViolationFact, credit_class, credit_record, credit_score,
};

use super::Reader;
use super::standing::Standing;
use crate::model::{CreditDeltaJson, CreditJson};
use crate::problem::Problem;

impl Standing {
    /// Its episodes as the credit record and the gate read them.
    pub(crate) fn episode_facts(&self) -> Vec<EpisodeFact<'_>> {
        self.episodes
            .iter()
            .map(|e| EpisodeFact {
                alert_id: e.alert_id,
                rule: &e.rule,
                level: if e.level == "CRITICAL" {
                    Level::Critical
                } else {
                    Level::Warning
                },
                started_on: e.started_on,
                ended_on: e.ended_on,
                withdrawn: e.publication.retracted_at.is_some(),
            })
            .collect()
    }

    /// Its reviews with their plans' indicators: (plan id, indicator, review).
    pub(crate) fn review_facts(&self) -> Vec<(&str, &str, tierline_scoring::Review)> {
        self.reviews
            .iter()
            .map(|(id, r)| {
                let indicator = self
                    .plans
                    .get(id)
                    .map_or("", |p| p.fields.indicator.as_str());
                (id.as_str(), indicator, *r)
            })
            .collect()
    }

    /// The credit record as of the standing's day.
    pub(crate) fn credit(&self, policy: &Policy) -> CreditJson {
        let episodes = self.episode_facts();
        let reviews = self.review_facts();
        let violations: Vec<ViolationFact> = super::profile::violations(policy, &self.records)
            .into_iter()
            .filter_map(|v| {
                Some(ViolationFact {
                    date: Date::parse(&v.occurred_on)?,
                    violation_id: v.violation_id,
                    severity: ViolationSeverity::from_symbol(&v.severity)?,
                    regulation: v.regulation,
                    void: v.void,
                })
            })
            .collect();
        let record = credit_record(policy, &episodes, &reviews, &violations);
        let score = credit_score(&record, self.as_of);
        CreditJson {
            as_of: self.as_of.to_string(),
            score,
            class: credit_class(score).to_owned(),
            deltas: record
                .into_iter()
                .map(|d| CreditDeltaJson {
                    date: d.date.to_string(),
                    delta: d.delta,
                    cause: d.cause.name().to_owned(),
                    reference: d.reference,
                    detail: d.detail,
                    withdrawn: d.withdrawn,
                })
                .collect(),
        }
    }
}

impl Reader {
    /// The credit record of `supplier` as of `as_of`.
    pub(crate) async fn credit(&self, supplier: &str, as_of: Date) -> Result<CreditJson, Problem> {
        Ok(self.standing(supplier, as_of).await?.credit(&self.policy))
    }
}
