//! Checking a policy's values: every error names the key at fault.

use tierline_events::AssessmentKind;

use super::{Direction, Policy, PolicyError, closed_loop, invalid};
use crate::indicator::{Criterion, Dimension, Indicator};
use crate::tier::Tier;

impl Policy {
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
                None if d.is_v2() => {}
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
        if let Some(i) = self
            .indicators
            .keys()
            .find(|i| !Indicator::SCORED.contains(i))
        {
            return Err(invalid(
                format!("indicators.{}", i.name()),
                "only the nine scored indicators of v1 take worst/target/weight here (criteria go in [[criteria]]; the others are monitored or fixed)",
            ));
        }
        self.validate_v2()?;
        for (n, a) in self.alerts.iter().enumerate() {
            let key = format!("alerts[{n}]");
            if !self.defines(&a.rule) {
                return Err(invalid(
                    format!("{key}.rule"),
                    format!(
                        "`{}` is not an indicator of the specs nor a criterion of this policy",
                        a.rule
                    ),
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

    /// Checks the v2 keys: criteria, precedence, certificates, compliance window, points.
    fn validate_v2(&self) -> Result<(), PolicyError> {
        for (n, c) in self.criteria.iter().enumerate() {
            let key = format!("criteria[{n}]");
            if Criterion::new(&c.name).is_none() {
                return Err(invalid(format!("{key}.name"), "must be 1..64 of [a-z0-9_]"));
            }
            if Indicator::fixed(&c.name).is_some() {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("`{}` is an indicator of the specs", c.name),
                ));
            }
            if self.criteria[..n].iter().any(|o| o.name == c.name) {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("`{}` is listed twice", c.name),
                ));
            }
            if !(c.worst.is_finite() && c.target.is_finite()) || c.worst == c.target {
                return Err(invalid(key, "worst and target must be finite and differ"));
            }
            if !(c.weight.is_finite() && c.weight >= 0.0) {
                return Err(invalid(format!("{key}.weight"), "must be >= 0"));
            }
            if c.validity_days == 0 || c.validity_days > 36_600 {
                return Err(invalid(format!("{key}.validity_days"), "must be 1..=36600"));
            }
        }
        if self
            .assessments
            .precedence
            .contains(&AssessmentKind::Unknown)
        {
            return Err(invalid("assessments.precedence", "UNKNOWN is never used"));
        }
        for (n, k) in self.assessments.precedence.iter().enumerate() {
            if self.assessments.precedence[..n].contains(k) {
                return Err(invalid(
                    "assessments.precedence",
                    format!("{k} is listed twice"),
                ));
            }
        }
        for (n, s) in self.required_certificates.iter().enumerate() {
            if crate::profile::standard_key(s).is_empty() || s.chars().count() > 64 {
                return Err(invalid(
                    format!("required_certificates[{n}]"),
                    "must name a standard (1..64 characters)",
                ));
            }
        }
        if self.compliance_window_days == 0 || self.compliance_window_days > 36_600 {
            return Err(invalid("compliance_window_days", "must be 1..=36600"));
        }
        let v = &self.violation_points;
        for (key, x) in [
            ("MINOR", v.minor),
            ("MAJOR", v.major),
            ("CRITICAL", v.critical),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(invalid(format!("violation_points.{key}"), "must be >= 0"));
            }
        }
        closed_loop::validate(&self.rectification, &self.credit, &self.gate)
    }
}
