//! Window sums over day totals laid out densely, slid one day at a time.

use tierline_events::Date;

use crate::indicator::Indicator;
use crate::ledger::Agg;

/// Day totals in a flat array, for walking windows day by day.
pub(crate) struct Dense<'a> {
    pub(crate) start: Date,
    pub(crate) days: Vec<[Option<&'a Agg>; Indicator::COUNT]>,
}

impl<'a> Dense<'a> {
    fn day(&self, indicator: Indicator, day: Date) -> Option<&'a Agg> {
        usize::try_from(day.0 - self.start.0)
            .ok()
            .and_then(|k| self.days.get(k))
            .and_then(|d| d[indicator.index()])
    }

    /// A window of `days` days over one indicator, to slide forward one day at a time.
    pub(crate) fn sliding(&self, indicator: Indicator, days: u32) -> Sliding<'_, 'a> {
        Sliding {
            dense: self,
            indicator,
            days: days as i32,
            as_of: None,
            sum: Agg::default(),
        }
    }
}

/// A window sum kept while the window slides: each step adds the day entering and
/// subtracts the day leaving, exactly, so it equals the window summed afresh.
pub(crate) struct Sliding<'d, 'a> {
    dense: &'d Dense<'a>,
    indicator: Indicator,
    days: i32,
    as_of: Option<Date>,
    sum: Agg,
}

impl Sliding<'_, '_> {
    /// The window's sum as of `as_of` (moving forward is cheap; anything else sums the
    /// window afresh).
    pub(crate) fn at(&mut self, as_of: Date) -> &Agg {
        match self.as_of {
            Some(prev) if prev.0 < as_of.0 && as_of.0 - prev.0 < self.days => {
                for d in prev.0 + 1..=as_of.0 {
                    if let Some(a) = self.dense.day(self.indicator, Date(d)) {
                        self.sum.add(a);
                    }
                    if let Some(a) = self.dense.day(self.indicator, Date(d - self.days)) {
                        self.sum.sub(a);
                    }
                }
            }
            Some(prev) if prev == as_of => {}
            _ => {
                self.sum = Agg::default();
                for d in as_of.0 - self.days + 1..=as_of.0 {
                    if let Some(a) = self.dense.day(self.indicator, Date(d)) {
                        self.sum.add(a);
                    }
                }
            }
        }
        self.as_of = Some(as_of);
        &self.sum
    }
}
