//! From window sums to indicator values, subscores, dimension scores and the
//! composite with its coverage.

use std::collections::BTreeMap;

use serde::Serialize;
use tierline_events::Date;

use crate::exact::ExactSum;
use crate::indicator::{Dimension, Indicator};
use crate::ledger::{Agg, SupplierLedger};
use crate::policy::{IndicatorPolicy, Policy};

/// One indicator over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndicatorValue {
    /// numerator / denominator x scale (the count for `critical_defects`); `None`
    /// when insufficient.
    pub value: Option<f64>,
    /// 0..100, `None` when insufficient or not scored.
    pub subscore: Option<f64>,
    /// Sum of numerators in the window.
    pub numerator: f64,
    /// Sum of denominators in the window.
    pub denominator: f64,
    /// Samples in the window.
    pub samples: u64,
}

impl IndicatorValue {
    /// `ok` or `insufficient`.
    pub fn status(&self) -> &'static str {
        if self.value.is_some() {
            "ok"
        } else {
            "insufficient"
        }
    }
}

/// A supplier's scores over one window as of one date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// The evaluation date.
    pub as_of: Date,
    /// Window in days.
    pub window: u32,
    /// Every indicator.
    pub indicators: BTreeMap<Indicator, IndicatorValue>,
    /// Every dimension (`None`: insufficient).
    pub dimensions: BTreeMap<Dimension, Option<f64>>,
    /// The composite (`None`: coverage below the minimum).
    pub composite: Option<f64>,
    /// Sum of the configured weights of the sufficient dimensions.
    pub coverage: f64,
}

/// The value of one indicator from its window sums.
pub fn indicator_value(policy: &Policy, indicator: Indicator, agg: &Agg) -> IndicatorValue {
    let (num, den) = (agg.numerator(), agg.denominator());
    let value = if indicator == Indicator::CriticalDefects {
        // A count: insufficient only when the window holds no inspection.
        (den > 0.0).then_some(num)
    } else if den == 0.0 || (indicator.needs_min_samples() && agg.samples < policy.min_samples) {
        None
    } else {
        Some(num / den * indicator.scale())
    };
    let subscore = match (value, policy.indicator(indicator)) {
        (Some(v), Some(p)) => Some(100.0 * ((v - p.worst) / (p.target - p.worst)).clamp(0.0, 1.0)),
        _ => None,
    };
    IndicatorValue {
        value,
        subscore,
        numerator: num,
        denominator: den,
        samples: agg.samples,
    }
}

/// Dimension scores, composite and coverage from the indicator values.
pub fn combine(
    policy: &Policy,
    indicators: &BTreeMap<Indicator, IndicatorValue>,
) -> (BTreeMap<Dimension, Option<f64>>, Option<f64>, f64) {
    let mut dimensions = BTreeMap::new();
    for d in Dimension::ALL {
        // A weighted mean is two exact sums, then one division.
        let (mut weighted, mut weights) = (ExactSum::default(), ExactSum::default());
        for (i, v) in indicators.iter().filter(|(i, _)| i.dimension() == Some(d)) {
            if let (Some(s), Some(p)) = (v.subscore, policy.indicator(*i)) {
                weighted.add(p.weight * s);
                weights.add(p.weight);
            }
        }
        let (weighted, weights) = (weighted.value(), weights.value());
        dimensions.insert(d, (weights > 0.0).then(|| weighted / weights));
    }
    let (composite, coverage) = composite_of(
        policy,
        Dimension::ALL
            .iter()
            .map(|d| (*d, dimensions.get(d).copied().flatten())),
    );
    (dimensions, composite, coverage)
}

/// The composite and coverage from the dimensions' scores (`None`: insufficient).
fn composite_of(
    policy: &Policy,
    dimensions: impl Iterator<Item = (Dimension, Option<f64>)>,
) -> (Option<f64>, f64) {
    let (mut weighted, mut coverage) = (ExactSum::default(), ExactSum::default());
    for (d, score) in dimensions {
        if let Some(score) = score {
            let w = policy.dimension_weight(d);
            weighted.add(w * score);
            coverage.add(w);
        }
    }
    let (weighted, coverage) = (weighted.value(), coverage.value());
    // The tolerance: 0.35 + 0.10 + 0.05 is 0.49999999999999994 in binary64.
    let composite =
        (coverage >= policy.min_coverage - 1e-9 && coverage > 0.0).then(|| weighted / coverage);
    (composite, coverage)
}

/// The composite alone from the indicators' totals in a fixed slot order: what the tier
/// walk asks every day. The same numbers as [`combine`] (every sum is exact, so the
/// order of the terms does not matter), without building a scorecard.
pub(crate) struct Composite<'p> {
    policy: &'p Policy,
    /// Per slot: the indicator, and for a scored one its dimension's position in
    /// [`Dimension::ALL`] and its parameters.
    slots: Vec<(Indicator, Option<(usize, IndicatorPolicy)>)>,
}

impl<'p> Composite<'p> {
    pub(crate) fn new(policy: &'p Policy, indicators: &[Indicator]) -> Self {
        let slots = indicators
            .iter()
            .map(|&i| {
                let scored = i.dimension().and_then(|d| {
                    let k = Dimension::ALL.iter().position(|x| *x == d)?;
                    Some((k, policy.indicator(i)?))
                });
                (i, scored)
            })
            .collect();
        Composite { policy, slots }
    }

    /// The composite from each slot's total (`None`: coverage too low).
    pub(crate) fn of(&self, sums: &[&Agg]) -> Option<f64> {
        let mut weighted: [ExactSum; 7] = Default::default();
        let mut weights: [ExactSum; 7] = Default::default();
        for ((i, scored), agg) in self.slots.iter().zip(sums) {
            let Some((d, p)) = scored else { continue };
            if let Some(s) = indicator_value(self.policy, *i, agg).subscore {
                weighted[*d].add(p.weight * s);
                weights[*d].add(p.weight);
            }
        }
        let dimensions = Dimension::ALL.iter().enumerate().map(|(k, d)| {
            let w_sum = weights[k].value();
            (*d, (w_sum > 0.0).then(|| weighted[k].value() / w_sum))
        });
        composite_of(self.policy, dimensions).0
    }
}

/// A scorecard from window sums given by `sum`: how a reader of the persisted daily
/// buckets gets the same numbers as the ledger (the sums are exact, so any order).
pub fn scorecard_from_sums(
    policy: &Policy,
    as_of: Date,
    window: u32,
    sum: impl Fn(Indicator) -> Agg,
) -> Scorecard {
    let indicators: BTreeMap<Indicator, IndicatorValue> = policy
        .indicators_all()
        .into_iter()
        .map(|i| (i, indicator_value(policy, i, &sum(i))))
        .collect();
    let (dimensions, composite, coverage) = combine(policy, &indicators);
    Scorecard {
        as_of,
        window,
        indicators,
        dimensions,
        composite,
        coverage,
    }
}

impl SupplierLedger {
    /// The scorecard over `window` days as of `as_of`.
    pub fn scorecard(&self, as_of: Date, window: u32) -> Scorecard {
        self.scorecard_from(as_of, window, |i| self.window(i, as_of, window))
    }

    /// A scorecard from window sums given by `sum`.
    pub(crate) fn scorecard_from(
        &self,
        as_of: Date,
        window: u32,
        sum: impl Fn(Indicator) -> Agg,
    ) -> Scorecard {
        scorecard_from_sums(self.policy(), as_of, window, sum)
    }

    /// The composite over the tier window as of `day`.
    pub fn tier_composite(&self, day: Date) -> Option<f64> {
        self.scorecard(day, self.policy().tier_window_days)
            .composite
    }
}
