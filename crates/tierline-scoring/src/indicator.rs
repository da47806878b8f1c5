//! The ten indicators of docs/scoring.md and the dimensions they score.

use serde::{Deserialize, Serialize};

/// A scored dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// otif_rate, avg_days_late.
    Delivery,
    /// defect_ppm, lot_acceptance_rate.
    Quality,
    /// return_rate_ppm, case_resolution_days.
    Service,
    /// price_variance_pct.
    Cost,
    /// confirmation_hours, supplier_cancellation_rate.
    Responsiveness,
}

impl Dimension {
    /// Every dimension, in the order of docs/scoring.md.
    pub const ALL: [Dimension; 5] = [
        Dimension::Delivery,
        Dimension::Quality,
        Dimension::Service,
        Dimension::Cost,
        Dimension::Responsiveness,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Delivery => "delivery",
            Dimension::Quality => "quality",
            Dimension::Service => "service",
            Dimension::Cost => "cost",
            Dimension::Responsiveness => "responsiveness",
        }
    }
}

/// An indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Lines on time in full / lines due.
    OtifRate,
    /// Quantity-weighted days late of receipts.
    AvgDaysLate,
    /// Defective / inspected, per million.
    DefectPpm,
    /// Accepted 1, conditional 0.5, rejected 0, per inspection.
    LotAcceptanceRate,
    /// Attributable returned quantity / received quantity, per million.
    ReturnRatePpm,
    /// Days from opening to an attributable resolution.
    CaseResolutionDays,
    /// Price over reference price, percent.
    PriceVariancePct,
    /// Hours from placement to first confirmation.
    ConfirmationHours,
    /// Lines cancelled by the supplier / lines placed.
    SupplierCancellationRate,
    /// Critical nonconformities (monitored, not scored).
    CriticalDefects,
}

impl Indicator {
    /// All ten, in the order of docs/scoring.md.
    /// How many there are.
    pub const COUNT: usize = 10;

    /// Every indicator, in index order.
    pub const ALL: [Indicator; Indicator::COUNT] = [
        Indicator::OtifRate,
        Indicator::AvgDaysLate,
        Indicator::DefectPpm,
        Indicator::LotAcceptanceRate,
        Indicator::ReturnRatePpm,
        Indicator::CaseResolutionDays,
        Indicator::PriceVariancePct,
        Indicator::ConfirmationHours,
        Indicator::SupplierCancellationRate,
        Indicator::CriticalDefects,
    ];

    /// The nine that are scored: all but `critical_defects`, the last.
    pub const SCORED: &'static [Indicator] = Indicator::ALL.split_at(9).0;

    /// Position in [`Indicator::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name as in docs/scoring.md and the API.
    pub fn name(self) -> &'static str {
        match self {
            Indicator::OtifRate => "otif_rate",
            Indicator::AvgDaysLate => "avg_days_late",
            Indicator::DefectPpm => "defect_ppm",
            Indicator::LotAcceptanceRate => "lot_acceptance_rate",
            Indicator::ReturnRatePpm => "return_rate_ppm",
            Indicator::CaseResolutionDays => "case_resolution_days",
            Indicator::PriceVariancePct => "price_variance_pct",
            Indicator::ConfirmationHours => "confirmation_hours",
            Indicator::SupplierCancellationRate => "supplier_cancellation_rate",
            Indicator::CriticalDefects => "critical_defects",
        }
    }

    /// By name.
    pub fn from_name(name: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.name() == name)
    }

    /// The dimension it scores (`None`: monitored only).
    pub fn dimension(self) -> Option<Dimension> {
        Some(match self {
            Indicator::OtifRate | Indicator::AvgDaysLate => Dimension::Delivery,
            Indicator::DefectPpm | Indicator::LotAcceptanceRate => Dimension::Quality,
            Indicator::ReturnRatePpm | Indicator::CaseResolutionDays => Dimension::Service,
            Indicator::PriceVariancePct => Dimension::Cost,
            Indicator::ConfirmationHours | Indicator::SupplierCancellationRate => {
                Dimension::Responsiveness
            }
            Indicator::CriticalDefects => return None,
        })
    }

    /// value = numerator / denominator x scale.
    pub fn scale(self) -> f64 {
        match self {
            Indicator::DefectPpm | Indicator::ReturnRatePpm => 1e6,
            Indicator::PriceVariancePct => 100.0,
            _ => 1.0,
        }
    }
}
