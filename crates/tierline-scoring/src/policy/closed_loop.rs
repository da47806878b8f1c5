//! The closed loop's policy sections (docs/scoring.md "Plans, status and credit"):
//! `[rectification]` (automatic plans), `[credit]` (rules whose episodes cost credit)
//! and `[gate]` (each rule's decision per action).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{PolicyError, invalid};
use crate::indicator::Indicator;

/// The rules of the five v1 alerts whose CRITICAL episodes imply a plan by default.
const PLAN_RULES: [&str; 5] = [
    "otif_rate",
    "defect_ppm",
    "lot_acceptance_rate",
    "return_rate_ppm",
    "critical_defects",
];

/// `[rectification]`: plans derived from CRITICAL episodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rectification {
    /// Whether CRITICAL episodes imply plans.
    pub auto_open: bool,
    /// The alert rules whose CRITICAL episodes imply a plan.
    pub rules: Vec<String>,
    /// Days from the episode's start to the plan's due date.
    pub due_days: u32,
    /// Per-rule `due_days` (rules left out use `due_days`).
    pub due_days_by_rule: BTreeMap<String, u32>,
}

impl Default for Rectification {
    fn default() -> Self {
        Rectification {
            auto_open: true,
            rules: PLAN_RULES.iter().map(|r| (*r).to_owned()).collect(),
            due_days: 60,
            due_days_by_rule: BTreeMap::new(),
        }
    }
}

impl Rectification {
    /// Whether a CRITICAL episode of `rule` implies a plan.
    pub fn derives(&self, rule: &str) -> bool {
        self.auto_open && self.rules.iter().any(|r| r == rule)
    }

    /// Days from an episode of `rule` to its plan's due date.
    pub fn due_days_of(&self, rule: &str) -> u32 {
        self.due_days_by_rule
            .get(rule)
            .copied()
            .unwrap_or(self.due_days)
    }
}

/// `[credit]`: which rules' episodes cost credit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CreditPolicy {
    /// Alert rules whose episodes carry a delta.
    pub rules: Vec<String>,
}

impl Default for CreditPolicy {
    fn default() -> Self {
        let rules = PLAN_RULES.iter().chain(&["certificate_coverage"]);
        CreditPolicy {
            rules: rules.map(|r| (*r).to_owned()).collect(),
        }
    }
}

/// What the gate answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum GateDecision {
    /// Go ahead.
    Allow,
    /// Go ahead, with the reasons shown to the buyer.
    Warn,
    /// Do not use this supplier for the action.
    Block,
}

impl GateDecision {
    /// `ALLOW`, `WARN` or `BLOCK`.
    pub fn name(self) -> &'static str {
        match self {
            GateDecision::Allow => "ALLOW",
            GateDecision::Warn => "WARN",
            GateDecision::Block => "BLOCK",
        }
    }
}

/// The action the gate is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateAction {
    /// Placing a purchase order.
    Po,
    /// Inviting to a request for quotation.
    Rfq,
}

impl GateAction {
    /// `po` or `rfq`.
    pub fn from_name(s: &str) -> Option<GateAction> {
        match s {
            "po" => Some(GateAction::Po),
            "rfq" => Some(GateAction::Rfq),
            _ => None,
        }
    }
}

/// One gate rule's decision per action.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRule {
    /// For a purchase order.
    pub po: GateDecision,
    /// For a request for quotation.
    pub rfq: GateDecision,
}

impl GateRule {
    const fn both(d: GateDecision) -> GateRule {
        GateRule { po: d, rfq: d }
    }

    /// The decision for `action`.
    pub fn decision(&self, action: GateAction) -> GateDecision {
        match action {
            GateAction::Po => self.po,
            GateAction::Rfq => self.rfq,
        }
    }
}

/// The gate's reasons, in the order the gate lists them.
pub const GATE_CODES: [&str; 8] = [
    "status_blacklisted",
    "status_suspended",
    "status_conditional",
    "tier_at_risk",
    "credit_class_d",
    "critical_alert_open",
    "plan_failed",
    "not_evaluated",
];

/// `[gate]`: each reason's decision per action (`ALLOW` for both turns a rule off), and
/// how far back a FAILED plan counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatePolicy {
    /// Reason code -> decision per action (every code of [`GATE_CODES`]).
    pub rules: BTreeMap<String, GateRule>,
    /// A FAILED plan with its review date in the last this many days counts.
    pub plan_failed_days: u32,
}

/// The default decisions (docs/api.md "The gate"): blacklisted blocks both, suspended blocks
/// purchase orders and warns on RFQs, every other reason warns.
fn default_rule(code: &str) -> GateRule {
    use GateDecision::{Block, Warn};
    match code {
        "status_blacklisted" => GateRule::both(Block),
        "status_suspended" => GateRule {
            po: Block,
            rfq: Warn,
        },
        _ => GateRule::both(Warn),
    }
}

impl Default for GatePolicy {
    fn default() -> Self {
        let rules = GATE_CODES
            .iter()
            .map(|code| ((*code).to_owned(), default_rule(code)));
        GatePolicy {
            rules: rules.collect(),
            plan_failed_days: 90,
        }
    }
}

impl GatePolicy {
    /// The decision of reason `code` for `action`; a code the policy file leaves out
    /// keeps its default.
    pub fn decision(&self, code: &str, action: GateAction) -> GateDecision {
        self.rules
            .get(code)
            .copied()
            .unwrap_or_else(|| default_rule(code))
            .decision(action)
    }
}

/// Checks the three sections (rules are names of indicators; one the policy has no
/// alert rule for simply has no episodes).
pub(super) fn validate(
    rect: &Rectification,
    credit: &CreditPolicy,
    gate: &GatePolicy,
) -> Result<(), PolicyError> {
    let known = |r: &str| Indicator::from_name(r).is_some();
    if let Some(r) = rect.rules.iter().find(|r| !known(r)) {
        return Err(invalid(
            "rectification.rules",
            format!("`{r}` is not an indicator name"),
        ));
    }
    if rect.due_days == 0 || rect.due_days > 3660 {
        return Err(invalid("rectification.due_days", "must be 1..=3660"));
    }
    for (r, d) in &rect.due_days_by_rule {
        if !rect.rules.contains(r) {
            return Err(invalid(
                format!("rectification.due_days_by_rule.{r}"),
                "not one of rectification.rules",
            ));
        }
        if *d == 0 || *d > 3660 {
            return Err(invalid(
                format!("rectification.due_days_by_rule.{r}"),
                "must be 1..=3660",
            ));
        }
    }
    if let Some(r) = credit.rules.iter().find(|r| !known(r)) {
        return Err(invalid(
            "credit.rules",
            format!("`{r}` is not an indicator name"),
        ));
    }
    if let Some(code) = gate
        .rules
        .keys()
        .find(|c| !GATE_CODES.contains(&c.as_str()))
    {
        return Err(invalid(
            format!("gate.rules.{code}"),
            format!("unknown reason; one of {}", GATE_CODES.join(", ")),
        ));
    }
    if gate.plan_failed_days == 0 || gate.plan_failed_days > 3660 {
        return Err(invalid("gate.plan_failed_days", "must be 1..=3660"));
    }
    Ok(())
}
