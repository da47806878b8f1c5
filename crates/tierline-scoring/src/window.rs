//! An indicator's total on a date from its daily buckets, by its [`Kind`]: window sums,
//! the date's own bucket, or the state in force. Laid out densely for the walks, which
//! slide one day at a time.

use std::collections::BTreeMap;

use tierline_events::Date;

use crate::indicator::{Indicator, Kind};
use crate::ledger::Agg;

/// The total of `indicator` as of `as_of` over a window of `days` days, from daily
/// buckets keyed by (indicator, day) (`get` reads a bucket's total). For a state, the
/// map must hold the latest bucket before the window too (readers ask for it).
pub fn window_of<V>(
    buckets: &BTreeMap<(Indicator, Date), V>,
    get: impl Fn(&V) -> &Agg,
    indicator: Indicator,
    as_of: Date,
    days: u32,
) -> Agg {
    match indicator.kind() {
        Kind::Window => {
            let from = Date(as_of.0.saturating_sub(days as i32 - 1));
            let mut sum = Agg::default();
            for (_, b) in buckets.range((indicator, from)..=(indicator, as_of)) {
                sum.add(get(b));
            }
            sum
        }
        Kind::Daily => buckets
            .get(&(indicator, as_of))
            .map(|b| get(b).clone())
            .unwrap_or_default(),
        Kind::State => buckets
            .range((indicator, Date(i32::MIN))..=(indicator, as_of))
            .next_back()
            .map(|(_, b)| get(b).clone())
            .unwrap_or_default(),
    }
}

/// Whether a bucket is kept in a read model: a window bucket while it holds anything, a
/// state's always (an empty one ends the state).
pub fn persists(indicator: Indicator, total: &Agg) -> bool {
    indicator.kind() == Kind::State || !total.is_empty()
}

/// The first day a reader needs buckets from to evaluate `from..` on `window` days
/// (states also need their latest bucket before it: see [`window_of`]).
pub fn window_start(from: Date, window: u32) -> Date {
    Date(from.0.saturating_sub(window as i32 - 1))
}

/// Day totals in a flat array, for walking windows day by day.
pub(crate) struct Dense<'a> {
    pub(crate) start: Date,
    /// The indicators laid out, in slot order.
    pub(crate) indicators: Vec<Indicator>,
    /// Per day, per slot.
    pub(crate) days: Vec<Vec<Option<&'a Agg>>>,
    /// Per slot: a state's latest bucket before `start`.
    pub(crate) before: Vec<Option<&'a Agg>>,
}

impl<'a> Dense<'a> {
    fn slot(&self, indicator: Indicator) -> Option<usize> {
        self.indicators.iter().position(|i| *i == indicator)
    }

    fn day(&self, slot: usize, day: Date) -> Option<&'a Agg> {
        usize::try_from(day.0 - self.start.0)
            .ok()
            .and_then(|k| self.days.get(k))
            .and_then(|d| d.get(slot).copied().flatten())
    }

    /// A window of `days` days over one indicator, to slide forward one day at a time.
    pub(crate) fn sliding(&self, indicator: Indicator, days: u32) -> Sliding<'_, 'a> {
        Sliding {
            dense: self,
            slot: self.slot(indicator),
            kind: indicator.kind(),
            days: days as i32,
            as_of: None,
            sum: Agg::default(),
        }
    }
}

/// A window sum kept while the window slides: each step adds the day entering and
/// subtracts the day leaving, exactly, so it equals the window summed afresh. Daily
/// and state indicators hold the date's bucket or the state in force instead.
pub(crate) struct Sliding<'d, 'a> {
    dense: &'d Dense<'a>,
    slot: Option<usize>,
    kind: Kind,
    days: i32,
    as_of: Option<Date>,
    sum: Agg,
}

impl Sliding<'_, '_> {
    /// The indicator's total as of `as_of` (moving forward is cheap; anything else
    /// computes it afresh).
    pub(crate) fn at(&mut self, as_of: Date) -> &Agg {
        let Some(slot) = self.slot else {
            return &self.sum;
        };
        let dense = self.dense;
        match (self.kind, self.as_of) {
            (_, Some(prev)) if prev == as_of => {}
            (Kind::Window, Some(prev)) if prev.0 < as_of.0 && as_of.0 - prev.0 < self.days => {
                for d in prev.0 + 1..=as_of.0 {
                    if let Some(a) = dense.day(slot, Date(d)) {
                        self.sum.add(a);
                    }
                    if let Some(a) = dense.day(slot, Date(d - self.days)) {
                        self.sum.sub(a);
                    }
                }
            }
            (Kind::Window, _) => {
                self.sum = Agg::default();
                for d in as_of.0 - self.days + 1..=as_of.0 {
                    if let Some(a) = dense.day(slot, Date(d)) {
                        self.sum.add(a);
                    }
                }
            }
            (Kind::Daily, _) => {
                self.sum = dense.day(slot, as_of).cloned().unwrap_or_default();
            }
            (Kind::State, Some(prev)) if prev < as_of => {
                if let Some(a) = (prev.0 + 1..=as_of.0)
                    .rev()
                    .find_map(|d| dense.day(slot, Date(d)))
                {
                    self.sum = a.clone();
                }
            }
            (Kind::State, _) => {
                let found = (dense.start.0..=as_of.0)
                    .rev()
                    .find_map(|d| dense.day(slot, Date(d)))
                    .or_else(|| dense.before.get(slot).copied().flatten());
                self.sum = found.cloned().unwrap_or_default();
            }
        }
        self.as_of = Some(as_of);
        &self.sum
    }
}
