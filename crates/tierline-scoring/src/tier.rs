//! Tiers and the hysteresis rule.

use serde::{Deserialize, Serialize};

use crate::policy::Policy;

/// A supplier tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// Highest.
    #[serde(rename = "STRATEGIC")]
    Strategic,
    /// Second.
    #[serde(rename = "KEY")]
    Key,
    /// Third.
    #[serde(rename = "RESERVE")]
    Reserve,
    /// Lowest rated.
    #[serde(rename = "AT_RISK")]
    AtRisk,
    /// Not enough data for a composite.
    #[serde(rename = "UNRATED")]
    Unrated,
}

impl Tier {
    /// Rated tiers, highest first.
    pub const RATED: [Tier; 4] = [Tier::Strategic, Tier::Key, Tier::Reserve, Tier::AtRisk];

    /// Every tier, highest first, `UNRATED` last.
    pub const ALL: [Tier; 5] = [
        Tier::Strategic,
        Tier::Key,
        Tier::Reserve,
        Tier::AtRisk,
        Tier::Unrated,
    ];

    /// The tier written `name` (as [`Tier::name`] gives it).
    pub fn from_name(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.name() == name)
    }

    /// As written in docs/scoring.md and the API.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Strategic => "STRATEGIC",
            Tier::Key => "KEY",
            Tier::Reserve => "RESERVE",
            Tier::AtRisk => "AT_RISK",
            Tier::Unrated => "UNRATED",
        }
    }

    /// Higher is better; UNRATED has no rank.
    fn rank(self) -> i32 {
        match self {
            Tier::Strategic => 3,
            Tier::Key => 2,
            Tier::Reserve => 1,
            Tier::AtRisk => 0,
            Tier::Unrated => -1,
        }
    }

    /// raw(s): the highest tier whose bound <= s; below every bound, AT_RISK.
    pub fn raw(policy: &Policy, s: f64) -> Tier {
        Tier::RATED
            .into_iter()
            .find(|t| policy.bound(*t) <= s)
            .unwrap_or(Tier::AtRisk)
    }

    /// One day of the walk: the tier given yesterday's and today's composite.
    pub fn next(policy: &Policy, previous: Option<Tier>, composite: Option<f64>) -> Tier {
        let Some(s) = composite else {
            return Tier::Unrated;
        };
        match previous {
            None | Some(Tier::Unrated) => Tier::raw(policy, s),
            Some(p) => {
                let m = policy.tier_margin;
                let up = Tier::raw(policy, s - m);
                let down = Tier::raw(policy, s + m);
                if up.rank() > p.rank() {
                    up
                } else if down.rank() < p.rank() {
                    down
                } else {
                    p
                }
            }
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
