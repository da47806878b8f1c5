//! The random streams of the property tests: every inbound record type, with the ERP's
//! corrections (receipts and inspections re-posted under their business ids, reversals,
//! posting dates) and two units, of which the policy counts one.

use proptest::prelude::*;
use tierline_events::{
    AssessmentKind, CancelledBy, CaseKind, CertificateStatus, Date, Disposition, Record,
    ViolationSeverity,
};

use crate::common::*;

#[derive(Debug, Clone)]
pub(crate) enum Spec {
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

pub(crate) fn day(n: u8) -> String {
    let d = Date(20_454 + i32::from(n)); // 2026-01-01 + n
    format!("{d}T{:02}:{:02}", n % 24, (n as u32 * 7) % 60)
}

pub(crate) fn date(n: u8) -> String {
    Date(20_454 + i32::from(n)).to_string()
}

pub(crate) fn spec() -> impl Strategy<Value = Spec> {
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
pub(crate) fn unit_of(po: u8) -> &'static str {
    if po.is_multiple_of(3) { "m" } else { "pcs" }
}

/// The date `offset` days from the day of `day(n)`.
pub(crate) fn posted(n: u8, offset: i8) -> Date {
    Date(20_454 + i32::from(n) + i32::from(offset))
}

pub(crate) fn record(s: &Spec) -> Record {
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
pub(crate) fn corrected_inspection(
    id: u8,
    po: Option<u8>,
    posting: Option<Date>,
    mut r: Record,
) -> Record {
    if let Record::InspectionCompleted(i) = &mut r {
        i.inspection_id = format!("IN-{id}");
        i.po_number = po.map(|p| format!("P{p}"));
        i.line_number = po.map(|_| 1);
        i.posting_date = posting;
    }
    r
}

/// The ordering key of docs/scoring.md: (occurred_at, event_id, source).
pub(crate) fn stream() -> impl Strategy<Value = (Vec<Record>, Vec<Record>)> {
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
