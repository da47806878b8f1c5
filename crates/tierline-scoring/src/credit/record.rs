//! A supplier's credit record: every delta with its cause, from its episodes, its plans'
//! reviews and its violations (docs/scoring.md "Plans, status and credit"). Pure; the
//! API lists it, the projector keeps today's score.

use tierline_events::{Date, PlanOutcome, ViolationSeverity};
use uuid::Uuid;

use super::{credit_on, episode_delta, plan_delta, violation_delta};
use crate::actions::Review;
use crate::policy::Policy;
use crate::walk::Level;

/// What gives a delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditCause {
    /// An alert episode.
    Episode,
    /// A plan's review.
    Plan,
    /// A compliance violation.
    Violation,
}

impl CreditCause {
    /// `episode`, `plan` or `violation`.
    pub fn name(self) -> &'static str {
        match self {
            CreditCause::Episode => "episode",
            CreditCause::Plan => "plan",
            CreditCause::Violation => "violation",
        }
    }
}

/// One delta of the record.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditDelta {
    /// The day it counts on.
    pub date: Date,
    /// The delta.
    pub delta: f64,
    /// What gives it.
    pub cause: CreditCause,
    /// The cause's id (alert id, plan id, violation id).
    pub reference: String,
    /// What it was, for people.
    pub detail: String,
    /// Its cause no longer gives a delta (a retracted episode, a void violation).
    pub withdrawn: bool,
}

/// An alert episode as the credit record reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeFact<'a> {
    /// Its id.
    pub alert_id: Uuid,
    /// The rule.
    pub rule: &'a str,
    /// WARNING or CRITICAL.
    pub level: Level,
    /// Its first day.
    pub started_on: Date,
    /// The day it ended, if it did.
    pub ended_on: Option<Date>,
    /// Erased by a late event after it was announced.
    pub withdrawn: bool,
}

/// A violation as the credit record reads it: its latest severity, dated by its
/// earliest record.
#[derive(Debug, Clone, PartialEq)]
pub struct ViolationFact {
    /// Its id.
    pub violation_id: String,
    /// The date of its earliest record.
    pub date: Date,
    /// Its latest severity.
    pub severity: ViolationSeverity,
    /// What it breached (for the detail).
    pub regulation: String,
    /// Retracted.
    pub void: bool,
}

/// Every delta, sorted by (date, reference): each episode of a `[credit]` rule, each
/// review (VERIFIED +5, FAILED -10, UNVERIFIABLE 0), each violation of known severity.
pub fn credit_record(
    policy: &Policy,
    episodes: &[EpisodeFact<'_>],
    reviews: &[(&str, &str, Review)],
    violations: &[ViolationFact],
) -> Vec<CreditDelta> {
    let mut out = Vec::new();
    let credit_rule = |r: &str| policy.credit.rules.iter().any(|c| c == r);
    for e in episodes.iter().filter(|e| credit_rule(e.rule)) {
        // A WARNING episode of the same rule open on the start (one starting the same
        // day counts).
        let warning_open = episodes.iter().filter(|w| !w.withdrawn).any(|w| {
            w.rule == e.rule
                && w.level == Level::Warning
                && w.started_on <= e.started_on
                && w.ended_on.is_none_or(|end| end > e.started_on)
        });
        out.push(CreditDelta {
            date: e.started_on,
            delta: episode_delta(e.level, warning_open),
            cause: CreditCause::Episode,
            reference: e.alert_id.to_string(),
            detail: format!("{} {} from {}", e.rule, e.level.name(), e.started_on),
            withdrawn: e.withdrawn,
        });
    }
    for (plan_id, indicator, r) in reviews {
        let outcome = match r.outcome {
            PlanOutcome::Verified => "VERIFIED",
            PlanOutcome::Failed => "FAILED",
            _ => "UNVERIFIABLE",
        };
        out.push(CreditDelta {
            date: r.date,
            delta: plan_delta(r.outcome),
            cause: CreditCause::Plan,
            reference: (*plan_id).to_owned(),
            detail: format!("{indicator} {outcome} on {}", r.date),
            withdrawn: false,
        });
    }
    for v in violations {
        let Some(delta) = violation_delta(v.severity) else {
            continue;
        };
        out.push(CreditDelta {
            date: v.date,
            delta,
            cause: CreditCause::Violation,
            reference: v.violation_id.clone(),
            detail: format!("{} {}", v.severity.symbol(), v.regulation),
            withdrawn: v.void,
        });
    }
    out.sort_by(|a, b| (a.date, &a.reference).cmp(&(b.date, &b.reference)));
    out
}

/// The credit on `day` from a record: its deltas not withdrawn.
pub fn credit_score(record: &[CreditDelta], day: Date) -> f64 {
    let counted: Vec<(Date, f64)> = record
        .iter()
        .filter(|d| !d.withdrawn)
        .map(|d| (d.date, d.delta))
        .collect();
    credit_on(&counted, day)
}
