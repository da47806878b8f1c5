//! Tierline's scoring engine (`docs/scoring.md`): pure and deterministic. No
//! I/O, no clock, no randomness; the evaluation date is an argument.
//!
//! A [`SupplierLedger`] takes a supplier's stored events one at a time, in any order,
//! with any duplicates, and keeps daily buckets of every indicator's numerator,
//! denominator and samples. From them: [`Scorecard`]s over 30/90/365-day windows,
//! the tier walk with hysteresis, and alert episodes with deterministic ids.

mod actions;
mod credit;
mod entity;
mod exact;
mod gate;
mod indicator;
mod leading;
mod ledger;
mod plan;
mod policy;
mod profile;
mod proposals;
mod score;
mod status;
mod tier;
mod walk;
mod window;
pub use window::{persists, window_of, window_start};

pub use actions::{
    CriticalEpisode, Review, SupplierActions, derive_plans, derived_plan_id, review_by,
};
pub use credit::{
    CreditCause, CreditDelta, EpisodeFact, ViolationFact, credit_class, credit_on, credit_record,
    credit_score, episode_delta, plan_delta, violation_delta,
};
pub use entity::EventKey;
pub use exact::{ExactSum, fsum};
pub use gate::{GateAnswer, GateFacts, critical_open, failed_plans, gate};
pub use indicator::{Criterion, Dimension, Indicator, Kind};
pub use ledger::{Agg, ObjectRef, ObjectTerm, RECONCILED, SupplierLedger};
pub use plan::{Key as OrderingKey, Plan, PlanFields, PlanRecords, PlanState};
pub use policy::{
    AlertRule, AssessmentPolicy, CreditPolicy, CriterionPolicy, Direction, GATE_CODES, GateAction,
    GateDecision, GatePolicy, GateRule, IndicatorPolicy, Policy, PolicyError, Rectification,
    ViolationPoints,
};
pub use profile::{Assessment, criterion_sources, standard_key};
pub use proposals::{AT_RISK_60, FAILED_PLANS_2, proposals};
pub use score::{IndicatorValue, Scorecard, combine, indicator_value, scorecard_from_sums};
pub use status::{Decision, StatusLine, StatusOn};
pub use tier::Tier;
pub use walk::{Episode, ID_NAMESPACE, Level, TierDay, Walks, alert_id, tier_change_id};

/// The windows scorecards are kept for.
pub const WINDOWS: [u32; 3] = [30, 90, 365];
