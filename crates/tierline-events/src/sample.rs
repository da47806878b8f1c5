//! Valid example records: one of every kind, and a deterministic realistic mix for
//! tests and benchmarks.

use uuid::Uuid;

use crate::records::*;
use crate::value::{Date, Timestamp};

mod streams;

pub use streams::{Behaviour, mix, scripted_supplier};

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
        posting_date: None,
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
        GoodsReceiptReversed {
            event_id: id(40),
            source: "sap-ewm".into(),
            occurred_at: t(21 * 24),
            supplier_id: "SUP-00042".into(),
            receipt_id: "GR-88123".into(),
            reason: "movement type 102".into(),
        }
        .into(),
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
            posting_date: None,
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
