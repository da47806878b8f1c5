//! A supplier's status on each day (docs/scoring.md "Plans, status and credit"): the latest decision
//! in force, or `APPROVED`. Pure: decisions in, status out.

use std::collections::BTreeSet;

use tierline_events::{Date, SupplierStatus, Timestamp};
use uuid::Uuid;

/// What scoring reads of a `SupplierStatusDecided`.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Business time (the decision is in force from its date).
    pub occurred_at: Timestamp,
    /// Its event id (ordering key, and `expired:{event_id}`).
    pub event_id: Uuid,
    /// Its source (ordering key).
    pub source: String,
    /// The status decided.
    pub status: SupplierStatus,
    /// Why.
    pub reason: String,
    /// Last day in force.
    pub valid_until: Option<Date>,
}

impl Decision {
    fn key(&self) -> (Timestamp, Uuid, &str) {
        (self.occurred_at, self.event_id, &self.source)
    }
}

/// The status on one day and why.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusOn {
    /// The status.
    pub status: SupplierStatus,
    /// The decision in force, if any.
    pub decision: Option<usize>,
}

/// A supplier's decisions, ordered by ordering key, with the day function `day_of`.
#[derive(Debug, Clone)]
pub struct StatusLine {
    decisions: Vec<Decision>,
    days: Vec<Date>,
}

impl StatusLine {
    /// From decisions in any order; `day_of` dates an instant (the policy's).
    pub fn new(mut decisions: Vec<Decision>, day_of: impl Fn(Timestamp) -> Date) -> Self {
        decisions.sort_by(|a, b| a.key().cmp(&b.key()));
        let days = decisions.iter().map(|d| day_of(d.occurred_at)).collect();
        StatusLine { decisions, days }
    }

    /// The decisions, in ordering-key order.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// The status on `day`: the latest decision dated on or before it and still in
    /// force (a decision of status `UNKNOWN` is ignored, one whose `valid_until` is
    /// before its own date is never in force); none: `APPROVED`.
    pub fn on(&self, day: Date) -> StatusOn {
        let found = self
            .decisions
            .iter()
            .zip(&self.days)
            .enumerate()
            .rev()
            .find(|(_, (d, date))| {
                **date <= day
                    && d.status != SupplierStatus::Unknown
                    && d.valid_until.is_none_or(|u| u >= day)
            })
            .map(|(k, _)| k);
        StatusOn {
            status: found.map_or(SupplierStatus::Approved, |k| self.decisions[k].status),
            decision: found,
        }
    }

    /// The first day of the run of days ending on `day` with `day`'s status (the
    /// status can change only on a decision's date and the day after its `valid_until`).
    pub fn since(&self, day: Date) -> Option<Date> {
        let status = self.on(day).status;
        let mut changes: BTreeSet<Date> = BTreeSet::new();
        for (d, date) in self.decisions.iter().zip(&self.days) {
            changes.insert(*date);
            if let Some(u) = d.valid_until {
                changes.insert(Date(u.0.saturating_add(1)));
            }
        }
        let mut start = None;
        for c in changes.into_iter().rev().filter(|c| *c <= day) {
            if self.on(c).status != status {
                break;
            }
            start = Some(c);
            if c.0 > i32::MIN && self.on(Date(c.0 - 1)).status != status {
                break;
            }
        }
        start
    }

    /// The reason of the status on `day`: the decision in force's,
    /// or `expired:{event_id}` when an expiry left no decision in force.
    pub fn reason(&self, day: Date) -> String {
        if let Some(k) = self.on(day).decision {
            return self.decisions[k].reason.clone();
        }
        // The latest decision that expired on or before `day` with nothing after it.
        self.decisions
            .iter()
            .zip(&self.days)
            .filter(|(d, date)| **date <= day && d.valid_until.is_some_and(|u| u < day))
            .filter(|(d, _)| d.status != SupplierStatus::Unknown)
            .max_by_key(|(d, _)| d.valid_until)
            .map(|(d, _)| format!("expired:{}", d.event_id))
            .unwrap_or_default()
    }
}
