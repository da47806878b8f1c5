//! Hand-worked examples for every indicator, the due-date rule, hysteresis at both
//! edges, and an alert opening, staying open inside its margin, and closing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use common::*;
use tierline_events::{CancelledBy, CaseKind, Disposition, Record};
use tierline_scoring::*;

/// The day the line's OTIF sample is attributed to (its due date + grace).
fn otif_day(l: &SupplierLedger) -> Vec<tierline_events::Date> {
    l.daily_totals()
        .filter(|(i, _, a)| *i == Indicator::OtifRate && a.denominator() > 0.0)
        .map(|(_, d, _)| d)
        .collect()
}

#[test]
fn due_date_requested_promised_confirmed_and_changed() {
    // No promise: the requested date.
    let mut l = ledger();
    l.apply(&placed("A", "2026-01-02", 10.0, "2026-01-20", None));
    assert_eq!(otif_day(&l), [d("2026-01-20")]);
    // A promise at placement wins over the requested date.
    let mut l = ledger();
    l.apply(&placed(
        "A",
        "2026-01-02",
        10.0,
        "2026-01-20",
        Some("2026-01-18"),
    ));
    assert_eq!(otif_day(&l), [d("2026-01-18")]);
    // Confirmations: the first promise counts; a later re-confirmation cannot move it.
    let mut l = ledger();
    apply_all(
        &mut l,
        &[
            placed("A", "2026-01-02", 10.0, "2026-01-20", None),
            confirmed("A", "2026-01-03", "2026-01-25"),
            confirmed("A", "2026-01-10", "2026-02-10"),
        ],
    );
    assert_eq!(otif_day(&l), [d("2026-01-25")]);
    // The size of the promised dates plays no part: an earlier promise made later still loses.
    let mut l = ledger();
    apply_all(
        &mut l,
        &[
            placed("A", "2026-01-02", 10.0, "2026-01-20", Some("2026-01-28")),
            confirmed("A", "2026-01-03", "2026-01-15"),
        ],
    );
    assert_eq!(otif_day(&l), [d("2026-01-28")]);
    // A buyer change of the requested date resets: promises before it no longer count...
    let mut l = ledger();
    apply_all(
        &mut l,
        &[
            placed("A", "2026-01-02", 10.0, "2026-01-20", Some("2026-01-18")),
            confirmed("A", "2026-01-03", "2026-01-25"),
            changed("A", "2026-01-05", Some("2026-02-05"), None),
        ],
    );
    assert_eq!(otif_day(&l), [d("2026-02-05")]);
    // ...and the first promise made at or after the change is the due date.
    l.apply(&confirmed("A", "2026-01-06", "2026-02-07"));
    l.apply(&confirmed("A", "2026-01-07", "2026-02-20"));
    assert_eq!(otif_day(&l), [d("2026-02-07")]);
    // A quantity-only change does not reset the promises.
    l.apply(&changed("A", "2026-01-08", None, Some(12.0)));
    assert_eq!(otif_day(&l), [d("2026-02-07")]);
    // Grace days move the attribution.
    let mut l = ledger_with(Policy {
        grace_days: 2,
        ..Policy::default()
    });
    l.apply(&placed("A", "2026-01-02", 10.0, "2026-01-20", None));
    assert_eq!(otif_day(&l), [d("2026-01-22")]);
}

#[test]
fn otif_in_full_with_tolerance_and_late_receipts() {
    let due = d("2026-01-20");
    let case = |receipts: &[(&str, f64)], change: Option<f64>| {
        let mut l = ledger();
        l.apply(&placed("A", "2026-01-02", 100.0, "2026-01-20", None));
        if let Some(q) = change {
            l.apply(&changed("A", "2026-01-04", None, Some(q)));
        }
        for (at, q) in receipts {
            l.apply(&received("A", at, *q));
        }
        l.day(Indicator::OtifRate, due)
    };
    // 98 of 100 by the due date: in full within the 2% tolerance.
    assert_eq!(
        case(&[("2026-01-19", 50.0), ("2026-01-20T23:59", 48.0)], None).numerator(),
        1.0
    );
    // 97.9: not in full.
    assert_eq!(case(&[("2026-01-19", 97.9)], None).numerator(), 0.0);
    // Everything, but a day late: not on time.
    assert_eq!(case(&[("2026-01-21T00:00", 100.0)], None).numerator(), 0.0);
    // The ordered quantity is the latest change's.
    assert_eq!(case(&[("2026-01-19", 60.0)], Some(60.0)).numerator(), 1.0);
    assert_eq!(case(&[("2026-01-19", 60.0)], None), Agg::term(0.0, 1.0, 1));
}

#[test]
fn cancelled_lines_leave_delivery_but_count_elsewhere() {
    let mut l = ledger();
    apply_all(
        &mut l,
        &[
            priced("A", "2026-01-02T08:00", 10.0, 11.0, 10.0),
            confirmed("A", "2026-01-03T08:00", "2026-01-20"),
            received("A", "2026-01-25", 10.0),
            cancelled("A", "2026-01-26", CancelledBy::Supplier),
        ],
    );
    let sc = l.scorecard(d("2026-01-31"), 30);
    let v = |i: Indicator| sc.indicators[&i];
    assert_eq!(
        (
            v(Indicator::OtifRate).denominator,
            v(Indicator::AvgDaysLate).denominator
        ),
        (0.0, 0.0)
    );
    assert_eq!(v(Indicator::PriceVariancePct).denominator, 100.0);
    assert_eq!(v(Indicator::ConfirmationHours).numerator, 24.0);
    assert_eq!(
        (
            v(Indicator::SupplierCancellationRate).numerator,
            v(Indicator::SupplierCancellationRate).denominator
        ),
        (1.0, 1.0)
    );
    assert_eq!(
        v(Indicator::ReturnRatePpm).denominator,
        10.0,
        "its receipts still count in the return-rate denominator"
    );
}

#[test]
fn avg_days_late_weights_days_by_quantity() {
    let mut l = ledger();
    apply_all(
        &mut l,
        &[
            placed("A", "2026-01-02", 40.0, "2026-01-20", None),
            received("A", "2026-01-18", 30.0),
            received("A", "2026-01-23", 10.0),
        ],
    );
    let a = l.window(Indicator::AvgDaysLate, d("2026-01-31"), 30);
    assert_eq!((a.numerator(), a.denominator(), a.samples), (30.0, 40.0, 2));
    // Five samples make it sufficient: 30 / 40 = 0.75 days.
    for n in 0..3 {
        l.apply(&received("A", &format!("2026-01-1{n}"), 0.0001));
    }
    let v = l.scorecard(d("2026-01-31"), 30).indicators[&Indicator::AvgDaysLate];
    assert_eq!(v.samples, 5);
    // Sums are exact (math.fsum), whatever the order of the terms.
    let den = fsum([30.0, 0.0001, 10.0, 0.0001, 0.0001]);
    assert_ne!(
        den,
        0.0001 + 0.0001 + 0.0001 + 30.0 + 10.0,
        "a plain sum rounds differently"
    );
    assert_eq!(v.value, Some(30.0 / den));
}

#[test]
fn quality_indicators_from_inspections() {
    let mut l = ledger();
    apply_all(
        &mut l,
        &[
            inspection("2026-02-01", 1000.0, 5.0, 0, Disposition::Accepted),
            inspection(
                "2026-02-02",
                1000.0,
                15.0,
                1,
                Disposition::ConditionallyAccepted,
            ),
            inspection("2026-02-03", 500.0, 0.0, 0, Disposition::Accepted),
            inspection("2026-02-04", 500.0, 50.0, 2, Disposition::Rejected),
            inspection("2026-02-05", 1000.0, 0.0, 0, Disposition::Accepted),
        ],
    );
    let sc = l.scorecard(d("2026-02-10"), 30);
    let defect = sc.indicators[&Indicator::DefectPpm];
    assert_eq!(
        (defect.numerator, defect.denominator, defect.samples),
        (70.0, 4000.0, 5)
    );
    assert_eq!(defect.value, Some(70.0 / 4000.0 * 1e6)); // 17,500 ppm
    assert_eq!(
        defect.subscore,
        Some(0.0),
        "worse than worst (10,000) clamps to 0"
    );
    let lot = sc.indicators[&Indicator::LotAcceptanceRate];
    assert_eq!(lot.value, Some(3.5 / 5.0));
    let critical = sc.indicators[&Indicator::CriticalDefects];
    assert_eq!((critical.value, critical.subscore), (Some(3.0), None));
    // Only an empty window makes the count insufficient; a window of zeros is 0.
    let empty = l.scorecard(d("2026-06-30"), 30).indicators[&Indicator::CriticalDefects];
    assert_eq!(empty.value, None);
    let mut quiet = ledger();
    quiet.apply(&inspection(
        "2026-02-01",
        10.0,
        0.0,
        0,
        Disposition::Accepted,
    ));
    assert_eq!(
        quiet.scorecard(d("2026-02-01"), 30).indicators[&Indicator::CriticalDefects].value,
        Some(0.0)
    );
}

#[test]
fn return_rate_and_case_resolution() {
    let mut l = ledger();
    apply_all(
        &mut l,
        &[
            // Receipts count in the denominator even for lines never placed.
            received("NOPE", "2026-03-01", 4000.0),
            received("NOPE2", "2026-03-02", 6000.0),
            // Attributable return: numerator on its opened date.
            opened("C1", "2026-03-03T00:00", CaseKind::Return, 30.0, true),
            // Opened attributable, resolved not: the resolution decides.
            opened("C2", "2026-03-04", CaseKind::WarrantyClaim, 500.0, true),
            resolved("C2", "2026-03-06", false),
            // A complaint never counts in the return rate.
            opened("C3", "2026-03-05T00:00", CaseKind::Complaint, 99.0, true),
            resolved("C3", "2026-03-06T12:00", true),
            // Opened not attributable, resolved attributable: it counts.
            opened("C4", "2026-03-05", CaseKind::Return, 20.0, false),
            resolved("C4", "2026-03-07", true),
            // A resolution without an opening is ignored.
            resolved("C9", "2026-03-07", true),
        ],
    );
    let rr = l.window(Indicator::ReturnRatePpm, d("2026-03-30"), 30);
    assert_eq!(
        (rr.numerator(), rr.denominator(), rr.samples),
        (50.0, 10000.0, 2)
    );
    let crd = l.window(Indicator::CaseResolutionDays, d("2026-03-31"), 30);
    // C3: 1.5 days; C4: 2 days (12:00 to 12:00). C2 is not attributable.
    assert_eq!(
        (crd.numerator(), crd.denominator(), crd.samples),
        (1.5 + 2.0, 2.0, 2)
    );
    assert_eq!(
        l.day(Indicator::CaseResolutionDays, d("2026-03-06"))
            .numerator(),
        1.5,
        "attributed to the resolution date"
    );
}

#[test]
fn price_variance_confirmation_hours_and_cancellations() {
    let mut l = ledger();
    apply_all(
        &mut l,
        &[
            priced("A", "2026-04-01T08:00", 1200.0, 3.85, 3.70),
            priced("B", "2026-04-02T08:00", 100.0, 9.0, 10.0),
            // Changes do not affect the price-variance quantity.
            changed("B", "2026-04-03", None, Some(5000.0)),
            confirmed("A", "2026-04-02T20:00", "2026-05-01"),
            confirmed("A", "2026-04-03T20:00", "2026-05-02"),
            // A confirmation stamped before the placement counts as 0 hours.
            confirmed("B", "2026-04-02T07:00", "2026-05-01"),
            cancelled("B", "2026-04-10", CancelledBy::Buyer),
            cancelled("B", "2026-04-11", CancelledBy::Supplier),
        ],
    );
    let pv = l.window(Indicator::PriceVariancePct, d("2026-04-30"), 30);
    assert_eq!(
        pv.numerator(),
        (3.85 - 3.70) * 1200.0 + (9.0 - 10.0) * 100.0
    );
    assert_eq!(pv.denominator(), 3.70 * 1200.0 + 10.0 * 100.0);
    let ch = l.window(Indicator::ConfirmationHours, d("2026-04-30"), 30);
    assert_eq!((ch.numerator(), ch.denominator()), (36.0, 2.0));
    let cr = l.window(Indicator::SupplierCancellationRate, d("2026-04-30"), 30);
    assert_eq!(
        (cr.numerator(), cr.denominator(), cr.samples),
        (0.0, 2.0, 2),
        "the earliest cancellation (by the buyer) counts"
    );
}

#[test]
fn min_samples_subscores_dimensions_and_coverage() {
    // The v1 weights of docs/scoring.md (under v2, 0.30 + 0.10 + 0.05 = 0.45 < 0.5).
    let mut l = ledger_with(Policy::v1());
    // Delivery: 5 lines due, nothing received (OTIF 0; avg_days_late has no samples);
    // cost: 5 priced lines; responsiveness: 5 placements. No receipts: no service.
    for n in 0..5 {
        let po = format!("P{n}");
        l.apply(&priced(&po, "2026-05-01", 10.0, 10.2, 10.0));
        l.apply(&changed(&po, "2026-05-01T13:00", Some("2026-05-10"), None));
    }
    let sc = l.scorecard(d("2026-05-31"), 90);
    assert_eq!(sc.indicators[&Indicator::OtifRate].value, Some(0.0));
    assert_eq!(sc.indicators[&Indicator::OtifRate].subscore, Some(0.0));
    assert_eq!(sc.indicators[&Indicator::AvgDaysLate].value, None);
    let pv = sc.indicators[&Indicator::PriceVariancePct];
    let line = (10.2 - 10.0) * 10.0;
    let expected_pv = fsum([line; 5]) / fsum([100.0; 5]) * 100.0;
    assert_eq!(pv.value, Some(expected_pv));
    assert_eq!(
        pv.subscore,
        Some(100.0 * ((expected_pv - 10.0) / (-2.0 - 10.0)))
    );
    // Dimensions with sufficient indicators: delivery, cost, responsiveness.
    assert_eq!(sc.dimensions[&Dimension::Quality], None);
    assert_eq!(sc.dimensions[&Dimension::Service], None);
    assert_eq!(
        sc.dimensions[&Dimension::Delivery],
        Some(0.0),
        "weights renormalised over otif_rate alone"
    );
    // 0.35 + 0.10 + 0.05 is 0.49999999999999994 added left to right; the exact sum
    // rounds to 0.5 (the 1e-9 tolerance stays for other weights).
    assert_eq!(sc.coverage, fsum([0.35, 0.10, 0.05]));
    assert_eq!(sc.coverage, 0.5);
    assert!(sc.composite.is_some());
    // With four samples the cost dimension is insufficient: coverage 0.40, UNRATED.
    let mut few = ledger_with(Policy::v1());
    for n in 0..4 {
        few.apply(&priced(&format!("P{n}"), "2026-05-01", 10.0, 10.2, 10.0));
    }
    let sc = few.scorecard(d("2026-05-31"), 90);
    assert_eq!(sc.indicators[&Indicator::PriceVariancePct].value, None);
    assert_eq!(sc.composite, None);
}

#[test]
fn hysteresis_at_both_edges() {
    let p = Policy::default();
    let key = Some(Tier::Key);
    // Up: KEY needs s - 2.5 >= 85.
    assert_eq!(Tier::next(&p, key, Some(87.4)), Tier::Key);
    assert_eq!(Tier::next(&p, key, Some(87.5)), Tier::Strategic);
    // Down: KEY falls when s + 2.5 < 65.
    assert_eq!(Tier::next(&p, key, Some(62.5)), Tier::Key);
    assert_eq!(Tier::next(&p, key, Some(62.49)), Tier::Reserve);
    // Two bounds at once.
    assert_eq!(Tier::next(&p, key, Some(10.0)), Tier::AtRisk);
    // The first day and after UNRATED: raw(s), no margin.
    assert_eq!(Tier::next(&p, None, Some(85.0)), Tier::Strategic);
    assert_eq!(
        Tier::next(&p, Some(Tier::Unrated), Some(64.99)),
        Tier::Reserve
    );
    assert_eq!(Tier::next(&p, key, None), Tier::Unrated);
    assert_eq!(Tier::raw(&p, -5.0), Tier::AtRisk);
}

#[test]
fn tier_walk_starts_on_the_first_day() {
    let mut l = ledger();
    for n in 0..5 {
        let po = format!("P{n}");
        l.apply(&priced(&po, "2026-05-01", 10.0, 10.0, 10.0));
        l.apply(&changed(&po, "2026-05-01T13:00", Some("2026-05-10"), None));
        l.apply(&received(&po, "2026-05-09", 10.0));
    }
    let h = l.tier_history(d("2026-05-12"));
    assert_eq!(h.first().map(|t| t.date), Some(d("2026-05-01")));
    assert_eq!(h.len(), 12);
    // Before the due date OTIF has no samples: delivery is only avg_days_late... which
    // needs its 5 receipts (May 9). Coverage is cost + responsiveness = 0.15: UNRATED.
    assert_eq!(h[0].tier, Tier::Unrated);
    let on_9th = h.iter().find(|t| t.date == d("2026-05-09")).unwrap();
    assert_eq!(on_9th.tier, Tier::raw(l.policy(), on_9th.score.unwrap()));
    assert_eq!(l.tier_on(d("2026-04-01")), Tier::Unrated);
    // Walks that end before the first day are empty, not a panic.
    assert!(l.tier_history(d("2026-04-01")).is_empty());
    assert!(l.alert_episodes(d("2020-01-01")).is_empty());
}

#[test]
fn an_alert_opens_stays_open_inside_its_margin_and_closes() {
    let mut l = ledger();
    // Day 1: 10 lines due, 8 on time: otif 0.80 < 0.90 opens WARNING (CRITICAL needs < 0.80).
    for n in 0..10 {
        let po = format!("A{n}");
        l.apply(&placed(&po, "2026-06-01", 10.0, "2026-06-10", None));
        if n < 8 {
            l.apply(&received(&po, "2026-06-09", 10.0));
        }
    }
    // Day 2: 1 more line, on time: 9/11 = 0.818..., still open.
    l.apply(&placed("B0", "2026-06-01", 10.0, "2026-06-11", None));
    l.apply(&received("B0", "2026-06-11", 10.0));
    // Day 3: 12 more on time: 21/23 = 0.913 >= 0.90 but < 0.92: inside the margin, still open.
    for n in 0..12 {
        let po = format!("C{n}");
        l.apply(&placed(&po, "2026-06-01", 10.0, "2026-06-12", None));
        l.apply(&received(&po, "2026-06-12", 10.0));
    }
    // Day 4: 2 more on time: 23/25 = 0.92: cleared by the margin, closed.
    for n in 0..2 {
        let po = format!("D{n}");
        l.apply(&placed(&po, "2026-06-01", 10.0, "2026-06-13", None));
        l.apply(&received(&po, "2026-06-13", 10.0));
    }
    let episodes: Vec<_> = l
        .alert_episodes(d("2026-06-20"))
        .into_iter()
        .filter(|e| e.rule == "otif_rate")
        .collect();
    assert_eq!(episodes.len(), 1, "{episodes:?}");
    let e = &episodes[0];
    assert_eq!(
        (e.level, e.started_on, e.ended_on),
        (Level::Warning, d("2026-06-10"), Some(d("2026-06-13")))
    );
    assert_eq!(e.value_at_start, 0.8);
    assert_eq!(e.value_at_end, Some(23.0 / 25.0));
    assert_eq!(e.threshold, 0.9);
    assert_eq!(
        e.alert_id,
        alert_id(SUP, "otif_rate", Level::Warning, d("2026-06-10"))
    );
}

#[test]
fn critical_defects_alerts_and_deterministic_ids() {
    let mut l = ledger();
    l.apply(&inspection(
        "2026-07-01",
        10.0,
        1.0,
        1,
        Disposition::Accepted,
    ));
    l.apply(&inspection(
        "2026-07-05",
        10.0,
        0.0,
        0,
        Disposition::Accepted,
    ));
    let eps = l.alert_episodes(d("2026-08-15"));
    let cd: Vec<_> = eps
        .iter()
        .filter(|e| e.rule == "critical_defects")
        .collect();
    // One critical defect: WARNING (> 0), not CRITICAL (> 2); the window forgets it after 30 days.
    assert_eq!(cd.len(), 1);
    assert_eq!(
        (cd[0].level, cd[0].started_on, cd[0].ended_on),
        (Level::Warning, d("2026-07-01"), Some(d("2026-07-31")))
    );
    // The ids are UUIDv5 as Python's uuid.uuid5 computes them (values computed there).
    assert_eq!(
        alert_id(SUP, "otif_rate", Level::Warning, d("2026-03-01")).to_string(),
        "98dc7e3c-1c01-5170-9d66-354a8fe06162"
    );
    assert_eq!(
        tier_change_id(SUP, Tier::Key, d("2026-03-01")).to_string(),
        "ba6958c0-701f-5efd-bc6e-da232a5a4066"
    );
}

#[test]
fn events_of_other_suppliers_duplicates_and_alert_records_are_ignored() {
    let mut l = ledger();
    let e = received("A", "2026-01-05", 5.0);
    assert!(!l.apply(&e).is_empty());
    assert!(l.apply(&e).is_empty(), "an exact duplicate changes nothing");
    let mut other = received("A", "2026-01-05", 5.0);
    if let tierline_events::Record::GoodsReceived(g) = &mut other {
        g.supplier_id = "SUP-2".into();
    }
    assert!(l.apply(&other).is_empty());
    assert!(l.apply(&tierline_events::sample::alert_raised()).is_empty());
    assert_eq!(l.event_count(), 1);
}

/// Every permutation of `items`.
fn permutations(items: &[f64]) -> Vec<Vec<f64>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first);
            out.push(p);
        }
    }
    out
}

#[test]
fn defect_ppm_at_the_threshold_is_5000_and_raises_nothing_in_any_order() {
    // 0.0185 defective units in 3.7 inspected: exactly at the 5000 ppm WARNING threshold.
    // Added left to right, the inspected quantities give 3.6999999999999993 (5000.000000000001
    // ppm, a WARNING) in some orders and 3.7 (4999.999999999999) in others.
    let inspected = [0.6, 0.3, 1.7, 0.4, 0.7];
    let mut plain_results = std::collections::BTreeSet::new();
    for order in permutations(&inspected) {
        let plain = order.iter().fold(0.0, |s, q| s + q);
        plain_results.insert((0.0185 / plain * 1e6).to_bits());
        let events: Vec<Record> = order
            .iter()
            .enumerate()
            .map(|(k, q)| {
                let defective = if *q == 1.7 { 0.0185 } else { 0.0 };
                let at = format!("2026-03-0{}", k + 1);
                inspection(&at, *q, defective, 0, Disposition::Accepted)
            })
            .collect();
        // Delivered in reverse, so arrival order differs from business order too.
        let mut l = ledger();
        apply_all(&mut l, &events.iter().rev().cloned().collect::<Vec<_>>());
        let v = l.scorecard(d("2026-03-10"), 30).indicators[&Indicator::DefectPpm];
        assert_eq!(v.value, Some(5000.0), "order {order:?}");
        assert_eq!(v.denominator, fsum(inspected));
        assert!(
            l.alert_episodes(d("2026-03-10"))
                .iter()
                .all(|e| e.rule != "defect_ppm"),
            "order {order:?} raised a defect_ppm alert"
        );
    }
    // The example is meaningful: plain sums land on both sides of the threshold.
    assert!(plain_results.contains(&5000.000000000001f64.to_bits()));
    assert!(plain_results.contains(&4999.999999999999f64.to_bits()));
}
