//! The terms each PO line, receipt and inspection adds to the quantity indicators:
//! what `tierline reconcile` compares with an ERP's extract, object by object.

use tierline_events::Date;

use super::SupplierLedger;
use crate::entity::{State, receipt_terms};
use crate::indicator::Indicator;

/// A business object that contributes to the indicators.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectRef {
    /// A PO line: (PO number, line number).
    Line(String, i32),
    /// A goods receipt, by `receipt_id`.
    Receipt(String),
    /// An inspection, by `inspection_id`.
    Inspection(String),
}

impl ObjectRef {
    /// `line`, `receipt` or `inspection`.
    pub fn kind(&self) -> &'static str {
        match self {
            ObjectRef::Line(..) => "line",
            ObjectRef::Receipt(_) => "receipt",
            ObjectRef::Inspection(_) => "inspection",
        }
    }

    /// Its id as an extract writes it: `PO/LINE`, the receipt id, the inspection id.
    pub fn id(&self) -> String {
        match self {
            ObjectRef::Line(po, line) => format!("{po}/{line}"),
            ObjectRef::Receipt(id) | ObjectRef::Inspection(id) => id.clone(),
        }
    }
}

/// One object's numerator and denominator of an indicator on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectTerm {
    /// The indicator.
    pub indicator: Indicator,
    /// The day it is attributed to.
    pub date: Date,
    /// Who contributes it.
    pub object: ObjectRef,
    /// Its numerator.
    pub numerator: f64,
    /// Its denominator.
    pub denominator: f64,
}

/// The indicators reconciled object by object.
pub const RECONCILED: [Indicator; 5] = [
    Indicator::OtifRate,
    Indicator::AvgDaysLate,
    Indicator::ReturnRatePpm,
    Indicator::DefectPpm,
    Indicator::LotAcceptanceRate,
];

impl SupplierLedger {
    /// Every object's terms of the [`RECONCILED`] indicators, as the buckets hold them
    /// (settled state): PO lines for `otif_rate`, counted receipts for `avg_days_late`
    /// and the `return_rate_ppm` denominator, inspections (their latest records) for
    /// `defect_ppm` and `lot_acceptance_rate`. Sorted by indicator, day and object.
    pub fn object_terms(&self) -> Vec<ObjectTerm> {
        let mut out = Vec::new();
        let node_terms = |out: &mut Vec<ObjectTerm>, id: u32, object: ObjectRef| {
            for ((indicator, date), agg) in &self.nodes[id as usize].contributions {
                if matches!(
                    indicator,
                    Indicator::OtifRate | Indicator::DefectPpm | Indicator::LotAcceptanceRate
                ) {
                    out.push(ObjectTerm {
                        indicator: *indicator,
                        date: *date,
                        object: object.clone(),
                        numerator: agg.numerator(),
                        denominator: agg.denominator(),
                    });
                }
            }
        };
        for (po, lines) in &self.lines {
            for (line, id) in lines {
                node_terms(&mut out, *id, ObjectRef::Line(po.to_string(), *line));
            }
        }
        for (inspection, id) in &self.inspections {
            node_terms(&mut out, *id, ObjectRef::Inspection(inspection.to_string()));
        }
        for (receipt, (_, on)) in &self.receipts {
            let Some(on) = on else { continue };
            let State::Line(line) = &self.nodes[*on as usize].state else {
                continue;
            };
            let Some(r) = line.received.get(receipt) else {
                continue;
            };
            for (indicator, date, numerator, denominator) in receipt_terms(line, r, &self.policy) {
                out.push(ObjectTerm {
                    indicator,
                    date,
                    object: ObjectRef::Receipt(receipt.to_string()),
                    numerator,
                    denominator,
                });
            }
        }
        out.sort_by(|a, b| (a.indicator, a.date, &a.object).cmp(&(b.indicator, b.date, &b.object)));
        out
    }
}
