//! The order gate (docs/scoring.md "The gate"): from what is known of a supplier on a
//! day, the reasons and the decision for an action. Pure.

use tierline_events::{Date, PlanOutcome, SupplierStatus};

use crate::actions::Review;
use crate::credit::EpisodeFact;
use crate::policy::{GATE_CODES, GateAction, GateDecision, GatePolicy};
use crate::walk::Level;

/// What the gate looks at, as of its day.
#[derive(Debug, Clone, PartialEq)]
pub struct GateFacts {
    /// Whether Tierline has ever seen the supplier.
    pub seen: bool,
    /// The status on the day, and why.
    pub status: SupplierStatus,
    /// The status decision's reason (empty when none is in force).
    pub status_reason: String,
    /// The tier on the day (`None`: not rated or not evaluated yet).
    pub tier: Option<String>,
    /// The credit on the day and its class (`None` for a supplier never seen).
    pub credit: Option<(f64, &'static str)>,
    /// Rules with a CRITICAL episode open on the day.
    pub critical_open: Vec<String>,
    /// Plans (id, indicator, review date) with outcome FAILED reviewed within the
    /// policy's `plan_failed_days` up to the day.
    pub failed_plans: Vec<(String, String, String)>,
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GateAnswer {
    /// The most severe decision of the reasons; ALLOW without reasons.
    pub decision: GateDecision,
    /// (code, detail, decision) in the order of [`GATE_CODES`].
    pub reasons: Vec<(&'static str, String, GateDecision)>,
}

/// Every reason that holds and the decision for `action` under `policy`. A reason
/// whose decision is ALLOW (the policy turned it off) is not listed.
pub fn gate(policy: &GatePolicy, action: GateAction, f: &GateFacts) -> GateAnswer {
    let mut reasons = Vec::new();
    for code in GATE_CODES {
        let detail = match code {
            "status_blacklisted" if f.status == SupplierStatus::Blacklisted => {
                Some(format!("blacklisted: {}", f.status_reason))
            }
            "status_suspended" if f.status == SupplierStatus::Suspended => {
                Some(format!("suspended: {}", f.status_reason))
            }
            "status_conditional" if f.status == SupplierStatus::Conditional => {
                Some(format!("conditional: {}", f.status_reason))
            }
            "tier_at_risk" if f.tier.as_deref() == Some("AT_RISK") => {
                Some("tier is AT_RISK".to_owned())
            }
            "credit_class_d" => match f.credit {
                Some((score, "D")) => Some(format!("credit {score} is class D")),
                _ => None,
            },
            "critical_alert_open" if !f.critical_open.is_empty() => Some(format!(
                "CRITICAL alert open on {}",
                f.critical_open.join(", ")
            )),
            "plan_failed" if !f.failed_plans.is_empty() => {
                let plans: Vec<String> = f
                    .failed_plans
                    .iter()
                    .map(|(id, ind, r)| format!("{id} ({ind}, reviewed {r})"))
                    .collect();
                Some(format!("plan FAILED: {}", plans.join(", ")))
            }
            "not_evaluated" if !f.seen => Some("Tierline has no events of this supplier".into()),
            _ => None,
        };
        let Some(detail) = detail else { continue };
        let decision = policy.decision(code, action);
        if decision != GateDecision::Allow {
            reasons.push((code, detail, decision));
        }
    }
    let decision = reasons
        .iter()
        .map(|(_, _, d)| *d)
        .max()
        .unwrap_or(GateDecision::Allow);
    GateAnswer { decision, reasons }
}

/// The rules with a CRITICAL episode open on `day` (withdrawn ones excluded), sorted,
/// each once: the gate's `critical_alert_open`.
pub fn critical_open(episodes: &[EpisodeFact<'_>], day: Date) -> Vec<String> {
    let mut rules: Vec<String> = episodes
        .iter()
        .filter(|e| !e.withdrawn && e.level == Level::Critical && e.started_on <= day)
        .filter(|e| e.ended_on.is_none_or(|end| end > day))
        .map(|e| e.rule.to_owned())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    rules
}

/// The plans (id, indicator, review date) FAILED with their review date in the last
/// `days` days up to `day`: the gate's `plan_failed`.
pub fn failed_plans(
    reviews: &[(&str, &str, Review)],
    day: Date,
    days: u32,
) -> Vec<(String, String, String)> {
    reviews
        .iter()
        .filter(|(_, _, r)| r.outcome == PlanOutcome::Failed)
        .filter(|(_, _, r)| r.date.0 > day.0 - days as i32 && r.date <= day)
        .map(|(id, ind, r)| ((*id).to_owned(), (*ind).to_owned(), r.date.to_string()))
        .collect()
}
