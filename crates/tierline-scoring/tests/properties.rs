//! Properties: the same events in any order, with any duplicates, give identical
//! results (bit for bit); window sums equal a naive recomputation from raw events.
//! The streams carry the ERP's corrections: receipts and inspections re-posted under
//! their business ids, reversals (before or after their receipts), posting dates, and
//! two units of which the policy counts one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use common::*;
use proptest::prelude::*;
use tierline_events::{
    AssessmentKind, CancelledBy, CaseKind, CertificateStatus, Date, Disposition, Record,
    ViolationSeverity,
};
use tierline_scoring::*;

#[derive(Debug, Clone)]
enum Spec {
    Placed {
        po: u8,
        day: u8,
        qty: u16,
        req: u8,
        promise: Option<u8>,
        price: u8,
    },
    Confirmed {
        po: u8,
        day: u8,
        promise: u8,
    },
    Changed {
        po: u8,
        day: u8,
        req: Option<u8>,
        qty: Option<u16>,
    },
    Cancelled {
        po: u8,
        day: u8,
        supplier: bool,
    },
    Received {
        po: u8,
        day: u8,
        qty: u16,
        /// Receipt id: a few, so that receipts are re-posted.
        id: u8,
        /// Posting date, days from the day of `occurred_at`.
        posting: Option<i8>,
    },
    Reversed {
        id: u8,
        day: u8,
    },
    Inspected {
        id: u8,
        po: Option<u8>,
        posting: Option<i8>,
        day: u8,
        inspected: u16,
        defective: u16,
        critical: u8,
        disposition: u8,
    },
    Opened {
        case: u8,
        day: u8,
        kind: u8,
        qty: u16,
        attributable: bool,
    },
    Resolved {
        case: u8,
        day: u8,
        attributable: bool,
    },
    Assessed {
        id: u8,
        day: u8,
        kind: u8,
        scores: [Option<u8>; 3],
        valid: Option<u8>,
    },
    AssessmentRetracted {
        id: u8,
        day: u8,
    },
    Certificate {
        id: u8,
        day: u8,
        standard: u8,
        status: u8,
        from: u8,
        len: u8,
    },
    Violation {
        id: u8,
        day: u8,
        severity: u8,
    },
    ViolationRetracted {
        id: u8,
        day: u8,
    },
    Risk {
        id: u8,
        day: u8,
        score: u8,
        len: u8,
    },
}

fn day(n: u8) -> String {
    let d = Date(20_454 + i32::from(n)); // 2026-01-01 + n
    format!("{d}T{:02}:{:02}", n % 24, (n as u32 * 7) % 60)
}

fn date(n: u8) -> String {
    Date(20_454 + i32::from(n)).to_string()
}

fn spec() -> impl Strategy<Value = Spec> {
    let po = 0u8..6;
    let d = 0u8..80;
    prop_oneof![
        (
            po.clone(),
            d.clone(),
            1u16..200,
            0u8..90,
            proptest::option::of(0u8..90),
            1u8..50
        )
            .prop_map(|(po, day, qty, req, promise, price)| Spec::Placed {
                po,
                day,
                qty,
                req,
                promise,
                price
            }),
        (po.clone(), d.clone(), 0u8..90).prop_map(|(po, day, promise)| Spec::Confirmed {
            po,
            day,
            promise
        }),
        (
            po.clone(),
            d.clone(),
            proptest::option::of(0u8..90),
            proptest::option::of(1u16..200)
        )
            .prop_map(|(po, day, req, qty)| Spec::Changed { po, day, req, qty }),
        (po.clone(), d.clone(), any::<bool>()).prop_map(|(po, day, supplier)| Spec::Cancelled {
            po,
            day,
            supplier
        }),
        (
            po.clone(),
            d.clone(),
            1u16..200,
            0u8..12,
            proptest::option::of(-1i8..=1)
        )
            .prop_map(|(po, day, qty, id, posting)| Spec::Received {
                po,
                day,
                qty,
                id,
                posting
            }),
        (0u8..12, d.clone()).prop_map(|(id, day)| Spec::Reversed { id, day }),
        (
            d.clone(),
            1u16..500,
            0u16..500,
            0u8..4,
            0u8..3,
            (
                0u8..12,
                proptest::option::of(po.clone()),
                proptest::option::of(-1i8..=1)
            )
        )
            .prop_map(
                |(day, inspected, defective, critical, disposition, (id, po, posting))| {
                    Spec::Inspected {
                        id,
                        po,
                        posting,
                        day,
                        inspected,
                        defective: defective.min(inspected),
                        critical,
                        disposition,
                    }
                }
            ),
        (0u8..4, d.clone(), 0u8..3, 0u16..50, any::<bool>()).prop_map(
            |(case, day, kind, qty, attributable)| Spec::Opened {
                case,
                day,
                kind,
                qty,
                attributable
            }
        ),
        (0u8..4, d.clone(), any::<bool>()).prop_map(|(case, day, attributable)| Spec::Resolved {
            case,
            day,
            attributable
        }),
        (
            0u8..4,
            d.clone(),
            0u8..4,
            proptest::array::uniform3(proptest::option::of(0u8..=10)),
            proptest::option::of(0u8..60)
        )
            .prop_map(|(id, day, kind, scores, valid)| Spec::Assessed {
                id,
                day,
                kind,
                scores,
                valid
            }),
        (0u8..4, d.clone()).prop_map(|(id, day)| Spec::AssessmentRetracted { id, day }),
        (0u8..3, d.clone(), 0u8..3, 0u8..4, 0u8..90, 0u8..60).prop_map(
            |(id, day, standard, status, from, len)| Spec::Certificate {
                id,
                day,
                standard,
                status,
                from,
                len
            }
        ),
        (0u8..4, d.clone(), 0u8..4).prop_map(|(id, day, severity)| Spec::Violation {
            id,
            day,
            severity
        }),
        (0u8..4, d.clone()).prop_map(|(id, day)| Spec::ViolationRetracted { id, day }),
        (0u8..3, d, 0u8..=100, 0u8..60).prop_map(|(id, day, score, len)| Spec::Risk {
            id,
            day,
            score,
            len
        }),
    ]
}

/// The default policy with two required standards (so coverage is scored) and a
/// short compliance window (so violations leave it within the streams' 80 days).
fn policy() -> Policy {
    Policy {
        required_certificates: vec!["ISO 9001:2015".into(), "IATF16949".into()],
        compliance_window_days: 30,
        countable_units: Some(vec!["pcs".into()]),
        ..Policy::default()
    }
}

/// Lines P0 and P3 are in metres (not counted), the others in pieces.
fn unit_of(po: u8) -> &'static str {
    if po.is_multiple_of(3) { "m" } else { "pcs" }
}

/// The date `offset` days from the day of `day(n)`.
fn posted(n: u8, offset: i8) -> Date {
    Date(20_454 + i32::from(n) + i32::from(offset))
}

fn record(s: &Spec) -> Record {
    match s {
        Spec::Placed {
            po,
            day: d,
            qty,
            req,
            promise,
            price,
        } => {
            let mut r = placed(
                &format!("P{po}"),
                &day(*d),
                f64::from(*qty),
                &date(*req),
                promise.map(date).as_deref(),
            );
            if let Record::PurchaseOrderLinePlaced(p) = &mut r {
                p.unit_of_measure = unit_of(*po).into();
                p.unit_price = f64::from(*price) / 7.0;
                p.reference_unit_price = (price % 3 != 0).then_some(f64::from(*price) / 6.0);
            }
            r
        }
        Spec::Confirmed {
            po,
            day: d,
            promise,
        } => confirmed(&format!("P{po}"), &day(*d), &date(*promise)),
        Spec::Changed {
            po,
            day: d,
            req,
            qty,
        } => changed(
            &format!("P{po}"),
            &day(*d),
            req.map(date).as_deref(),
            qty.map(|q| f64::from(q) / 3.0),
        ),
        Spec::Cancelled {
            po,
            day: d,
            supplier,
        } => cancelled(
            &format!("P{po}"),
            &day(*d),
            if *supplier {
                CancelledBy::Supplier
            } else {
                CancelledBy::Buyer
            },
        ),
        Spec::Received {
            po,
            day: d,
            qty,
            id,
            posting,
        } => {
            let mut r = received(&format!("P{po}"), &day(*d), f64::from(*qty) / 3.0);
            if let Record::GoodsReceived(g) = &mut r {
                g.receipt_id = format!("GR-{id}");
                g.posting_date = posting.map(|o| posted(*d, o));
            }
            r
        }
        Spec::Reversed { id, day: d } => reversed(&format!("GR-{id}"), &day(*d)),
        Spec::Inspected {
            id,
            po,
            posting,
            day: d,
            inspected,
            defective,
            critical,
            disposition,
        } => corrected_inspection(
            *id,
            *po,
            posting.map(|o| posted(*d, o)),
            inspection(
                &day(*d),
                f64::from(*inspected),
                f64::from(*defective),
                i32::from(*critical),
                [
                    Disposition::Accepted,
                    Disposition::ConditionallyAccepted,
                    Disposition::Rejected,
                ][*disposition as usize],
            ),
        ),
        Spec::Opened {
            case,
            day: d,
            kind,
            qty,
            attributable,
        } => opened(
            &format!("C{case}"),
            &day(*d),
            [
                CaseKind::Return,
                CaseKind::WarrantyClaim,
                CaseKind::Complaint,
            ][*kind as usize],
            f64::from(*qty) / 7.0,
            *attributable,
        ),
        Spec::Resolved {
            case,
            day: d,
            attributable,
        } => resolved(&format!("C{case}"), &day(*d), *attributable),
        Spec::Assessed {
            id,
            day: d,
            kind,
            scores,
            valid,
        } => {
            let names = ["rnd_strength", "cooperation", "not_in_policy"];
            let mut criteria: Vec<(&str, f64)> = scores
                .iter()
                .zip(names)
                .filter_map(|(s, n)| s.map(|s| (n, f64::from(s))))
                .collect();
            if criteria.is_empty() {
                criteria.push(("cooperation", 5.0));
            }
            let kinds = [
                AssessmentKind::OnsiteAudit,
                AssessmentKind::BuyerReview,
                AssessmentKind::Questionnaire,
                AssessmentKind::Unknown,
            ];
            assessed(
                &format!("A{id}"),
                &day(*d),
                kinds[*kind as usize],
                &criteria,
                valid.map(|v| date(d.saturating_add(v))).as_deref(),
            )
        }
        Spec::AssessmentRetracted { id, day: d } => {
            assessment_retracted(&format!("A{id}"), &day(*d))
        }
        Spec::Certificate {
            id,
            day: d,
            standard,
            status,
            from,
            len,
        } => certificate(
            &format!("C{id}"),
            &day(*d),
            ["ISO9001", "IATF 16949:2016", "ISO14001"][*standard as usize],
            [
                CertificateStatus::Valid,
                CertificateStatus::Suspended,
                CertificateStatus::Withdrawn,
                CertificateStatus::Unknown,
            ][*status as usize],
            &date(*from),
            &date(from.saturating_add(*len)),
        ),
        Spec::Violation {
            id,
            day: d,
            severity,
        } => violation(
            &format!("V{id}"),
            &day(*d),
            [
                ViolationSeverity::Minor,
                ViolationSeverity::Major,
                ViolationSeverity::Critical,
                ViolationSeverity::Unknown,
            ][*severity as usize],
        ),
        Spec::ViolationRetracted { id, day: d } => violation_retracted(&format!("V{id}"), &day(*d)),
        Spec::Risk {
            id,
            day: d,
            score,
            len,
        } => risk(
            &format!("R{id}"),
            &day(*d),
            f64::from(*score),
            &date(d.saturating_add(*len)),
        ),
    }
}

/// An inspection with its business id, the line it names and its posting date.
fn corrected_inspection(id: u8, po: Option<u8>, posting: Option<Date>, mut r: Record) -> Record {
    if let Record::InspectionCompleted(i) = &mut r {
        i.inspection_id = format!("IN-{id}");
        i.po_number = po.map(|p| format!("P{p}"));
        i.line_number = po.map(|_| 1);
        i.posting_date = posting;
    }
    r
}

/// The ordering key of docs/scoring.md: (occurred_at, event_id, source).
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

fn stream() -> impl Strategy<Value = (Vec<Record>, Vec<Record>)> {
    proptest::collection::vec(spec(), 1..60).prop_flat_map(|specs| {
        let records: Vec<Record> = specs.iter().map(record).collect();
        let n = records.len();
        let with_dups = (Just(records.clone()), proptest::collection::vec(0..n, 0..n)).prop_map(
            |(mut rs, dups)| {
                let extra: Vec<Record> = dups.into_iter().map(|i| rs[i].clone()).collect();
                rs.extend(extra);
                rs
            },
        );
        (Just(records), with_dups.prop_shuffle())
    })
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
