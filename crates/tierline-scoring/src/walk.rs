//! The day-by-day walks: tiers with hysteresis, and alert episodes per (rule, level).

use serde::Serialize;
use tierline_events::Date;
use uuid::Uuid;

use crate::indicator::Indicator;
use crate::ledger::{Agg, SupplierLedger};
use crate::policy::{AlertRule, Direction};
use crate::score::Composite;
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

/// A supplier's walks up to a day: the tier on each day from its first, and each alert
/// rule's episodes. Kept between projections so the next walk resumes from the first
/// day that changed instead of the first day of all ([`SupplierLedger::resume`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Walks {
    /// The tier on each day, from the supplier's first day.
    pub tiers: Vec<TierDay>,
    /// Episodes per (rule, level): two entries per policy rule (warning, critical).
    rules: Vec<Vec<Episode>>,
}

impl Walks {
    /// The last day walked.
    pub fn until(&self) -> Option<Date> {
        self.tiers.last().map(|t| t.date)
    }

    /// The tier on the last day walked (UNRATED before the first day).
    pub fn tier(&self) -> Tier {
        self.tiers.last().map_or(Tier::Unrated, |t| t.tier)
    }

    /// Every episode: rule by rule in policy order, warning before critical, each
    /// (rule, level)'s in date order.
    pub fn episodes(&self) -> impl Iterator<Item = &Episode> {
        self.rules.iter().flatten()
    }
}

impl SupplierLedger {
    /// Tiers from the supplier's first day to `until`, one entry per day.
    pub fn tier_history(&self, until: Date) -> Vec<TierDay> {
        self.walks(until).tiers
    }

    /// The tier as of `day` (UNRATED before the supplier's first day).
    pub fn tier_on(&self, day: Date) -> Tier {
        self.walks(day).tier()
    }

    /// Every alert episode of every rule and level, from the first day to `until`.
    pub fn alert_episodes(&self, until: Date) -> Vec<Episode> {
        self.walks(until).episodes().cloned().collect()
    }

    /// Both walks from the first day to `until`.
    pub fn walks(&self, until: Date) -> Walks {
        self.resume(Walks::default(), None, until)
    }

    /// The walks to `until`, resumed from `previous` (walks of this ledger to an earlier
    /// day or the same one): days before `changed` (the first day whose buckets changed
    /// since, if any) and up to `previous`'s last day are kept with the state they ended
    /// in, the rest walked. Equals [`walks`](Self::walks) of `until`.
    pub fn resume(&self, mut previous: Walks, changed: Option<Date>, until: Date) -> Walks {
        let Some(first) = self.first_day() else {
            return Walks::default();
        };
        let resumable = previous.tiers.first().is_some_and(|t| t.date == first)
            && previous.until().is_some_and(|u| u <= until)
            && previous.rules.len() == 2 * self.policy().alerts.len();
        let from = match previous.until() {
            Some(u) if resumable => {
                let next = Date(u.0 + 1);
                Date(changed.map_or(next, |c| c.min(next)).0.max(first.0))
            }
            _ => first,
        };
        if from == first {
            previous = Walks {
                tiers: Vec::new(),
                rules: vec![Vec::new(); 2 * self.policy().alerts.len()],
            };
        }
        if from > until {
            return previous;
        }
        previous.tiers.truncate((from.0 - first.0) as usize);
        self.walk_tiers(&mut previous.tiers, from, until);
        self.walk_alerts(&mut previous.rules, from, until);
        previous
    }

    /// Appends the tiers of `from..=until` to `tiers` (which ends the day before).
    fn walk_tiers(&self, tiers: &mut Vec<TierDay>, from: Date, until: Date) {
        let w = self.policy().tier_window_days;
        let dense = self.dense(Date(from.0 - w as i32 + 1), until);
        let scorer = Composite::new(self.policy(), &dense.indicators);
        let mut windows: Vec<_> = dense
            .indicators
            .iter()
            .map(|i| dense.sliding(*i, w))
            .collect();
        let mut previous = tiers.last().map(|t| t.tier);
        for date in days(from, until) {
            let sums: Vec<&Agg> = windows.iter_mut().map(|s| s.at(date)).collect();
            let score = scorer.of(&sums);
            let tier = Tier::next(self.policy(), previous, score);
            previous = Some(tier);
            tiers.push(TierDay { date, score, tier });
        }
    }

    /// Continues each (rule, level)'s episodes over `from..=until`: episodes starting on
    /// or after `from` are dropped, and one still open the day before is open again.
    fn walk_alerts(&self, rules: &mut [Vec<Episode>], from: Date, until: Date) {
        let widest = self
            .policy()
            .alerts
            .iter()
            .map(|r| r.window_days)
            .max()
            .unwrap_or(1);
        let dense = self.dense(Date(from.0 - widest as i32 + 1), until);
        for (k, rule) in self.policy().alerts.iter().enumerate() {
            let Some(indicator) = Indicator::from_name(&rule.rule) else {
                continue;
            };
            // The rule's value on each day (None: insufficient), shared by both levels.
            let mut window = dense.sliding(indicator, rule.window_days);
            let values: Vec<(Date, Option<f64>)> = days(from, until)
                .map(|d| {
                    let v = indicator_value(self.policy(), indicator, window.at(d)).value;
                    (d, v)
                })
                .collect();
            for (j, level) in [Level::Warning, Level::Critical].into_iter().enumerate() {
                let Some(episodes) = rules.get_mut(2 * k + j) else {
                    continue;
                };
                episodes.retain(|e| e.started_on < from);
                let open = match episodes.last() {
                    Some(e) if e.ended_on.is_none_or(|end| end >= from) => {
                        episodes.pop().map(|mut e| {
                            e.ended_on = None;
                            e.value_at_end = None;
                            e
                        })
                    }
                    _ => None,
                };
                self.rule_episodes(&values, rule, level, open, episodes);
            }
        }
    }

    /// Walks one (rule, level) over `values` from the state `open` (the episode open the
    /// day before, if any), appending the episodes found to `episodes`.
    fn rule_episodes(
        &self,
        values: &[(Date, Option<f64>)],
        rule: &AlertRule,
        level: Level,
        mut open: Option<Episode>,
        episodes: &mut Vec<Episode>,
    ) {
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
    }
}
