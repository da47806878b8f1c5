//! The credit record (docs/scoring.md "Plans, status and credit"): deltas from alert episodes,
//! plan outcomes and violations, and the credit on a day. Pure.

use tierline_events::{Date, PlanOutcome, ViolationSeverity};

use crate::exact::ExactSum;
use crate::walk::Level;

mod record;
pub use record::{
    CreditCause, CreditDelta, EpisodeFact, ViolationFact, credit_record, credit_score,
};

/// An episode's delta: WARNING -3; CRITICAL -10, or -7 when a WARNING episode of the
/// same rule is open on its start (a breach costs -10 in all).
pub fn episode_delta(level: Level, warning_open: bool) -> f64 {
    match (level, warning_open) {
        (Level::Warning, _) => -3.0,
        (Level::Critical, true) => -7.0,
        (Level::Critical, false) => -10.0,
    }
}

/// A plan outcome's delta: VERIFIED +5, FAILED -10, anything else 0.
pub fn plan_delta(outcome: PlanOutcome) -> f64 {
    match outcome {
        PlanOutcome::Verified => 5.0,
        PlanOutcome::Failed => -10.0,
        _ => 0.0,
    }
}

/// A violation's delta: MINOR -2, MAJOR -5, CRITICAL -20; `None` for UNKNOWN (no delta).
pub fn violation_delta(severity: ViolationSeverity) -> Option<f64> {
    match severity {
        ViolationSeverity::Minor => Some(-2.0),
        ViolationSeverity::Major => Some(-5.0),
        ViolationSeverity::Critical => Some(-20.0),
        ViolationSeverity::Unknown => None,
    }
}

/// Credit on `day`: clamp(100 + the exact sum of the deltas dated in day-364 ..= day,
/// 0, 100).
pub fn credit_on(deltas: &[(Date, f64)], day: Date) -> f64 {
    let mut sum = ExactSum::of(100.0);
    for (d, x) in deltas {
        if d.0 > day.0 - 365 && *d <= day {
            sum.add(*x);
        }
    }
    sum.value().clamp(0.0, 100.0)
}

/// The class of a credit: A >= 90, B >= 75, C >= 60, else D.
pub fn credit_class(score: f64) -> &'static str {
    if score >= 90.0 {
        "A"
    } else if score >= 75.0 {
        "B"
    } else if score >= 60.0 {
        "C"
    } else {
        "D"
    }
}
