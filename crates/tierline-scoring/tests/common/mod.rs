//! Concise builders of stored events for hand-worked examples.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::sync::Arc;

use tierline_events::*;
use tierline_scoring::{Policy, SupplierLedger};
use uuid::Uuid;

pub const SUP: &str = "SUP-1";

thread_local! { static N: Cell<u128> = const { Cell::new(1) }; }

fn next_id() -> Uuid {
    N.with(|n| {
        let v = n.get();
        n.set(v + 1);
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | v)
    })
}

/// `2026-01-05` or `2026-01-05T10:00` (UTC).
pub fn t(s: &str) -> Timestamp {
    let full = if s.len() == 10 {
        format!("{s}T12:00:00Z")
    } else {
        format!("{s}:00Z")
    };
    Timestamp::parse_rfc3339(&full).unwrap()
}

pub fn d(s: &str) -> Date {
    let (y, rest) = s.split_at(4);
    let (m, day) = rest[1..].split_at(2);
    Date::from_ymd(
        y.parse().unwrap(),
        m.parse().unwrap(),
        day[1..].parse().unwrap(),
    )
    .unwrap()
}

pub fn ledger() -> SupplierLedger {
    SupplierLedger::new(SUP, Arc::new(Policy::default()))
}

pub fn ledger_with(policy: Policy) -> SupplierLedger {
    SupplierLedger::new(SUP, Arc::new(policy))
}

pub fn placed(po: &str, at: &str, qty: f64, requested: &str, promised: Option<&str>) -> Record {
    PurchaseOrderLinePlaced {
        event_id: next_id(),
        source: "erp".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        po_number: po.into(),
        line_number: 1,
        item_id: "I".into(),
        category: "fabric".into(),
        quantity: qty,
        unit_of_measure: "pcs".into(),
        unit_price: 10.0,
        currency: "EUR".into(),
        reference_unit_price: None,
        requested_date: d(requested),
        promised_date: promised.map(d),
    }
    .into()
}

pub fn priced(po: &str, at: &str, qty: f64, price: f64, reference: f64) -> Record {
    let mut r = placed(po, at, qty, "2026-12-31", None);
    if let Record::PurchaseOrderLinePlaced(p) = &mut r {
        p.unit_price = price;
        p.reference_unit_price = Some(reference);
    }
    r
}

pub fn confirmed(po: &str, at: &str, promised: &str) -> Record {
    PurchaseOrderLineConfirmed {
        event_id: next_id(),
        source: "erp".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        po_number: po.into(),
        line_number: 1,
        promised_date: d(promised),
        confirmed_quantity: 1.0,
    }
    .into()
}

pub fn changed(po: &str, at: &str, requested: Option<&str>, qty: Option<f64>) -> Record {
    PurchaseOrderLineChanged {
        event_id: next_id(),
        source: "erp".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        po_number: po.into(),
        line_number: 1,
        requested_date: requested.map(d),
        quantity: qty,
    }
    .into()
}

pub fn cancelled(po: &str, at: &str, by: CancelledBy) -> Record {
    PurchaseOrderLineCancelled {
        event_id: next_id(),
        source: "erp".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        po_number: po.into(),
        line_number: 1,
        cancelled_by: by,
        reason: "r".into(),
    }
    .into()
}

pub fn received(po: &str, at: &str, qty: f64) -> Record {
    let event_id = next_id();
    GoodsReceived {
        event_id,
        source: "wms".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        // One receipt per record (corrections.rs builds amendments on purpose).
        receipt_id: format!("GR-{event_id}"),
        po_number: po.into(),
        line_number: 1,
        quantity: qty,
        site: "s".into(),
        delivery_note: None,
        posting_date: None,
    }
    .into()
}

pub fn inspection(
    at: &str,
    inspected: f64,
    defective: f64,
    critical: i32,
    disposition: Disposition,
) -> Record {
    let event_id = next_id();
    InspectionCompleted {
        event_id,
        source: "qms".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        inspection_id: format!("IN-{event_id}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "I".into(),
        inspected_quantity: inspected,
        defective_quantity: defective,
        critical_defects: critical,
        disposition,
        posting_date: None,
    }
    .into()
}

pub fn opened(case: &str, at: &str, kind: CaseKind, qty: f64, attributable: bool) -> Record {
    AfterSalesCaseOpened {
        event_id: next_id(),
        source: "crm".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        case_id: case.into(),
        item_id: "I".into(),
        po_number: None,
        kind,
        quantity: qty,
        supplier_attributable: attributable,
    }
    .into()
}

pub fn resolved(case: &str, at: &str, attributable: bool) -> Record {
    AfterSalesCaseResolved {
        event_id: next_id(),
        source: "crm".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        case_id: case.into(),
        resolution: Resolution::Refunded,
        supplier_attributable: attributable,
        cost: None,
        currency: None,
    }
    .into()
}

pub fn apply_all(l: &mut SupplierLedger, events: &[Record]) {
    for e in events {
        l.apply(e);
    }
}

/// An assessment: `criteria` as (name, score) on a 0..10 scale.
pub fn assessed(
    id: &str,
    at: &str,
    kind: AssessmentKind,
    criteria: &[(&str, f64)],
    valid_until: Option<&str>,
) -> Record {
    SupplierAssessmentCompleted {
        event_id: next_id(),
        source: "qms".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        assessment_id: id.into(),
        kind,
        assessor: "P-1".into(),
        criteria: criteria
            .iter()
            .map(|(c, s)| CriterionScore {
                criterion: (*c).into(),
                score: *s,
                min_score: 0.0,
                max_score: 10.0,
            })
            .collect(),
        valid_until: valid_until.map(d),
        comment: None,
    }
    .into()
}

pub fn assessment_retracted(id: &str, at: &str) -> Record {
    SupplierAssessmentRetracted {
        event_id: next_id(),
        source: "qms".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        assessment_id: id.into(),
        reason: "void".into(),
    }
    .into()
}

pub fn certificate(
    id: &str,
    at: &str,
    standard: &str,
    status: CertificateStatus,
    from: &str,
    until: &str,
) -> Record {
    SupplierCertificateRecorded {
        event_id: next_id(),
        source: "qms".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        certificate_id: id.into(),
        standard: standard.into(),
        status,
        valid_from: d(from),
        valid_until: d(until),
        issuer: None,
    }
    .into()
}

pub fn violation(id: &str, at: &str, severity: ViolationSeverity) -> Record {
    SupplierComplianceViolationRecorded {
        event_id: next_id(),
        source: "compliance".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        violation_id: id.into(),
        severity,
        regulation: "REACH".into(),
        description: "d".into(),
    }
    .into()
}

pub fn violation_retracted(id: &str, at: &str) -> Record {
    SupplierComplianceViolationRetracted {
        event_id: next_id(),
        source: "compliance".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        violation_id: id.into(),
        reason: "r".into(),
    }
    .into()
}

pub fn risk(id: &str, at: &str, score: f64, until: &str) -> Record {
    SupplierRiskSignalRecorded {
        event_id: next_id(),
        source: "risk".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        signal_id: id.into(),
        kind: RiskKind::Financial,
        risk_score: score,
        valid_until: d(until),
        feed: "feed".into(),
        summary: "s".into(),
    }
    .into()
}

/// A reversal of receipt `receipt` (docs/scoring.md "Corrections").
pub fn reversed(receipt: &str, at: &str) -> Record {
    GoodsReceiptReversed {
        event_id: next_id(),
        source: "wms".into(),
        occurred_at: t(at),
        supplier_id: SUP.into(),
        receipt_id: receipt.into(),
        reason: "movement type 102".into(),
    }
    .into()
}
