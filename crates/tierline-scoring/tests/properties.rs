//! Properties: the same events in any order, with any duplicates, give identical
//! results (bit for bit); window sums equal a naive recomputation from raw events.
//! The streams carry the ERP's corrections: receipts and inspections re-posted under
//! their business ids, reversals (before or after their receipts), posting dates, and
//! two units of which the policy counts one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;
mod streams;

use common::*;
use proptest::prelude::*;
use streams::stream;
use tierline_events::{Date, Record};
use tierline_scoring::*;

fn policy() -> Policy {
    Policy {
        required_certificates: vec!["ISO 9001:2015".into(), "IATF16949".into()],
        compliance_window_days: 30,
        countable_units: Some(vec!["pcs".into()]),
        ..Policy::default()
    }
}

/// Lines P0 and P3 are in metres (not counted), the others in pieces.
fn key(e: tierline_events::Envelope<'_>) -> (tierline_events::Timestamp, uuid::Uuid, String) {
    (e.occurred_at, e.event_id, e.source.to_owned())
}

/// Naively, from the raw records: the latest record of each business id, the
/// reversed receipts left out, each with its date.
fn latest_of<'a, T>(
    records: impl Iterator<Item = (&'a str, &'a Record, &'a T, Option<Date>)>,
) -> Vec<(&'a T, Date, &'a Record)>
where
    T: 'a,
{
    let mut by_id: std::collections::BTreeMap<&str, (&Record, &T, Option<Date>)> =
        std::collections::BTreeMap::new();
    for (id, r, t, posting) in records {
        let newer = by_id
            .get(id)
            .is_none_or(|(old, _, _)| key(r.envelope().unwrap()) > key(old.envelope().unwrap()));
        if newer {
            by_id.insert(id, (r, t, posting));
        }
    }
    by_id
        .into_values()
        .map(|(r, t, posting)| {
            let date = posting.unwrap_or_else(|| r.envelope().unwrap().occurred_at.date().unwrap());
            (t, date, r)
        })
        .collect()
}

/// The unit of a PO line: its earliest placement's, if placed.
fn line_unit<'a>(records: &'a [Record], po: &str) -> Option<&'a str> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::PurchaseOrderLinePlaced(p) if p.po_number == po => Some((r, p)),
            _ => None,
        })
        .min_by_key(|(r, _)| key(r.envelope().unwrap()))
        .map(|(_, p)| p.unit_of_measure.as_str())
}

fn build(events: &[Record]) -> SupplierLedger {
    let mut l = ledger_with(policy());
    apply_all(&mut l, events);
    l
}

const AS_OF: &str = "2026-03-20";

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_order_and_any_duplicates_give_identical_results((original, shuffled) in stream()) {
        let a = build(&original);
        let b = build(&shuffled);
        let ta: Vec<_> = a.daily_totals().collect();
        let tb: Vec<_> = b.daily_totals().collect();
        prop_assert_eq!(&ta, &tb);
        let as_of = d(AS_OF);
        for w in WINDOWS {
            prop_assert_eq!(a.scorecard(as_of, w), b.scorecard(as_of, w));
        }
        prop_assert_eq!(a.tier_history(as_of), b.tier_history(as_of));
        prop_assert_eq!(a.alert_episodes(as_of), b.alert_episodes(as_of));
    }

    #[test]
    fn applying_in_one_batch_equals_applying_one_by_one((original, shuffled) in stream(), split in 0usize..60) {
        let one_by_one = build(&original);
        let mut batched = ledger_with(policy());
        let split = split.min(shuffled.len());
        batched.apply_all(&shuffled[..split]);
        batched.apply_all(&shuffled[split..]);
        prop_assert_eq!(one_by_one.daily_totals().collect::<Vec<_>>(), batched.daily_totals().collect::<Vec<_>>());
        let as_of = d(AS_OF);
        prop_assert_eq!(one_by_one.tier_history(as_of), batched.tier_history(as_of));
        prop_assert_eq!(one_by_one.alert_episodes(as_of), batched.alert_episodes(as_of));
    }

    #[test]
    fn walks_resumed_from_the_first_changed_day_equal_walks_from_the_start(
        (_, shuffled) in stream(),
        cuts in proptest::collection::vec(0usize..60, 0..5),
        ends in proptest::collection::vec(0i32..100, 5),
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(shuffled.len())).collect();
        cuts.push(shuffled.len());
        cuts.sort_unstable();
        let mut l = ledger_with(policy());
        let mut walks = Walks::default();
        let mut at = 0;
        for (k, cut) in cuts.into_iter().enumerate() {
            let changed = l.apply_all(&shuffled[at..cut]);
            at = cut;
            // Sometimes the clock stands still or goes back: the walk starts over then.
            let until = Date(20_454 + ends[k % ends.len()]);
            walks = l.resume(walks, changed.first().copied(), until);
            prop_assert_eq!(&walks, &l.walks(until));
            // The next day: the rollover walks one day.
            let next = Date(until.0 + 1);
            walks = l.resume(walks, None, next);
            prop_assert_eq!(&walks, &l.walks(next));
        }
    }

    #[test]
    fn window_sums_equal_a_naive_recomputation_from_raw_events((original, _) in stream(), end in 0i32..90, w in prop_oneof![Just(30u32), Just(90), Just(365)]) {
        let l = build(&original);
        let as_of = Date(20_454 + end);
        let from = Date(as_of.0 - w as i32 + 1);
        let in_window = |d: Date| d >= from && d <= as_of;
        let counted = |po: Option<&str>| po.and_then(|po| line_unit(&original, po)).is_none_or(|u| u == "pcs");
        // Naive: straight from the raw records: the latest record per business id, the
        // reversed receipts out, dated by posting date, units the policy does not count out.
        let inspections: Vec<_> = latest_of(original.iter().filter_map(|r| match r {
            Record::InspectionCompleted(i) => Some((i.inspection_id.as_str(), r, i, i.posting_date)),
            _ => None,
        }))
        .into_iter()
        .filter(|(_, date, _)| in_window(*date))
        .map(|(i, _, _)| i)
        .collect();
        let reversed: std::collections::BTreeSet<&str> = original.iter().filter_map(|r| match r {
            Record::GoodsReceiptReversed(v) => Some(v.receipt_id.as_str()),
            _ => None,
        }).collect();
        let receipts: Vec<_> = latest_of(original.iter().filter_map(|r| match r {
            Record::GoodsReceived(g) => Some((g.receipt_id.as_str(), r, g, g.posting_date)),
            _ => None,
        }))
        .into_iter()
        .filter(|(g, date, _)| in_window(*date) && !reversed.contains(g.receipt_id.as_str()) && counted(Some(&g.po_number)))
        .map(|(g, _, _)| g)
        .collect();
        let quality: Vec<_> = inspections.iter().filter(|i| counted(i.po_number.as_deref())).collect();
        let defect = l.window(Indicator::DefectPpm, as_of, w);
        prop_assert_eq!(defect.samples as usize, quality.len());
        // Exact sums: equal to math.fsum of the raw terms, bit for bit.
        prop_assert_eq!(defect.numerator(), fsum(quality.iter().map(|i| i.defective_quantity)));
        prop_assert_eq!(defect.denominator(), fsum(quality.iter().map(|i| i.inspected_quantity)));
        let critical = l.window(Indicator::CriticalDefects, as_of, w);
        prop_assert_eq!(critical.samples as usize, inspections.len());
        prop_assert_eq!(critical.numerator(), inspections.iter().map(|i| f64::from(i.critical_defects)).sum::<f64>());
        let returns = l.window(Indicator::ReturnRatePpm, as_of, w);
        prop_assert_eq!(returns.samples as usize, receipts.len());
        prop_assert_eq!(returns.denominator(), fsum(receipts.iter().map(|g| g.quantity)));
        // The objects' terms (what `tierline reconcile` compares) add up to the buckets.
        let terms = l.object_terms();
        for i in RECONCILED {
            for day in from.0..=as_of.0 {
                let of_day: Vec<_> = terms.iter().filter(|t| t.indicator == i && t.date == Date(day)).collect();
                let bucket = l.day(i, Date(day));
                let returns_numerator = i == Indicator::ReturnRatePpm;
                if !returns_numerator {
                    prop_assert_eq!(bucket.numerator(), fsum(of_day.iter().map(|t| t.numerator)));
                }
                prop_assert_eq!(bucket.denominator(), fsum(of_day.iter().map(|t| t.denominator)));
            }
        }
        // The walks' flat day arrays agree with the ledger's own window sums, bit for bit.
        for t in l.tier_history(as_of) {
            prop_assert_eq!(t.score, l.tier_composite(t.date));
        }
        for e in l.alert_episodes(as_of) {
            let i = Indicator::from_name(&e.rule).unwrap();
            let v = indicator_value(l.policy(), i, &l.window(i, e.started_on, e.window_days)).value;
            prop_assert_eq!(v, Some(e.value_at_start));
        }
        // And a window indicator's window is the sum of its days.
        for i in Indicator::FIXED.into_iter().filter(|i| i.kind() == Kind::Window) {
            let mut by_day = Agg::default();
            for day in from.0..=as_of.0 {
                let a = l.day(i, Date(day));
                by_day.add(&a);
            }
            prop_assert_eq!(l.window(i, as_of, w), by_day);
        }
    }
}
