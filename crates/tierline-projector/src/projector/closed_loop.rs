//! A step's plan outcomes and status changes (docs/scoring.md "Plans, status and
//! credit"): each supplier's plans reviewed before today and its status today, against
//! what was last published about them (`published_states`), and the outbox messages of
//! what changed. Results never depend on when events arrived: a late event that changes
//! an outcome publishes the new one, one that erases it publishes `RETRACTED`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tierline_events::{
    Date, PlanOutcome, Record, RectificationPlanReviewed, SupplierStatus, SupplierStatusChanged,
    Timestamp,
};
use tierline_projections::{PageRows, PublishedState, StandingRow, WriteTx};
use tierline_scoring::{
    EpisodeFact, ID_NAMESPACE, Plan, Review, StatusLine, SupplierLedger, Tier, credit_record,
    credit_score, critical_open, failed_plans,
};
use uuid::Uuid;

use super::writers::Computed;
use super::{Projector, ProjectorError};

/// The subject of a supplier's status in `published_states`.
const STATUS: &str = "status";

/// What the closed loop knows of a supplier in a step: its plans reviewed by today
/// (by plan id) and its status line.
pub(super) struct Loop {
    pub(super) reviews: BTreeMap<String, (Plan, Review)>,
    pub(super) status: StatusLine,
}

impl Loop {
    /// The review dates of its FAILED plans.
    pub(super) fn failed(&self) -> Vec<Date> {
        self.reviews
            .values()
            .filter(|(_, r)| r.outcome == PlanOutcome::Failed)
            .map(|(_, r)| r.date)
            .collect()
    }
}

/// What was last published about a plan: enough to retract it when the plan is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PublishedPlan {
    review_date: Date,
    outcome: String,
    indicator: String,
    window_days: i32,
    target: f64,
    due_date: Date,
}

/// What was last published about a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PublishedStatus {
    status: String,
    effective_date: Date,
}

impl Projector {
    /// A supplier's plans reviewed by `today` and its status line.
    pub(super) fn loop_of(&self, c: &Computed, l: &SupplierLedger, today: Date) -> Loop {
        Loop {
            reviews: l.reviews(&c.walks, today),
            status: l.actions().status(|t| self.policy.day_of(t)),
        }
    }

    /// Adds to `rows` the standings of the `computed` suppliers (from their `loops`) and the plan outcomes and status changes that differ from what was
    /// published.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn announce_closed_loop<'a>(
        &self,
        tx: &mut WriteTx,
        computed: &[Computed],
        loops: &HashMap<&str, Loop>,
        ledger: &impl Fn(&str) -> Option<&'a SupplierLedger>,
        last: &impl Fn(&str) -> Option<&'a StandingRow>,
        today: Date,
        now: Timestamp,
        rows: &mut PageRows,
    ) -> Result<HashMap<String, StandingRow>, ProjectorError> {
        let suppliers: Vec<&str> = computed.iter().map(|c| c.supplier.as_str()).collect();
        let mut published = tx.published_states_of(&suppliers).await?;
        let mut standings = HashMap::with_capacity(computed.len());
        for c in computed {
            let (Some(l), Some(lp)) = (ledger(&c.supplier), loops.get(c.supplier.as_str())) else {
                continue;
            };
            let was: HashMap<String, PublishedState> = published
                .remove(&c.supplier)
                .unwrap_or_default()
                .into_iter()
                .map(|p| (p.subject.clone(), p))
                .collect();
            let status = lp.status.on(today).status;
            let standing = self.standing(c, l, &lp.reviews, status, today);
            // An unchanged standing is not rewritten.
            if last(&c.supplier) != Some(&standing) {
                rows.standings.push(standing.clone());
            }
            standings.insert(c.supplier.clone(), standing);
            if was.is_empty() && lp.reviews.is_empty() && l.actions().decisions.is_empty() {
                continue; // nothing reviewed, nothing decided, nothing published
            }
            self.announce_plans(l, &lp.reviews, &was, today, now, rows)?;
            self.announce_status(l, &lp.status, was.get(STATUS), today, now, rows)?;
        }
        Ok(standings)
    }

    /// The supplier's standing today: status, tier, credit, CRITICAL episodes open,
    /// FAILED plans the gate counts.
    fn standing(
        &self,
        c: &Computed,
        l: &SupplierLedger,
        reviews: &BTreeMap<String, (Plan, Review)>,
        status: SupplierStatus,
        today: Date,
    ) -> StandingRow {
        let episodes: Vec<EpisodeFact<'_>> = c
            .walks
            .episodes()
            .map(|e| EpisodeFact {
                alert_id: e.alert_id,
                rule: &e.rule,
                level: e.level,
                started_on: e.started_on,
                ended_on: e.ended_on,
                withdrawn: false,
            })
            .collect();
        let counted: Vec<(&str, &str, Review)> = reviews
            .iter()
            .map(|(id, (p, r))| (id.as_str(), p.fields.indicator.as_str(), *r))
            .collect();
        let record = credit_record(&self.policy, &episodes, &counted, &l.violations());
        let critical = critical_open(&episodes, today);
        let failed = failed_plans(&counted, today, self.policy.gate.plan_failed_days);
        let tier = c
            .walks
            .tiers
            .last()
            .filter(|t| t.date == today && t.tier != Tier::Unrated)
            .map(|t| t.tier.name().to_owned());
        StandingRow {
            supplier_id: c.supplier.clone(),
            as_of: today,
            status: status.symbol().to_owned(),
            tier,
            credit: credit_score(&record, today),
            critical_open: serde_json::to_string(&critical).unwrap_or_default(),
            failed_plans: serde_json::to_string(&failed).unwrap_or_default(),
        }
    }

    /// Each plan reviewed before today whose (review date, outcome) differs from the
    /// one published, and a `RETRACTED` for each published outcome that is gone.
    fn announce_plans(
        &self,
        l: &SupplierLedger,
        reviews: &BTreeMap<String, (Plan, Review)>,
        was: &HashMap<String, PublishedState>,
        today: Date,
        now: Timestamp,
        rows: &mut PageRows,
    ) -> Result<(), ProjectorError> {
        let supplier = l.supplier_id();
        let mut reviewed: BTreeMap<String, PublishedPlan> = BTreeMap::new();
        for (id, (plan, r)) in reviews {
            // An outcome is first published at 00:00 of the day after its review date.
            if r.date < today {
                let now_state = PublishedPlan {
                    review_date: r.date,
                    outcome: r.outcome.symbol().to_owned(),
                    indicator: plan.fields.indicator.clone(),
                    window_days: plan.fields.window_days,
                    target: plan.fields.target,
                    due_date: plan.fields.due_date,
                };
                reviewed.insert(id.clone(), now_state.clone());
                let subject = format!("plan:{id}");
                let before = was.get(&subject);
                let last: Option<PublishedPlan> =
                    before.and_then(|p| serde_json::from_str(&p.state).ok());
                if last.as_ref().is_some_and(|p| {
                    p.review_date == now_state.review_date && p.outcome == now_state.outcome
                }) {
                    continue; // a changed value with the same outcome is not news
                }
                let k = before.map_or(0, |p| p.announced) + 1;
                self.publish_plan(supplier, id, &now_state, r.outcome, r.value, k, now, rows)?;
            }
        }
        for (subject, p) in was {
            let Some(id) = subject.strip_prefix("plan:") else {
                continue;
            };
            let Ok(last) = serde_json::from_str::<PublishedPlan>(&p.state) else {
                continue;
            };
            if reviewed.contains_key(id) || last.outcome == PlanOutcome::Retracted.symbol() {
                continue;
            }
            let retracted = PublishedPlan {
                outcome: PlanOutcome::Retracted.symbol().to_owned(),
                ..last
            };
            let k = p.announced + 1;
            let outcome = PlanOutcome::Retracted;
            self.publish_plan(supplier, id, &retracted, outcome, None, k, now, rows)?;
        }
        Ok(())
    }

    /// One `RectificationPlanReviewed`, id UUIDv5 of
    /// `{supplier}|PLAN|{plan_id}|{R}|{OUTCOME}|{k}`, and the new published state.
    #[allow(clippy::too_many_arguments)]
    fn publish_plan(
        &self,
        supplier: &str,
        plan_id: &str,
        state: &PublishedPlan,
        outcome: PlanOutcome,
        value: Option<f64>,
        k: i32,
        now: Timestamp,
        rows: &mut PageRows,
    ) -> Result<(), ProjectorError> {
        let name = format!(
            "{supplier}|PLAN|{plan_id}|{}|{}|{k}",
            state.review_date, state.outcome
        );
        let event_id = Uuid::new_v5(&ID_NAMESPACE, name.as_bytes());
        let record: Record = RectificationPlanReviewed {
            event_id,
            supplier_id: supplier.to_owned(),
            plan_id: plan_id.to_owned(),
            indicator: state.indicator.clone(),
            window_days: state.window_days,
            target: state.target,
            value,
            outcome,
            due_date: state.due_date,
            policy_version: self.policy.version.clone(),
        }
        .into();
        rows.messages
            .push(self.message(supplier, &record, event_id, now)?);
        rows.published_states.push(PublishedState {
            supplier_id: supplier.to_owned(),
            subject: format!("plan:{plan_id}"),
            state: serde_json::to_string(state).unwrap_or_default(),
            announced: k,
        });
        Ok(())
    }

    /// A `SupplierStatusChanged` when today's status differs from the one published
    /// (none published: `APPROVED`).
    fn announce_status(
        &self,
        l: &SupplierLedger,
        line: &StatusLine,
        was: Option<&PublishedState>,
        today: Date,
        now: Timestamp,
        rows: &mut PageRows,
    ) -> Result<(), ProjectorError> {
        let status = line.on(today).status;
        let last: Option<PublishedStatus> = was.and_then(|p| serde_json::from_str(&p.state).ok());
        let from = last
            .as_ref()
            .and_then(|p| SupplierStatus::from_symbol(&p.status))
            .unwrap_or(SupplierStatus::Approved);
        if from == status {
            return Ok(());
        }
        let supplier = l.supplier_id();
        let effective_date = line.since(today).unwrap_or(today);
        let k = was.map_or(0, |p| p.announced) + 1;
        let name = format!("{supplier}|STATUS|{}|{effective_date}|{k}", status.symbol());
        let event_id = Uuid::new_v5(&ID_NAMESPACE, name.as_bytes());
        let record: Record = SupplierStatusChanged {
            event_id,
            supplier_id: supplier.to_owned(),
            from_status: Some(from),
            to_status: status,
            effective_date,
            reason: line.reason(effective_date),
        }
        .into();
        rows.messages
            .push(self.message(supplier, &record, event_id, now)?);
        let state = PublishedStatus {
            status: status.symbol().to_owned(),
            effective_date,
        };
        rows.published_states.push(PublishedState {
            supplier_id: supplier.to_owned(),
            subject: STATUS.to_owned(),
            state: serde_json::to_string(&state).unwrap_or_default(),
            announced: k,
        });
        Ok(())
    }
}
