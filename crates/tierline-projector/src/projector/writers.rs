//! What a step writes for each supplier, computed without I/O: its changed daily
//! buckets, its walks resumed from the first changed day, the tier-history days that
//! differ from what is stored, and its scorecards. Spread over the machine's cores.

use std::collections::{BTreeMap, HashMap, HashSet};
use tierline_events::Date;
use tierline_projections::{DayBucket, PageRows, ScorecardRow};

use tierline_scoring::{
    Indicator, Scorecard, SupplierLedger, Tier, TierDay, WINDOWS, Walks, persists,
};

/// One supplier's part of a step.
pub(super) struct Input<'a> {
    pub(super) ledger: &'a SupplierLedger,
    /// The walks the read model holds (empty for a rebuild).
    pub(super) stored: &'a Walks,
    /// The (indicator, day) buckets that changed, sorted (a rebuild writes its buckets
    /// in bulk and gives none).
    pub(super) changed: &'a [(Indicator, Date)],
    /// Walk from the first day instead of resuming (the per-supplier baseline).
    pub(super) from_start: bool,
}

/// One supplier's rows and walks.
pub(super) struct Computed {
    pub(super) supplier: String,
    pub(super) walks: Walks,
    pub(super) rows: PageRows,
}

/// Computes one supplier's rows as of `today`.
pub(super) fn compute(input: &Input<'_>, today: Date, policy_version: &str) -> Computed {
    let l = input.ledger;
    let supplier = l.supplier_id().to_owned();
    let mut rows = PageRows::default();
    for &(indicator, day) in input.changed {
        match l.bucket(indicator, day) {
            Some(total) if persists(indicator, total) => {
                let b = DayBucket {
                    indicator,
                    day,
                    total: total.clone(),
                };
                rows.days.push((supplier.clone(), b));
            }
            _ => rows.emptied.push((supplier.clone(), indicator, day)),
        }
    }
    let changed = input.changed.iter().map(|(_, d)| *d).min();
    let walks = if input.from_start {
        l.walks(today)
    } else {
        l.resume(input.stored.clone(), changed, today)
    };
    // Tier history: the days that differ from what is stored (the read model holds
    // exactly the stored walks), and stored days that no longer exist.
    let old = &input.stored.tiers;
    let same = old
        .iter()
        .zip(&walks.tiers)
        .take_while(|(a, b)| a == b)
        .count();
    let fresh = &walks.tiers[same..];
    let stored: HashMap<Date, &TierDay> = old[same..].iter().map(|t| (t.date, t)).collect();
    let kept: HashSet<Date> = fresh.iter().map(|t| t.date).collect();
    rows.tiers_gone.extend(
        stored
            .keys()
            .filter(|d| !kept.contains(d))
            .map(|d| (supplier.clone(), *d)),
    );
    rows.tiers.extend(
        fresh
            .iter()
            .filter(|t| stored.get(&t.date) != Some(t))
            .map(|t| (supplier.clone(), *t)),
    );
    let tier = walks.tier();
    for w in WINDOWS {
        rows.scorecards.push((
            supplier.clone(),
            scorecard_row(l, today, w, tier, policy_version),
        ));
    }
    Computed {
        supplier,
        walks,
        rows,
    }
}

/// [`compute`] for every input, spread over the machine's cores (pure CPU work).
pub(super) fn compute_all(
    inputs: &[Input<'_>],
    today: Date,
    policy_version: &str,
) -> Vec<Computed> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Small steps are not worth a thread.
    if threads == 1 || inputs.len() < 64 {
        return inputs
            .iter()
            .map(|i| compute(i, today, policy_version))
            .collect();
    }
    let chunk = inputs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|i| compute(i, today, policy_version))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            // A panicking computation is a bug: it propagates as it would on one thread.
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// A supplier's scorecard on one window as stored.
fn scorecard_row(
    l: &SupplierLedger,
    today: Date,
    window: u32,
    tier: Tier,
    policy_version: &str,
) -> ScorecardRow {
    let sc = l.scorecard(today, window);
    ScorecardRow {
        window_days: window,
        as_of: today,
        policy_version: policy_version.to_owned(),
        composite: sc.composite,
        coverage: sc.coverage,
        tier: tier.name().to_owned(),
        dimensions: dimensions_json(&sc),
        indicators: indicators_json(&sc),
        first_day: l.first_day(),
    }
}

/// One indicator as stored: fields in name order, as a JSON object's keys are kept.
#[derive(serde::Serialize)]
struct IndicatorDoc {
    denominator: f64,
    numerator: f64,
    samples: u64,
    status: &'static str,
    subscore: Option<f64>,
    value: Option<f64>,
}

/// The indicators as a JSON object, keyed and ordered by name (serialised directly:
/// a step writes thousands of these).
fn indicators_json(sc: &Scorecard) -> String {
    let doc: BTreeMap<&str, IndicatorDoc> = sc
        .indicators
        .iter()
        .map(|(i, v)| {
            let d = IndicatorDoc {
                denominator: v.denominator,
                numerator: v.numerator,
                samples: v.samples,
                status: v.status(),
                subscore: v.subscore,
                value: v.value,
            };
            (i.name(), d)
        })
        .collect();
    serde_json::to_string(&doc).unwrap_or_default()
}

/// The dimensions as a JSON object, keyed and ordered by name.
fn dimensions_json(sc: &Scorecard) -> String {
    let doc: BTreeMap<&str, Option<f64>> =
        sc.dimensions.iter().map(|(d, v)| (d.name(), *v)).collect();
    serde_json::to_string(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tierline_scoring::{Dimension, IndicatorValue};

    /// The documents read exactly as the `serde_json::Value` maps they replaced.
    #[test]
    fn documents_equal_the_json_maps_they_replaced() {
        let v = |value: Option<f64>, samples| IndicatorValue {
            value,
            subscore: value.map(|x| x / 3.0),
            numerator: 1.0 / 3.0,
            denominator: 1e-7,
            samples,
        };
        let sc = Scorecard {
            as_of: Date(20_000),
            window: 90,
            indicators: Indicator::FIXED
                .iter()
                .enumerate()
                .map(|(k, i)| {
                    (
                        *i,
                        v((k % 3 != 0).then_some(k as f64 * 1234.5678), k as u64),
                    )
                })
                .collect(),
            dimensions: Dimension::ALL
                .iter()
                .enumerate()
                .map(|(k, d)| (*d, (k % 2 == 0).then_some(k as f64 / 7.0)))
                .collect(),
            composite: Some(71.5),
            coverage: 0.9,
        };
        let indicators: serde_json::Map<String, serde_json::Value> = sc
            .indicators
            .iter()
            .map(|(i, v)| {
                (
                    i.name().to_owned(),
                    serde_json::json!({"value": v.value, "status": v.status(), "subscore": v.subscore,
                        "numerator": v.numerator, "denominator": v.denominator, "samples": v.samples}),
                )
            })
            .collect();
        let dimensions: serde_json::Map<String, serde_json::Value> = sc
            .dimensions
            .iter()
            .map(|(d, v)| (d.name().to_owned(), serde_json::json!(v)))
            .collect();
        assert_eq!(
            indicators_json(&sc),
            serde_json::Value::Object(indicators).to_string()
        );
        assert_eq!(
            dimensions_json(&sc),
            serde_json::Value::Object(dimensions).to_string()
        );
    }
}
