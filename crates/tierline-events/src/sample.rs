//! Valid example records: one of every kind, and a deterministic realistic mix for
//! tests and benchmarks.

use uuid::Uuid;

use crate::records::*;
use crate::value::{Date, Timestamp};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const D0: i32 = 20_454; // 2026-01-01

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

/// A placed PO line.
pub fn purchase_order_line_placed() -> Record {
    PurchaseOrderLinePlaced {
        event_id: id(1),
        source: "erp-eu-1".into(),
        occurred_at: Timestamp(T0 + 8 * 3_600_000),
        supplier_id: "SUP-00042".into(),
        po_number: "PO-2026-000117".into(),
        line_number: 1,
        item_id: "FAB-COT-140".into(),
        category: "fabric".into(),
        quantity: 1200.0,
        unit_of_measure: "m".into(),
        unit_price: 3.85,
        currency: "EUR".into(),
        reference_unit_price: Some(3.70),
        requested_date: Date(D0 + 21),
        promised_date: None,
    }
    .into()
}

/// A goods receipt.
pub fn goods_received() -> Record {
    GoodsReceived {
        event_id: id(5),
        source: "wms-plant-7".into(),
        occurred_at: Timestamp(T0 + 20 * 86_400_000 + 3_600_000),
        supplier_id: "SUP-00042".into(),
        receipt_id: "GR-88123".into(),
        po_number: "PO-2026-000117".into(),
        line_number: 1,
        quantity: 1180.0,
        site: "plant-7".into(),
        delivery_note: Some("DN-4471".into()),
    }
    .into()
}

/// An onsite audit of five criteria.
pub fn assessment() -> Record {
    let c = |name: &str, score: f64| CriterionScore {
        criterion: name.into(),
        score,
        min_score: 1.0,
        max_score: 5.0,
    };
    SupplierAssessmentCompleted {
        event_id: id(20),
        source: "qms-audit".into(),
        occurred_at: Timestamp(T0 + 5 * 86_400_000 + 9 * 3_600_000),
        supplier_id: "SUP-00042".into(),
        assessment_id: "AUD-2026-007".into(),
        kind: AssessmentKind::OnsiteAudit,
        assessor: "P-1187".into(),
        criteria: vec![
            c("rnd_strength", 4.0),
            c("cooperation", 4.5),
            c("risk_resilience", 3.0),
            c("technical_support", 4.0),
            c("regional_advantage", 2.5),
        ],
        valid_until: None,
        comment: Some("Plant 2 only.".into()),
    }
    .into()
}

/// An alert Tierline raised (an outbound record).
pub fn alert_raised() -> Record {
    all()
        .into_iter()
        .find(|r| r.kind() == RecordKind::SupplierAlertRaised)
        .unwrap_or_else(purchase_order_line_placed)
}

/// One valid record of every kind, in [`RecordKind::ALL`] order.
pub fn all() -> Vec<Record> {
    let t = |h: i64| Timestamp(T0 + h * 3_600_000);
    vec![
        purchase_order_line_placed(),
        PurchaseOrderLineConfirmed {
            event_id: id(2),
            source: "erp-eu-1".into(),
            occurred_at: t(30),
            supplier_id: "SUP-00042".into(),
            po_number: "PO-2026-000117".into(),
            line_number: 1,
            promised_date: Date(D0 + 20),
            confirmed_quantity: 1200.0,
        }
        .into(),
        PurchaseOrderLineChanged {
            event_id: id(3),
            source: "erp-eu-1".into(),
            occurred_at: t(50),
            supplier_id: "SUP-00042".into(),
            po_number: "PO-2026-000117".into(),
            line_number: 1,
            requested_date: Some(Date(D0 + 25)),
            quantity: None,
        }
        .into(),
        PurchaseOrderLineCancelled {
            event_id: id(4),
            source: "erp-eu-1".into(),
            occurred_at: t(60),
            supplier_id: "SUP-00042".into(),
            po_number: "PO-2026-000118".into(),
            line_number: 3,
            cancelled_by: CancelledBy::Supplier,
            reason: "capacity".into(),
        }
        .into(),
        goods_received(),
        InspectionCompleted {
            event_id: id(6),
            source: "qms-1".into(),
            occurred_at: t(20 * 24 + 5),
            supplier_id: "SUP-00042".into(),
            inspection_id: "INSP-5521".into(),
            receipt_id: Some("GR-88123".into()),
            po_number: Some("PO-2026-000117".into()),
            line_number: Some(1),
            item_id: "FAB-COT-140".into(),
            inspected_quantity: 200.0,
            defective_quantity: 3.0,
            critical_defects: 0,
            disposition: Disposition::ConditionallyAccepted,
        }
        .into(),
        AfterSalesCaseOpened {
            event_id: id(7),
            source: "crm".into(),
            occurred_at: t(40 * 24),
            supplier_id: "SUP-00042".into(),
            case_id: "CASE-901".into(),
            item_id: "FAB-COT-140".into(),
            po_number: None,
            kind: CaseKind::WarrantyClaim,
            quantity: 12.0,
            supplier_attributable: true,
        }
        .into(),
        AfterSalesCaseResolved {
            event_id: id(8),
            source: "crm".into(),
            occurred_at: t(45 * 24),
            supplier_id: "SUP-00042".into(),
            case_id: "CASE-901".into(),
            resolution: Resolution::Replaced,
            supplier_attributable: false,
            cost: Some(46.2),
            currency: Some("EUR".into()),
        }
        .into(),
        assessment(),
        SupplierAssessmentRetracted {
            event_id: id(21),
            source: "qms-audit".into(),
            occurred_at: t(50 * 24),
            supplier_id: "SUP-00042".into(),
            assessment_id: "AUD-2026-007".into(),
            reason: "audited the wrong plant".into(),
        }
        .into(),
        SupplierCertificateRecorded {
            event_id: id(22),
            source: "qms-audit".into(),
            occurred_at: t(2),
            supplier_id: "SUP-00042".into(),
            certificate_id: "CERT-9001-42".into(),
            standard: "ISO 9001:2015".into(),
            status: CertificateStatus::Valid,
            valid_from: Date(D0 - 300),
            valid_until: Date(D0 + 795),
            issuer: Some("TÜV".into()),
        }
        .into(),
        SupplierComplianceViolationRecorded {
            event_id: id(23),
            source: "compliance".into(),
            occurred_at: t(70 * 24),
            supplier_id: "SUP-00042".into(),
            violation_id: "VIO-17".into(),
            severity: ViolationSeverity::Major,
            regulation: "REACH".into(),
            description: "SVHC above 0.1% in trim\nlot 4471".into(),
        }
        .into(),
        SupplierComplianceViolationRetracted {
            event_id: id(24),
            source: "compliance".into(),
            occurred_at: t(72 * 24),
            supplier_id: "SUP-00042".into(),
            violation_id: "VIO-17".into(),
            reason: "lab retest below the limit".into(),
        }
        .into(),
        SupplierRiskSignalRecorded {
            event_id: id(25),
            source: "riskfeed".into(),
            occurred_at: t(10 * 24),
            supplier_id: "SUP-00042".into(),
            signal_id: "RS-3301".into(),
            kind: RiskKind::Financial,
            risk_score: 62.5,
            valid_until: Date(D0 + 100),
            feed: "creditwatch".into(),
            summary: "payment delays reported".into(),
        }
        .into(),
        RectificationPlanOpened {
            event_id: id(26),
            source: "api:alice".into(),
            occurred_at: t(61 * 24),
            supplier_id: "SUP-00042".into(),
            plan_id: "PLAN-7".into(),
            indicator: "otif_rate".into(),
            window_days: 30,
            target: 0.92,
            due_date: Date(D0 + 121),
            trigger_alert_id: Some(id(9)),
            owner: "P-2231".into(),
            measures: vec!["second shift in packing".into(), "weekly call".into()],
        }
        .into(),
        RectificationProgressReported {
            event_id: id(27),
            source: "api:acme".into(),
            occurred_at: t(75 * 24),
            supplier_id: "SUP-00042".into(),
            plan_id: "PLAN-7".into(),
            percent_complete: 40,
            note: "second shift started".into(),
        }
        .into(),
        RectificationPlanClosed {
            event_id: id(28),
            source: "api:alice".into(),
            occurred_at: t(100 * 24),
            supplier_id: "SUP-00042".into(),
            plan_id: "PLAN-7".into(),
            reason: PlanCloseReason::Completed,
            note: None,
        }
        .into(),
        SupplierStatusDecided {
            event_id: id(29),
            source: "api:root".into(),
            occurred_at: t(62 * 24),
            supplier_id: "SUP-00042".into(),
            status: SupplierStatus::Conditional,
            reason: "open plan on delivery".into(),
            decided_by: "P-0001".into(),
            valid_until: Some(Date(D0 + 150)),
        }
        .into(),
        SupplierAlertRaised {
            alert_id: id(9),
            supplier_id: "SUP-00042".into(),
            rule: "otif_rate".into(),
            level: AlertLevel::Warning,
            value: 0.87,
            threshold: 0.9,
            window_days: 30,
            as_of: Date(D0 + 60),
            raised_at: t(60 * 24),
            policy_version: "2026.1".into(),
        }
        .into(),
        SupplierAlertResolved {
            alert_id: id(9),
            supplier_id: "SUP-00042".into(),
            rule: "otif_rate".into(),
            value: 0.93,
            as_of: Date(D0 + 75),
            resolved_at: t(75 * 24),
            policy_version: "2026.1".into(),
            reason: ResolutionReason::Cleared,
        }
        .into(),
        RectificationPlanReviewed {
            event_id: id(30),
            supplier_id: "SUP-00042".into(),
            plan_id: "PLAN-7".into(),
            indicator: "otif_rate".into(),
            window_days: 30,
            target: 0.92,
            value: Some(0.95),
            outcome: PlanOutcome::Verified,
            due_date: Date(D0 + 121),
            policy_version: "2026.1".into(),
        }
        .into(),
        SupplierStatusChanged {
            event_id: id(31),
            supplier_id: "SUP-00042".into(),
            from_status: Some(SupplierStatus::Approved),
            to_status: SupplierStatus::Conditional,
            effective_date: Date(D0 + 62),
            reason: "open plan on delivery".into(),
        }
        .into(),
        SupplierTierChanged {
            event_id: id(11),
            supplier_id: "SUP-00042".into(),
            from_tier: Some("KEY".into()),
            to_tier: "RESERVE".into(),
            score: Some(61.25),
            effective_date: Date(D0 + 61),
            policy_version: "2026.1".into(),
        }
        .into(),
    ]
}

/// `items` in a deterministic pseudo-random order (xorshift64 from `seed`): a delivery
/// order for tests that check a result does not depend on arrival order.
pub fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut out = items.to_vec();
    let mut rng = seed | 1;
    for i in (1..out.len()).rev() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        out.swap(i, (rng % (i as u64 + 1)) as usize);
    }
    out
}

/// A deterministic mix of inbound records in realistic proportions (per line:
/// placement, confirmation, receipts, inspections, sometimes changes, cancellations
/// and after-sales cases), `n` records long.
pub fn mix(n: usize, seed: u64) -> Vec<Record> {
    // splitmix64 of the seed: neighbouring seeds give unrelated streams.
    let mut rng = {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) | 1
    };
    let mut next = move || {
        // xorshift64: deterministic, no dependency.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut out = Vec::with_capacity(n);
    let mut i: u128 = 0;
    while out.len() < n {
        let r = next();
        let supplier = format!("SUP-{:05}", r % 300);
        let po = format!("PO-2026-{:06}", (r >> 10) % 100_000);
        let day = ((r >> 30) % 365) as i64;
        let t = Timestamp(T0 + day * 86_400_000 + ((r >> 40) % 86_400_000) as i64);
        i += 1;
        let event_id = Uuid::from_u128(u128::from(r) << 64 | i);
        let kind = (r >> 50) % 100;
        let rec: Record = match kind {
            0..=24 => PurchaseOrderLinePlaced {
                event_id,
                source: "erp-eu-1".into(),
                occurred_at: t,
                supplier_id: supplier,
                po_number: po,
                line_number: 1 + (r % 20) as i32,
                item_id: format!("ITEM-{}", r % 5000),
                category: ["fabric", "trims", "packaging", "electronics"][(r % 4) as usize].into(),
                quantity: 10.0 + (r % 5000) as f64,
                unit_of_measure: "pcs".into(),
                unit_price: 0.5 + (r % 1000) as f64 / 100.0,
                currency: "EUR".into(),
                reference_unit_price: (r % 3 != 0).then_some(0.5 + (r % 997) as f64 / 100.0),
                requested_date: Date(D0 + day as i32 + 21),
                promised_date: (r % 5 == 0).then_some(Date(D0 + day as i32 + 20)),
            }
            .into(),
            25..=44 => PurchaseOrderLineConfirmed {
                event_id,
                source: "erp-eu-1".into(),
                occurred_at: t,
                supplier_id: supplier,
                po_number: po,
                line_number: 1 + (r % 20) as i32,
                promised_date: Date(D0 + day as i32 + 18),
                confirmed_quantity: 10.0 + (r % 5000) as f64,
            }
            .into(),
            45..=49 => PurchaseOrderLineChanged {
                event_id,
                source: "erp-eu-1".into(),
                occurred_at: t,
                supplier_id: supplier,
                po_number: po,
                line_number: 1 + (r % 20) as i32,
                requested_date: (r % 2 == 0).then_some(Date(D0 + day as i32 + 30)),
                quantity: (r % 3 == 0).then_some(5.0 + (r % 100) as f64),
            }
            .into(),
            50..=52 => PurchaseOrderLineCancelled {
                event_id,
                source: "erp-eu-1".into(),
                occurred_at: t,
                supplier_id: supplier,
                po_number: po,
                line_number: 1 + (r % 20) as i32,
                cancelled_by: if r % 4 == 0 {
                    CancelledBy::Supplier
                } else {
                    CancelledBy::Buyer
                },
                reason: "demand change".into(),
            }
            .into(),
            53..=79 => GoodsReceived {
                event_id,
                source: "wms-plant-7".into(),
                occurred_at: t,
                supplier_id: supplier,
                receipt_id: format!("GR-{}", r % 1_000_000),
                po_number: po,
                line_number: 1 + (r % 20) as i32,
                quantity: 1.0 + (r % 5000) as f64,
                site: "plant-7".into(),
                delivery_note: (r % 2 == 0).then(|| format!("DN-{}", r % 100_000)),
            }
            .into(),
            80..=94 => InspectionCompleted {
                event_id,
                source: "qms-1".into(),
                occurred_at: t,
                supplier_id: supplier,
                inspection_id: format!("INSP-{}", r % 1_000_000),
                receipt_id: Some(format!("GR-{}", r % 1_000_000)),
                po_number: Some(po),
                line_number: Some(1 + (r % 20) as i32),
                item_id: format!("ITEM-{}", r % 5000),
                inspected_quantity: 50.0 + (r % 200) as f64,
                defective_quantity: (r % 7) as f64,
                critical_defects: (r % 11 == 0) as i32,
                disposition: [
                    Disposition::Accepted,
                    Disposition::ConditionallyAccepted,
                    Disposition::Rejected,
                ][(r % 3) as usize],
            }
            .into(),
            95..=97 => AfterSalesCaseOpened {
                event_id,
                source: "crm".into(),
                occurred_at: t,
                supplier_id: supplier,
                case_id: format!("CASE-{}", r % 100_000),
                item_id: format!("ITEM-{}", r % 5000),
                po_number: (r % 2 == 0).then_some(po),
                kind: [
                    CaseKind::Return,
                    CaseKind::WarrantyClaim,
                    CaseKind::Complaint,
                ][(r % 3) as usize],
                quantity: (r % 50) as f64,
                supplier_attributable: r % 2 == 0,
            }
            .into(),
            _ => AfterSalesCaseResolved {
                event_id,
                source: "crm".into(),
                occurred_at: t,
                supplier_id: supplier,
                case_id: format!("CASE-{}", r % 100_000),
                resolution: Resolution::Refunded,
                supplier_attributable: r % 3 != 0,
                cost: Some((r % 10_000) as f64 / 10.0),
                currency: Some("EUR".into()),
            }
            .into(),
        };
        out.push(rec);
    }
    out
}

/// How a scripted supplier behaves in [`scripted_supplier`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    /// Days each receipt arrives after the due date (0: on time).
    pub days_late: i32,
    /// Defective share of every inspection (0.0 ..= 1.0).
    pub defect_rate: f64,
    /// Unit price over the reference price (0.02: 2% dearer).
    pub price_premium: f64,
}

/// A supplier with one PO line placed every day from `start` for `days` days: each line
/// is confirmed within hours, received in full `days_late` after its due date (10 days
/// after placement) and inspected on receipt. Dense enough for every scored dimension
/// except service to be sufficient, so composites, tiers and alerts follow the behaviour.
/// Receipts and inspections due after `start + days` are left out (not yet happened).
pub fn scripted_supplier(supplier_id: &str, start: Date, days: i32, b: Behaviour) -> Vec<Record> {
    // Ids from the supplier's name and the event's place: stable across runs.
    let base = supplier_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, c| {
        (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3)
    });
    let eid = |day: i32, kind: u128| {
        Uuid::from_u128((u128::from(base) << 64) | (kind << 32) | day as u32 as u128)
    };
    let at = |d: i32, hour: i64| Timestamp(i64::from(d) * 86_400_000 + hour * 3_600_000);
    let end = start.0 + days;
    let mut out = Vec::new();
    for d in start.0..end {
        let po = format!("PO-{supplier_id}-{d}");
        let due = d + 10;
        out.push(
            PurchaseOrderLinePlaced {
                event_id: eid(d, 1),
                source: "erp-eu-1".into(),
                occurred_at: at(d, 8),
                supplier_id: supplier_id.into(),
                po_number: po.clone(),
                line_number: 1,
                item_id: "ITEM-1".into(),
                category: "fabric".into(),
                quantity: 100.0,
                unit_of_measure: "pcs".into(),
                unit_price: 10.0 * (1.0 + b.price_premium),
                currency: "EUR".into(),
                reference_unit_price: Some(10.0),
                requested_date: Date(due),
                promised_date: None,
            }
            .into(),
        );
        out.push(
            PurchaseOrderLineConfirmed {
                event_id: eid(d, 2),
                source: "erp-eu-1".into(),
                occurred_at: at(d, 12),
                supplier_id: supplier_id.into(),
                po_number: po.clone(),
                line_number: 1,
                promised_date: Date(due),
                confirmed_quantity: 100.0,
            }
            .into(),
        );
        let received = due + b.days_late;
        if received >= end {
            continue;
        }
        out.push(
            GoodsReceived {
                event_id: eid(d, 3),
                source: "wms-plant-7".into(),
                occurred_at: at(received, 9),
                supplier_id: supplier_id.into(),
                receipt_id: format!("GR-{supplier_id}-{d}"),
                po_number: po.clone(),
                line_number: 1,
                quantity: 100.0,
                site: "plant-7".into(),
                delivery_note: None,
            }
            .into(),
        );
        let defective = (200.0 * b.defect_rate).round();
        out.push(
            InspectionCompleted {
                event_id: eid(d, 4),
                source: "qms-1".into(),
                occurred_at: at(received, 14),
                supplier_id: supplier_id.into(),
                inspection_id: format!("IN-{supplier_id}-{d}"),
                receipt_id: Some(format!("GR-{supplier_id}-{d}")),
                po_number: Some(po),
                line_number: Some(1),
                item_id: "ITEM-1".into(),
                inspected_quantity: 200.0,
                defective_quantity: defective,
                critical_defects: 0,
                disposition: if b.defect_rate > 0.05 {
                    Disposition::Rejected
                } else {
                    Disposition::Accepted
                },
            }
            .into(),
        );
    }
    out
}
