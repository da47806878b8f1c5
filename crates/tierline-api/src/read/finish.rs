//! Finishing numbers from daily buckets and projected rows, pure (no I/O): window sums,
//! the tier walk continued past the stored history, daily history points, JSON shapes,
//! the supplier list's order. Both read backends use them.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use tierline_events::Date;
use tierline_scoring::{Agg, Indicator, Policy, Scorecard, Tier, scorecard_from_sums};

use super::{Buckets, Sort};
use crate::model::*;

/// The indicator's total as of `as_of` (window sum, the day's bucket or the state in
/// force: `b` holds each state's latest bucket before the window too).
pub(crate) fn window_sum(b: &Buckets, i: Indicator, as_of: Date, days: u32) -> Agg {
    tierline_scoring::window_of(b, |a| a, i, as_of, days)
}

/// The JSON of a scorecard's indicators.
pub(crate) fn indicators_json(sc: &Scorecard) -> BTreeMap<String, IndicatorJson> {
    sc.indicators
        .iter()
        .map(|(i, v)| {
            (
                i.name().to_owned(),
                IndicatorJson {
                    value: v.value,
                    status: v.status().to_owned(),
                    subscore: v.subscore,
                    numerator: v.numerator,
                    denominator: v.denominator,
                    samples: v.samples,
                    assessment_ids: None,
                },
            )
        })
        .collect()
}

pub(crate) fn dimensions_json(sc: &Scorecard) -> BTreeMap<String, Option<f64>> {
    sc.dimensions
        .iter()
        .map(|(d, v)| (d.name().to_owned(), *v))
        .collect()
}

pub(crate) fn compare(sort: Sort, a: (Option<f64>, &str), b: (Option<f64>, &str)) -> Ordering {
    let by_score = |x: Option<f64>, y: Option<f64>, desc: bool| match (x, y) {
        (Some(x), Some(y)) if desc => y.total_cmp(&x),
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    match sort {
        Sort::ScoreDesc => by_score(a.0, b.0, true),
        Sort::ScoreAsc => by_score(a.0, b.0, false),
        Sort::SupplierId => Ordering::Equal,
    }
    .then_with(|| a.1.cmp(b.1))
}

/// The tier walk continued from `tier` on `last` through `until`: one tier per day
/// after `last`, from the buckets `b`.
pub(crate) fn continue_tiers(
    policy: &Policy,
    b: &Buckets,
    last: Date,
    mut tier: Tier,
    until: Date,
) -> Vec<Tier> {
    let w = policy.tier_window_days;
    (last.0 + 1..=until.0)
        .map(Date)
        .map(|d| {
            let composite = scorecard_from_sums(policy, d, w, |i| window_sum(b, i, d, w)).composite;
            tier = Tier::next(policy, Some(tier), composite);
            tier
        })
        .collect()
}

/// Daily points from `from` to `to`: scores from the buckets, tiers from `tier_on`.
pub(crate) fn history_of(
    policy: &Policy,
    supplier: &str,
    b: &Buckets,
    from: Date,
    to: Date,
    window: u32,
    tier_on: impl Fn(Date) -> Tier,
) -> History {
    let points = (from.0..=to.0)
        .map(Date)
        .map(|d| {
            let sc = scorecard_from_sums(policy, d, window, |i| window_sum(b, i, d, window));
            HistoryPoint {
                date: d.to_string(),
                score: sc.composite,
                tier: tier_on(d).name().to_owned(),
                indicators: sc
                    .indicators
                    .iter()
                    .map(|(i, v)| (i.name().to_owned(), v.value))
                    .collect(),
            }
        })
        .collect();
    History {
        supplier_id: supplier.to_owned(),
        window,
        points,
    }
}
