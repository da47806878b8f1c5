//! Rectification plans (docs/scoring.md "Plans, status and credit"): a plan's fields from its Opened
//! records, its counted closing, its state on a day, its review date and verdict. Pure:
//! records in, plans out; the indicator's value on the review date is an argument.

use tierline_events::{Date, PlanCloseReason, PlanOutcome, Timestamp};
use uuid::Uuid;

use crate::indicator::Indicator;
use crate::policy::Policy;

/// The ordering key of docs/scoring.md: (`occurred_at`, event id, source).
pub type Key = (Timestamp, Uuid, String);

/// What a plan's Opened record says (every field: an amendment replaces them all).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanFields {
    /// The indicator to improve.
    pub indicator: String,
    /// 30, 90 or 365.
    pub window_days: i32,
    /// The value to reach.
    pub target: f64,
    /// The review date.
    pub due_date: Date,
    /// The alert episode behind it.
    pub trigger_alert_id: Option<Uuid>,
    /// The owner's id.
    pub owner: String,
    /// The measures.
    pub measures: Vec<String>,
}

/// One plan's records.
#[derive(Debug, Clone, Default)]
pub struct PlanRecords {
    /// Opened records (any order).
    pub opened: Vec<(Key, PlanFields)>,
    /// Closed records (any order).
    pub closed: Vec<(Key, PlanCloseReason)>,
    /// For a derived plan: the implicit first opening (its episode's `started_on`).
    pub derived: Option<(Date, PlanFields)>,
}

/// A plan as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Its fields after every counted amendment.
    pub fields: PlanFields,
    /// The day it opened.
    pub opened_on: Date,
    /// The counted closing: reason and date.
    pub closed: Option<(PlanCloseReason, Date)>,
    /// Derived from a CRITICAL episode.
    pub derived: bool,
}

/// A plan's state on a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlanState {
    /// Not open yet.
    NotYet,
    /// Open.
    Open,
    /// Closed WITHDRAWN or SUPERSEDED: never reviewed.
    Closed(PlanCloseReason),
    /// Reviewed on its review date, with the indicator's value then.
    Reviewed(PlanOutcome, Option<f64>),
}

impl PlanRecords {
    /// The plan, or `None` when it has no opening.
    pub fn plan(&self, day_of: impl Fn(Timestamp) -> Date) -> Option<Plan> {
        let mut opened = self.opened.clone();
        opened.sort_by(|a, b| a.0.cmp(&b.0));
        let (mut fields, opened_on, rest) = match &self.derived {
            // A derived plan opens on its episode's start, whatever the stored dates.
            Some((day, f)) => (f.clone(), *day, &opened[..]),
            None => {
                let ((k, f), rest) = opened.split_first()?;
                (f.clone(), day_of(k.0), rest)
            }
        };
        for (k, f) in rest {
            // An amendment dated after the due date as it stood is ignored.
            if day_of(k.0) <= fields.due_date {
                fields = f.clone();
            }
        }
        let mut closed = self.closed.clone();
        closed.sort_by(|a, b| a.0.cmp(&b.0));
        let closed = closed
            .iter()
            .filter(|(_, r)| *r != PlanCloseReason::Unknown)
            .map(|(k, r)| (*r, day_of(k.0)))
            .find(|(_, d)| opened_on <= *d && *d <= fields.due_date);
        Some(Plan {
            fields,
            opened_on,
            closed,
            derived: self.derived.is_some(),
        })
    }
}

impl Plan {
    /// Its review date: a COMPLETED closing's date, else the due date; `None` when it
    /// was withdrawn or superseded.
    pub fn review_date(&self) -> Option<Date> {
        match self.closed {
            Some((PlanCloseReason::Completed, d)) => Some(d),
            Some(_) => None,
            None => Some(self.fields.due_date),
        }
    }

    /// The verdict on the review date from the indicator's value then (`None`:
    /// insufficient) under `policy`.
    pub fn verdict(&self, policy: &Policy, value: Option<f64>) -> PlanOutcome {
        let Some(indicator) = Indicator::from_name(&self.fields.indicator)
            .filter(|_| policy.defines(&self.fields.indicator))
        else {
            return PlanOutcome::Unverifiable;
        };
        match value {
            None => PlanOutcome::Unverifiable,
            Some(v) if indicator.higher_is_better() && v >= self.fields.target => {
                PlanOutcome::Verified
            }
            Some(v) if !indicator.higher_is_better() && v <= self.fields.target => {
                PlanOutcome::Verified
            }
            Some(_) => PlanOutcome::Failed,
        }
    }

    /// The state on `day`; `value_on_review` gives the indicator's value on the review
    /// date (asked only once the review date has come).
    pub fn state_on(
        &self,
        day: Date,
        policy: &Policy,
        value_on_review: impl FnOnce() -> Option<f64>,
    ) -> PlanState {
        if day < self.opened_on {
            return PlanState::NotYet;
        }
        match (self.closed, self.review_date()) {
            (Some((reason, d)), None) if d <= day => PlanState::Closed(reason),
            (_, Some(r)) if r <= day => {
                let v = value_on_review();
                PlanState::Reviewed(self.verdict(policy, v), v)
            }
            _ => PlanState::Open,
        }
    }
}
