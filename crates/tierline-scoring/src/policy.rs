//! The scoring policy: every threshold, weight, target, tier bound, margin and alert
//! rule of docs/scoring.md, with a `version`. A TOML file can replace the defaults; a bad
//! file is rejected with a message naming the key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod closed_loop;
mod validate;
pub use closed_loop::{
    CreditPolicy, GATE_CODES, GateAction, GateDecision, GatePolicy, GateRule, Rectification,
};
use tierline_events::{AssessmentKind, Date, Timestamp, ViolationSeverity};

use crate::indicator::{Criterion, Dimension, Indicator};
use crate::tier::Tier;

/// Which way an alert rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Fires when the value drops below the threshold.
    Below,
    /// Fires when the value rises above the threshold.
    Above,
}

/// Per-indicator scoring parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorPolicy {
    /// The value that scores 0.
    pub worst: f64,
    /// The value that scores 100.
    pub target: f64,
    /// Weight within its dimension.
    pub weight: f64,
}

/// An alert rule on one indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Indicator name, e.g. `otif_rate`; also the rule's name.
    pub rule: String,
    /// Window in days.
    #[serde(default = "default_alert_window")]
    pub window_days: u32,
    /// Which way it fires.
    pub direction: Direction,
    /// WARNING threshold.
    pub warning: f64,
    /// CRITICAL threshold.
    pub critical: f64,
    /// How far past the threshold the value must come back to close.
    pub margin: f64,
}

fn default_alert_window() -> u32 {
    30
}

/// An assessment criterion the policy scores (docs/scoring.md "Assessments, compliance and external risk").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionPolicy {
    /// `[a-z0-9_]`, 1..64; not the name of any indicator of the specs.
    pub name: String,
    /// Weight within the `capability` dimension.
    pub weight: f64,
    /// The value (0..1 of the assessment's scale) that scores 0.
    pub worst: f64,
    /// The value that scores 100.
    pub target: f64,
    /// Days an assessment without `valid_until` counts, from its date.
    pub validity_days: u32,
}

/// How assessments of different kinds rank (`[assessments]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentPolicy {
    /// Kinds in order of precedence, highest first; a kind not listed is never used.
    pub precedence: Vec<AssessmentKind>,
}

impl Default for AssessmentPolicy {
    fn default() -> Self {
        AssessmentPolicy {
            precedence: vec![
                AssessmentKind::OnsiteAudit,
                AssessmentKind::BuyerReview,
                AssessmentKind::Questionnaire,
            ],
        }
    }
}

/// Points per violation severity (`[violation_points]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViolationPoints {
    /// A MINOR violation.
    #[serde(rename = "MINOR")]
    pub minor: f64,
    /// A MAJOR violation.
    #[serde(rename = "MAJOR")]
    pub major: f64,
    /// A CRITICAL violation.
    #[serde(rename = "CRITICAL")]
    pub critical: f64,
}

impl Default for ViolationPoints {
    fn default() -> Self {
        ViolationPoints {
            minor: 1.0,
            major: 3.0,
            critical: 10.0,
        }
    }
}

impl ViolationPoints {
    /// The points of a severity (`UNKNOWN`: 0).
    pub fn of(&self, s: ViolationSeverity) -> f64 {
        match s {
            ViolationSeverity::Minor => self.minor,
            ViolationSeverity::Major => self.major,
            ViolationSeverity::Critical => self.critical,
            ViolationSeverity::Unknown => 0.0,
        }
    }
}

fn default_criteria() -> Vec<CriterionPolicy> {
    let c = |name: &str, weight| CriterionPolicy {
        name: name.into(),
        weight,
        worst: 0.4,
        target: 0.9,
        validity_days: 365,
    };
    vec![
        c("rnd_strength", 0.25),
        c("cooperation", 0.25),
        c("risk_resilience", 0.20),
        c("technical_support", 0.20),
        c("regional_advantage", 0.10),
    ]
}

fn default_compliance_window() -> u32 {
    365
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Shown next to every score and published with every alert.
    pub version: String,
    /// Days of grace after the due date.
    pub grace_days: i32,
    /// A line is in full when received >= ordered x (1 - tolerance).
    pub in_full_tolerance: f64,
    /// Fewer samples than this make an indicator insufficient.
    pub min_samples: u64,
    /// Least coverage (sum of the weights of sufficient dimensions) for a composite.
    pub min_coverage: f64,
    /// The window the tier is computed on.
    pub tier_window_days: u32,
    /// How far past a tier bound a score must go to move.
    pub tier_margin: f64,
    /// Lower bound of each rated tier.
    pub tiers: BTreeMap<Tier, f64>,
    /// Dimension weights (`capability` and `compliance` may be left out: weight 0).
    pub dimensions: BTreeMap<Dimension, f64>,
    /// Indicator parameters (every scored indicator of v1).
    pub indicators: BTreeMap<Indicator, IndicatorPolicy>,
    /// Assessment criteria scored in `capability` (left out: the five defaults).
    #[serde(default = "default_criteria")]
    pub criteria: Vec<CriterionPolicy>,
    /// How assessment kinds rank.
    #[serde(default)]
    pub assessments: AssessmentPolicy,
    /// Standards every supplier must hold (empty: compliance scoring off).
    #[serde(default)]
    pub required_certificates: Vec<String>,
    /// Days of violations `violation_points` counts.
    #[serde(default = "default_compliance_window")]
    pub compliance_window_days: u32,
    /// Points per violation severity.
    #[serde(default)]
    pub violation_points: ViolationPoints,
    /// Alert rules.
    pub alerts: Vec<AlertRule>,
    /// Plans derived from CRITICAL episodes.
    #[serde(default)]
    pub rectification: Rectification,
    /// Which rules' episodes cost credit.
    #[serde(default)]
    pub credit: CreditPolicy,
    /// The order gate's decisions.
    #[serde(default)]
    pub gate: GatePolicy,
    /// Units of measure whose quantities `defect_ppm`, `return_rate_ppm` and
    /// `avg_days_late` sum (docs/scoring.md "Corrections"): a receipt or inspection
    /// whose line is known counts only when the line's `unit_of_measure` is listed
    /// (exactly); one without a known line always counts. `None`: every unit.
    #[serde(default)]
    pub countable_units: Option<Vec<String>>,
}

/// A policy file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, an unknown key, or a value of the wrong type (the message names it).
    #[error("policy file: {0}")]
    Parse(String),
    /// A value is out of range.
    #[error("policy key `{key}`: {problem}")]
    Invalid {
        /// The key, e.g. `indicators.otif_rate.weight`.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

impl Default for Policy {
    /// The v2 default policy (docs/scoring.md "Assessments, compliance and external risk (v2)").
    fn default() -> Self {
        let mut p = Policy::v1();
        p.version = "scoring-v2-default".into();
        p.dimensions = BTreeMap::from([
            (Dimension::Delivery, 0.30),
            (Dimension::Quality, 0.30),
            (Dimension::Service, 0.10),
            (Dimension::Cost, 0.10),
            (Dimension::Responsiveness, 0.05),
            (Dimension::Capability, 0.10),
            (Dimension::Compliance, 0.05),
        ]);
        let rule = |rule: &str, window_days, direction, warning, critical, margin| AlertRule {
            rule: rule.into(),
            window_days,
            direction,
            warning,
            critical,
            margin,
        };
        p.alerts.extend([
            rule("certificate_coverage", 30, Direction::Below, 1.0, 0.5, 0.0),
            rule("violation_points", 365, Direction::Above, 2.0, 9.0, 0.0),
            rule("external_risk", 30, Direction::Above, 50.0, 80.0, 5.0),
            rule("late_promise_rate", 30, Direction::Above, 0.2, 0.5, 0.05),
        ]);
        p
    }
}

impl Policy {
    /// The v1 default policy of docs/scoring.md (five dimensions, five alert rules),
    /// with the v2 parts at their defaults (capability and compliance weigh 0).
    pub fn v1() -> Self {
        let ind = |worst, target, weight| IndicatorPolicy {
            worst,
            target,
            weight,
        };
        let indicators = BTreeMap::from([
            (Indicator::OtifRate, ind(0.80, 0.98, 0.7)),
            (Indicator::AvgDaysLate, ind(10.0, 0.0, 0.3)),
            (Indicator::DefectPpm, ind(10000.0, 500.0, 0.6)),
            (Indicator::LotAcceptanceRate, ind(0.90, 1.0, 0.4)),
            (Indicator::ReturnRatePpm, ind(20000.0, 1000.0, 0.6)),
            (Indicator::CaseResolutionDays, ind(30.0, 3.0, 0.4)),
            (Indicator::PriceVariancePct, ind(10.0, -2.0, 1.0)),
            (Indicator::ConfirmationHours, ind(72.0, 4.0, 0.6)),
            (Indicator::SupplierCancellationRate, ind(0.10, 0.0, 0.4)),
        ]);
        let rule = |rule: &str, direction, warning, critical, margin| AlertRule {
            rule: rule.into(),
            window_days: 30,
            direction,
            warning,
            critical,
            margin,
        };
        Policy {
            version: "scoring-v1-default".into(),
            grace_days: 0,
            in_full_tolerance: 0.02,
            min_samples: 5,
            min_coverage: 0.5,
            tier_window_days: 90,
            tier_margin: 2.5,
            tiers: BTreeMap::from([
                (Tier::Strategic, 85.0),
                (Tier::Key, 65.0),
                (Tier::Reserve, 40.0),
                (Tier::AtRisk, 0.0),
            ]),
            dimensions: BTreeMap::from([
                (Dimension::Delivery, 0.35),
                (Dimension::Quality, 0.35),
                (Dimension::Service, 0.15),
                (Dimension::Cost, 0.10),
                (Dimension::Responsiveness, 0.05),
            ]),
            indicators,
            criteria: default_criteria(),
            assessments: AssessmentPolicy::default(),
            required_certificates: Vec::new(),
            compliance_window_days: default_compliance_window(),
            violation_points: ViolationPoints::default(),
            alerts: vec![
                rule("otif_rate", Direction::Below, 0.90, 0.80, 0.02),
                rule("defect_ppm", Direction::Above, 5000.0, 10000.0, 500.0),
                rule("lot_acceptance_rate", Direction::Below, 0.95, 0.90, 0.01),
                rule(
                    "return_rate_ppm",
                    Direction::Above,
                    10000.0,
                    20000.0,
                    1000.0,
                ),
                rule("critical_defects", Direction::Above, 0.0, 2.0, 0.0),
            ],
            rectification: Rectification::default(),
            credit: CreditPolicy::default(),
            gate: GatePolicy::default(),
            countable_units: None,
        }
    }
}

impl Policy {
    /// Whether quantities in `unit` count (see `countable_units`).
    pub fn counts_unit(&self, unit: &str) -> bool {
        self.countable_units
            .as_ref()
            .is_none_or(|units| units.iter().any(|u| u == unit))
    }

    /// The day an instant falls on: every date of every walk goes through here. The
    /// calendar date in the policy's time zone, which is UTC until policies name one:
    /// floor(ms / 86,400,000) days after 1970-01-01, also before 1970.
    pub fn day_of(&self, t: Timestamp) -> Date {
        let days = t.0.div_euclid(86_400_000);
        Date(i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX }))
    }

    /// Parses and checks a policy file.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// The policy as TOML (the shipped default file is this of [`Policy::default`]).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Whether the policy defines an indicator of this name: every fixed indicator of
    /// the specs and the policy's own criteria.
    pub fn defines(&self, name: &str) -> bool {
        Indicator::fixed(name).is_some() || self.criteria.iter().any(|c| c.name == name)
    }

    /// Every indicator under this policy, in the order of the specs: the nine scored,
    /// `critical_defects`, the criteria (policy order), then `certificate_coverage`,
    /// `violation_points`, `external_risk`, `late_promise_rate`, `promise_slip_days`.
    pub fn indicators_all(&self) -> Vec<Indicator> {
        let criteria = self
            .criteria
            .iter()
            .filter_map(|c| Criterion::new(&c.name).map(Indicator::Criterion));
        Indicator::V1
            .iter()
            .copied()
            .chain(criteria)
            .chain(Indicator::FIXED[10..].iter().copied())
            .collect()
    }

    /// The parameters of a scored indicator (`None` for monitored ones and criteria
    /// the policy does not list). `certificate_coverage`: worst 0, target 1, weight 1.
    pub fn indicator(&self, i: Indicator) -> Option<IndicatorPolicy> {
        match i {
            Indicator::Criterion(c) => {
                self.criteria
                    .iter()
                    .find(|p| p.name == c.name())
                    .map(|p| IndicatorPolicy {
                        worst: p.worst,
                        target: p.target,
                        weight: p.weight,
                    })
            }
            Indicator::CertificateCoverage => Some(IndicatorPolicy {
                worst: 0.0,
                target: 1.0,
                weight: 1.0,
            }),
            other => self.indicators.get(&other).copied(),
        }
    }

    /// The weight of a dimension (0 when the policy leaves it out).
    pub fn dimension_weight(&self, d: Dimension) -> f64 {
        self.dimensions.get(&d).copied().unwrap_or(0.0)
    }

    /// The bound of a rated tier.
    pub fn bound(&self, t: Tier) -> f64 {
        self.tiers.get(&t).copied().unwrap_or(f64::NEG_INFINITY)
    }
}
