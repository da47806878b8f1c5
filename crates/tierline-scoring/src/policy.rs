//! The scoring policy: every threshold, weight, target, tier bound, margin and alert
//! rule of docs/scoring.md, with a `version`. A TOML file can replace the defaults; a bad
//! file is rejected with a message naming the key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tierline_events::{Date, Timestamp};

use crate::indicator::{Dimension, Indicator};
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
    /// Dimension weights.
    pub dimensions: BTreeMap<Dimension, f64>,
    /// Indicator parameters (every scored indicator).
    pub indicators: BTreeMap<Indicator, IndicatorPolicy>,
    /// Alert rules.
    pub alerts: Vec<AlertRule>,
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
    /// The defaults of docs/scoring.md.
    fn default() -> Self {
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
        }
    }
}

impl Policy {
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

    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.version.trim().is_empty() {
            return Err(invalid("version", "must not be empty"));
        }
        if self.grace_days < 0 {
            return Err(invalid("grace_days", "must be >= 0"));
        }
        if !(0.0..1.0).contains(&self.in_full_tolerance) {
            return Err(invalid("in_full_tolerance", "must be in [0, 1)"));
        }
        if !(self.min_coverage.is_finite() && (0.0..=1.0).contains(&self.min_coverage)) {
            return Err(invalid("min_coverage", "must be in [0, 1]"));
        }
        if self.tier_window_days == 0 || self.tier_window_days > 3660 {
            return Err(invalid("tier_window_days", "must be 1..=3660"));
        }
        if !(self.tier_margin.is_finite() && self.tier_margin >= 0.0) {
            return Err(invalid("tier_margin", "must be >= 0"));
        }
        for tier in Tier::RATED {
            let Some(bound) = self.tiers.get(&tier) else {
                return Err(invalid(format!("tiers.{}", tier.name()), "missing"));
            };
            if !bound.is_finite() {
                return Err(invalid(
                    format!("tiers.{}", tier.name()),
                    "must be a finite number",
                ));
            }
        }
        if self.tiers.contains_key(&Tier::Unrated) {
            return Err(invalid("tiers.UNRATED", "UNRATED has no bound"));
        }
        for pair in Tier::RATED.windows(2) {
            if self.tiers[&pair[0]] <= self.tiers[&pair[1]] {
                return Err(invalid(
                    format!("tiers.{}", pair[0].name()),
                    format!("must be above tiers.{}", pair[1].name()),
                ));
            }
        }
        for d in Dimension::ALL {
            match self.dimensions.get(&d) {
                Some(w) if w.is_finite() && *w >= 0.0 => {}
                Some(_) => {
                    return Err(invalid(
                        format!("dimensions.{}", d.name()),
                        "must be a number >= 0",
                    ));
                }
                None => return Err(invalid(format!("dimensions.{}", d.name()), "missing")),
            }
        }
        if self.dimensions.values().all(|w| *w == 0.0) {
            return Err(invalid(
                "dimensions",
                "at least one weight must be > 0 (with every weight 0 no supplier is ever rated)",
            ));
        }
        for &i in Indicator::SCORED {
            let key = format!("indicators.{}", i.name());
            let Some(p) = self.indicators.get(&i) else {
                return Err(invalid(key, "missing"));
            };
            if !(p.worst.is_finite() && p.target.is_finite()) || p.worst == p.target {
                return Err(invalid(key, "worst and target must be finite and differ"));
            }
            if !(p.weight.is_finite() && p.weight >= 0.0) {
                return Err(invalid(format!("{key}.weight"), "must be >= 0"));
            }
        }
        if self.indicators.contains_key(&Indicator::CriticalDefects) {
            return Err(invalid(
                "indicators.critical_defects",
                "is monitored, not scored: it takes no worst/target/weight",
            ));
        }
        for (n, a) in self.alerts.iter().enumerate() {
            let key = format!("alerts[{n}]");
            if Indicator::from_name(&a.rule).is_none() {
                return Err(invalid(
                    format!("{key}.rule"),
                    format!("`{}` is not an indicator", a.rule),
                ));
            }
            if a.window_days == 0 || a.window_days > 3660 {
                return Err(invalid(format!("{key}.window_days"), "must be 1..=3660"));
            }
            if ![a.warning, a.critical, a.margin]
                .iter()
                .all(|x| x.is_finite())
                || a.margin < 0.0
            {
                return Err(invalid(
                    key,
                    "thresholds must be finite and the margin >= 0",
                ));
            }
            // The critical level is the more severe one: swapped thresholds would raise
            // CRITICAL before WARNING.
            let swapped = match a.direction {
                Direction::Below => a.critical > a.warning,
                Direction::Above => a.critical < a.warning,
            };
            if swapped {
                let side = match a.direction {
                    Direction::Below => "at or below",
                    Direction::Above => "at or above",
                };
                return Err(invalid(
                    format!("{key}.critical"),
                    format!(
                        "must be {side} the warning threshold ({}) for a rule on `{}`",
                        a.warning, a.rule
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The parameters of a scored indicator.
    pub fn indicator(&self, i: Indicator) -> Option<&IndicatorPolicy> {
        self.indicators.get(&i)
    }

    /// The bound of a rated tier.
    pub fn bound(&self, t: Tier) -> f64 {
        self.tiers.get(&t).copied().unwrap_or(f64::NEG_INFINITY)
    }
}
