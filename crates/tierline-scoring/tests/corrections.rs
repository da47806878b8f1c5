//! Hand-worked corrections (docs/scoring.md "Corrections"): a receipt and an inspection
//! count once, in their latest form; a reversal voids a receipt for every date, in any
//! arrival order; a posting date is the record's date; `countable_units` leaves other
//! units out of the quantity indicators.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use common::*;
use tierline_events::{Date, Disposition, Record};
use tierline_scoring::*;

/// Receipt `id` on line `po`/1.
fn receipt(id: &str, po: &str, at: &str, qty: f64, posting: Option<&str>) -> Record {
    let mut r = received(po, at, qty);
    if let Record::GoodsReceived(g) = &mut r {
        g.receipt_id = id.into();
        g.posting_date = posting.map(d);
    }
    r
}

/// Inspection `id`, naming line `po`/1 when given.
fn inspected(
    id: &str,
    at: &str,
    defective: f64,
    po: Option<&str>,
    posting: Option<&str>,
) -> Record {
    let mut r = inspection(at, 100.0, defective, 0, Disposition::Accepted);
    if let Record::InspectionCompleted(i) = &mut r {
        i.inspection_id = id.into();
        i.po_number = po.map(Into::into);
        i.line_number = po.map(|_| 1);
        i.posting_date = posting.map(d);
        if defective > 5.0 {
            i.disposition = Disposition::Rejected;
        }
    }
    r
}

/// Every non-empty (indicator, day) total, as (numerator, denominator, samples).
fn totals(l: &SupplierLedger) -> Vec<(Indicator, Date, f64, f64, u64)> {
    l.daily_totals()
        .map(|(i, day, a)| (i, day, a.numerator(), a.denominator(), a.samples))
        .collect()
}

/// The same totals whichever order the records arrive in (forwards, backwards).
fn settled(records: &[Record]) -> SupplierLedger {
    let mut forwards = ledger();
    apply_all(&mut forwards, records);
    let mut backwards = ledger();
    for r in records.iter().rev() {
        backwards.apply(r);
    }
    assert_eq!(totals(&forwards), totals(&backwards));
    forwards
}

fn of(l: &SupplierLedger, i: Indicator) -> Vec<(Date, f64, f64, u64)> {
    totals(l)
        .into_iter()
        .filter(|t| t.0 == i)
        .map(|(_, day, n, den, s)| (day, n, den, s))
        .collect()
}

#[test]
fn an_amended_receipt_counts_once_in_its_latest_form() {
    // 100 ordered, due 2026-01-20. GR-1 first posted on the 19th for 50, re-posted on
    // the 21st for 100 (the correction is the later record): one receipt of 100 on the
    // 21st, one day late; the line is not on time.
    let l = settled(&[
        placed("A", "2026-01-02", 100.0, "2026-01-20", None),
        receipt("GR-1", "A", "2026-01-19", 50.0, None),
        receipt("GR-1", "A", "2026-01-21", 100.0, None),
    ]);
    assert_eq!(
        of(&l, Indicator::OtifRate),
        [(d("2026-01-20"), 0.0, 1.0, 1)]
    );
    assert_eq!(
        of(&l, Indicator::AvgDaysLate),
        [(d("2026-01-21"), 100.0, 100.0, 1)]
    );
    assert_eq!(
        of(&l, Indicator::ReturnRatePpm),
        [(d("2026-01-21"), 0.0, 100.0, 1)]
    );
    // A correction that moves the receipt to another line leaves the first one.
    let l = settled(&[
        placed("A", "2026-01-02", 100.0, "2026-01-20", None),
        placed("B", "2026-01-02", 100.0, "2026-01-20", None),
        receipt("GR-1", "A", "2026-01-19", 100.0, None),
        receipt("GR-1", "B", "2026-01-19T18:00", 100.0, None),
    ]);
    assert_eq!(
        of(&l, Indicator::OtifRate),
        [(d("2026-01-20"), 1.0, 2.0, 2)],
        "B on time, A not"
    );
}

#[test]
fn a_reversal_voids_its_receipt_for_every_date_in_any_order() {
    let base = [
        placed("A", "2026-01-02", 100.0, "2026-01-20", None),
        receipt("GR-1", "A", "2026-01-19", 100.0, None),
        receipt("GR-2", "A", "2026-01-19", 30.0, None),
    ];
    let mut records = base.to_vec();
    records.push(reversed("GR-1", "2026-01-25"));
    let l = settled(&records);
    // Only GR-2's 30 remain, on every date: the line was never in full.
    assert_eq!(
        of(&l, Indicator::OtifRate),
        [(d("2026-01-20"), 0.0, 1.0, 1)]
    );
    assert_eq!(
        of(&l, Indicator::ReturnRatePpm),
        [(d("2026-01-19"), 0.0, 30.0, 1)]
    );
    // A reversal before its receipt, and a record of the receipt dated after the
    // reversal: still void (clarification 44).
    let l = settled(&[
        reversed("GR-1", "2026-01-10"),
        placed("A", "2026-01-02", 100.0, "2026-01-20", None),
        receipt("GR-1", "A", "2026-01-19", 100.0, None),
        receipt("GR-1", "A", "2026-01-26", 100.0, None),
    ]);
    assert!(of(&l, Indicator::ReturnRatePpm).is_empty());
    assert!(of(&l, Indicator::AvgDaysLate).is_empty());
    assert_eq!(
        of(&l, Indicator::OtifRate),
        [(d("2026-01-20"), 0.0, 1.0, 1)]
    );
}

#[test]
fn an_amended_inspection_counts_once_in_its_latest_form() {
    let l = settled(&[
        inspected("IN-1", "2026-02-01", 10.0, None, None),
        inspected("IN-1", "2026-02-03", 1.0, None, None),
        inspected("IN-2", "2026-02-01", 2.0, None, None),
    ]);
    // IN-1 counts on the 3rd with 1 defective (accepted), IN-2 on the 1st.
    assert_eq!(
        of(&l, Indicator::DefectPpm),
        [
            (d("2026-02-01"), 2.0, 100.0, 1),
            (d("2026-02-03"), 1.0, 100.0, 1)
        ]
    );
    assert_eq!(
        of(&l, Indicator::LotAcceptanceRate),
        [
            (d("2026-02-01"), 1.0, 1.0, 1),
            (d("2026-02-03"), 1.0, 1.0, 1)
        ]
    );
}

#[test]
fn a_posting_date_is_the_records_date() {
    // Received at 02:00 UTC on the 21st, posted by the plant on the 20th: on time.
    let l = settled(&[
        placed("A", "2026-01-02", 100.0, "2026-01-20", None),
        receipt("GR-1", "A", "2026-01-21T02:00", 100.0, Some("2026-01-20")),
        inspected(
            "IN-1",
            "2026-01-21T02:30",
            3.0,
            Some("A"),
            Some("2026-01-20"),
        ),
    ]);
    assert_eq!(
        of(&l, Indicator::OtifRate),
        [(d("2026-01-20"), 1.0, 1.0, 1)]
    );
    assert_eq!(
        of(&l, Indicator::ReturnRatePpm),
        [(d("2026-01-20"), 0.0, 100.0, 1)]
    );
    assert_eq!(
        of(&l, Indicator::DefectPpm),
        [(d("2026-01-20"), 3.0, 100.0, 1)]
    );
    // A posting date before every occurred_at is the supplier's first day.
    let l = settled(&[
        receipt("GR-9", "Z", "2026-03-02T01:00", 5.0, Some("2026-02-27")),
        inspected("IN-9", "2026-03-03", 0.0, None, None),
    ]);
    assert_eq!(l.first_day(), Some(d("2026-02-27")));
}

#[test]
fn countable_units_leave_other_units_out_of_the_quantity_indicators() {
    let policy = Policy {
        countable_units: Some(vec!["m".into()]),
        ..Policy::default()
    };
    // Line A is in pcs (not counted), line B unknown (counted).
    let records = [
        inspected("IN-A", "2026-01-19", 3.0, Some("A"), None),
        inspected("IN-B", "2026-01-19", 4.0, Some("B"), None),
        inspected("IN-X", "2026-01-19", 1.0, None, None),
        receipt("GR-A", "A", "2026-01-21", 100.0, None),
        receipt("GR-B", "B", "2026-01-21", 40.0, None),
        placed("A", "2026-01-02", 100.0, "2026-01-20", None),
    ];
    // The placement arrives last: the inspection and receipt of line A leave then.
    let mut l = ledger_with(policy.clone());
    for r in &records {
        l.apply(r);
    }
    let mut all_at_once = ledger_with(policy);
    apply_all(&mut all_at_once, &records);
    assert_eq!(totals(&l), totals(&all_at_once));
    assert_eq!(
        of(&l, Indicator::DefectPpm),
        [(d("2026-01-19"), 5.0, 200.0, 2)],
        "IN-B and IN-X"
    );
    // Lot acceptance is not a quantity: all three inspections.
    assert_eq!(
        of(&l, Indicator::LotAcceptanceRate),
        [(d("2026-01-19"), 3.0, 3.0, 3)]
    );
    assert_eq!(
        of(&l, Indicator::ReturnRatePpm),
        [(d("2026-01-21"), 0.0, 40.0, 1)],
        "GR-B only"
    );
    assert!(
        of(&l, Indicator::AvgDaysLate).is_empty(),
        "B has no placement, A is in pcs"
    );
    // OTIF counts lines, whatever their unit.
    assert_eq!(
        of(&l, Indicator::OtifRate),
        [(d("2026-01-20"), 0.0, 1.0, 1)]
    );
}
