//! Streams for tests and benchmarks: a deterministic realistic mix of inbound records,
//! and a scripted supplier's history with a known behaviour.

use uuid::Uuid;

use super::{D0, T0};
use crate::records::*;
use crate::value::{Date, Timestamp};

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
                posting_date: None,
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
                posting_date: None,
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
                posting_date: None,
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
                posting_date: None,
            }
            .into(),
        );
    }
    out
}
