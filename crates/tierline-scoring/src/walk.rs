//! The day-by-day walks: tiers with hysteresis, and alert episodes per (rule, level).

use serde::Serialize;
use tierline_events::Date;
use uuid::Uuid;

use crate::indicator::Indicator;
use crate::ledger::{Agg, SupplierLedger};
use crate::policy::{AlertRule, Direction};
use crate::score::indicator_value;
use crate::tier::Tier;

/// Namespace of alert ids and tier-change ids (docs/scoring.md).
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c1a52_6b2e_4f43_9a58_2b8f0d7a3c11);

/// The tier on one day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierDay {
    /// The day.
    pub date: Date,
    /// The composite of the tier window that day.
    pub score: Option<f64>,
    /// The tier after hysteresis.
    pub tier: Tier,
}

/// Alert level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    /// The warning threshold.
    #[serde(rename = "WARNING")]
    Warning,
    /// The critical threshold.
    #[serde(rename = "CRITICAL")]
    Critical,
}

impl Level {
    /// As in docs/scoring.md.
    pub fn name(self) -> &'static str {
        match self {
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
        }
    }
}

/// One episode of an alert: open from `started_on` until the day before `ended_on`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Episode {
    /// Deterministic id.
    pub alert_id: Uuid,
    /// Rule (indicator) name.
    pub rule: String,
    /// Level.
    pub level: Level,
    /// The threshold breached.
    pub threshold: f64,
    /// The rule's window.
    pub window_days: u32,
    /// First day open.
    pub started_on: Date,
    /// The value on that day.
    pub value_at_start: f64,
    /// First day found closed, if any.
    pub ended_on: Option<Date>,
    /// The value that day.
    pub value_at_end: Option<f64>,
}

/// The id of an alert episode: UUIDv5 of `{supplier}|{rule}|{LEVEL}|{start}`.
pub fn alert_id(supplier_id: &str, rule: &str, level: Level, start: Date) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{supplier_id}|{rule}|{}|{start}", level.name()).as_bytes(),
    )
}

/// The id of a tier change: UUIDv5 of `{supplier}|TIER|{to_tier}|{date}`.
pub fn tier_change_id(supplier_id: &str, to: Tier, date: Date) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{supplier_id}|TIER|{}|{date}", to.name()).as_bytes(),
    )
}

fn days(from: Date, to: Date) -> impl Iterator<Item = Date> {
    (from.0..=to.0).map(Date)
}

impl SupplierLedger {
    /// Tiers from the supplier's first day to `until`, one entry per day.
    pub fn tier_history(&self, until: Date) -> Vec<TierDay> {
        let Some(first) = self.first_day() else {
            return Vec::new();
        };
        let w = self.policy().tier_window_days;
        let dense = self.dense(Date(first.0 - w as i32 + 1), until);
        let mut windows: Vec<_> = Indicator::ALL
            .into_iter()
            .map(|i| dense.sliding(i, w))
            .collect();
        let mut out = Vec::new();
        let mut previous = None;
        for date in days(first, until) {
            let sums: Vec<&Agg> = windows.iter_mut().map(|s| s.at(date)).collect();
            let score = self
                .scorecard_from(date, w, |i| sums[i.index()].clone())
                .composite;
            let tier = Tier::next(self.policy(), previous, score);
            previous = Some(tier);
            out.push(TierDay { date, score, tier });
        }
        out
    }

    /// The tier as of `day` (UNRATED before the supplier's first day).
    pub fn tier_on(&self, day: Date) -> Tier {
        self.tier_history(day)
            .last()
            .map_or(Tier::Unrated, |t| t.tier)
    }

    /// Every alert episode of every rule and level, from the first day to `until`.
    pub fn alert_episodes(&self, until: Date) -> Vec<Episode> {
        let Some(first) = self.first_day() else {
            return Vec::new();
        };
        let widest = self
            .policy()
            .alerts
            .iter()
            .map(|r| r.window_days)
            .max()
            .unwrap_or(1);
        let dense = self.dense(Date(first.0 - widest as i32 + 1), until);
        let mut out = Vec::new();
        for rule in &self.policy().alerts {
            let Some(indicator) = Indicator::from_name(&rule.rule) else {
                continue;
            };
            // The rule's value on each day (None: insufficient), shared by both levels.
            let mut window = dense.sliding(indicator, rule.window_days);
            let values: Vec<(Date, Option<f64>)> = days(first, until)
                .map(|d| {
                    let v = indicator_value(self.policy(), indicator, window.at(d)).value;
                    (d, v)
                })
                .collect();
            for level in [Level::Warning, Level::Critical] {
                out.extend(self.rule_episodes(&values, rule, level));
            }
        }
        out
    }

    fn rule_episodes(
        &self,
        values: &[(Date, Option<f64>)],
        rule: &AlertRule,
        level: Level,
    ) -> Vec<Episode> {
        let threshold = match level {
            Level::Warning => rule.warning,
            Level::Critical => rule.critical,
        };
        // The right-hand sides are computed in binary64, as docs/scoring.md says.
        let (below, clear_at) = match rule.direction {
            Direction::Below => (true, threshold + rule.margin),
            Direction::Above => (false, threshold - rule.margin),
        };
        let breached = |v: f64| if below { v < threshold } else { v > threshold };
        let cleared = |v: f64| if below { v >= clear_at } else { v <= clear_at };
        let mut episodes = Vec::new();
        let mut open: Option<Episode> = None;
        for &(date, value) in values {
            // An insufficient value changes nothing.
            let Some(v) = value else {
                continue;
            };
            match open.take() {
                None if breached(v) => {
                    open = Some(Episode {
                        alert_id: alert_id(self.supplier_id(), &rule.rule, level, date),
                        rule: rule.rule.clone(),
                        level,
                        threshold,
                        window_days: rule.window_days,
                        started_on: date,
                        value_at_start: v,
                        ended_on: None,
                        value_at_end: None,
                    })
                }
                Some(mut e) if cleared(v) => {
                    e.ended_on = Some(date);
                    e.value_at_end = Some(v);
                    episodes.push(e);
                }
                other => open = other,
            }
        }
        episodes.extend(open);
        episodes
    }
}
