//! The indicators of docs/scoring.md (v2), the dimensions they score,
//! and how each one turns daily buckets into a value on a date.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

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
    /// The policy's assessment criteria (v2).
    Capability,
    /// certificate_coverage (v2).
    Compliance,
}

impl Dimension {
    /// Every dimension, in the order of the specs.
    pub const ALL: [Dimension; 7] = [
        Dimension::Delivery,
        Dimension::Quality,
        Dimension::Service,
        Dimension::Cost,
        Dimension::Responsiveness,
        Dimension::Capability,
        Dimension::Compliance,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Delivery => "delivery",
            Dimension::Quality => "quality",
            Dimension::Service => "service",
            Dimension::Cost => "cost",
            Dimension::Responsiveness => "responsiveness",
            Dimension::Capability => "capability",
            Dimension::Compliance => "compliance",
        }
    }

    /// Whether a policy file written before v2 may leave it out (weight 0).
    pub fn is_v2(self) -> bool {
        matches!(self, Dimension::Capability | Dimension::Compliance)
    }
}

/// The name of an assessment criterion (`[a-z0-9_]`, 1..64), interned so that an
/// [`Indicator`] stays `Copy`. The set of names is bounded by the policies loaded.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Criterion(&'static str);

impl Criterion {
    /// The criterion of this name, if the name follows the rule.
    pub fn new(name: &str) -> Option<Criterion> {
        let ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        ok.then(|| Criterion(intern(name)))
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn intern(name: &str) -> &'static str {
    // Each thread keeps the names it has seen: the walks ask for them every day, and the
    // shared set takes a lock.
    thread_local! {
        static SEEN: std::cell::RefCell<BTreeSet<&'static str>> = const { std::cell::RefCell::new(BTreeSet::new()) };
    }
    if let Some(n) = SEEN.with(|s| s.borrow().get(name).copied()) {
        return n;
    }
    let n = intern_shared(name);
    SEEN.with(|s| s.borrow_mut().insert(n));
    n
}

fn intern_shared(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// How an indicator's value on a date is made from its daily buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The sum of the buckets of the window's days.
    Window,
    /// The bucket of the date alone, whatever the window (`late_promise_rate`).
    Daily,
    /// A state: the latest bucket dated on or before the date, whatever the window
    /// (criteria, `certificate_coverage`, `violation_points`, `external_risk`). Each
    /// bucket is a change point: the state from its day until the next one.
    State,
}

/// An indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// An assessment criterion of the policy (state; capability).
    Criterion(Criterion),
    /// Required standards covered / required standards (state; compliance).
    CertificateCoverage,
    /// Points of the violations of the compliance window (state; monitored).
    ViolationPoints,
    /// Highest risk score of the valid risk signals (state; monitored).
    ExternalRisk,
    /// Open lines due in the next 14 days promised late / those lines (daily; monitored).
    LatePromiseRate,
    /// Days each re-confirmation moved the promise later, per confirmation (monitored).
    PromiseSlipDays,
}

impl Indicator {
    /// Every indicator that is not a criterion, in the order of the specs (criteria
    /// come after `critical_defects`: see [`Policy::indicators_all`](crate::Policy::indicators_all)).
    pub const FIXED: [Indicator; 15] = [
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
        Indicator::CertificateCoverage,
        Indicator::ViolationPoints,
        Indicator::ExternalRisk,
        Indicator::LatePromiseRate,
        Indicator::PromiseSlipDays,
    ];

    /// The ten of v1 (docs/scoring.md), in its order.
    pub const V1: &'static [Indicator] = Indicator::FIXED.split_at(10).0;

    /// The nine of v1 that are scored: all of [`Indicator::V1`] but `critical_defects`.
    pub const SCORED: &'static [Indicator] = Indicator::FIXED.split_at(9).0;

    /// Its name as in the specs and the API.
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
            Indicator::Criterion(c) => c.name(),
            Indicator::CertificateCoverage => "certificate_coverage",
            Indicator::ViolationPoints => "violation_points",
            Indicator::ExternalRisk => "external_risk",
            Indicator::LatePromiseRate => "late_promise_rate",
            Indicator::PromiseSlipDays => "promise_slip_days",
        }
    }

    /// A fixed indicator by name (`None` for criteria and unknown names).
    pub fn fixed(name: &str) -> Option<Indicator> {
        Indicator::FIXED.into_iter().find(|i| i.name() == name)
    }

    /// By name: a fixed indicator, else a criterion of that name (any name that follows
    /// the criterion rule; whether a policy defines it is the policy's business).
    pub fn from_name(name: &str) -> Option<Indicator> {
        Indicator::fixed(name).or_else(|| Criterion::new(name).map(Indicator::Criterion))
    }

    /// How its value on a date is made from daily buckets.
    pub fn kind(self) -> Kind {
        match self {
            Indicator::Criterion(_)
            | Indicator::CertificateCoverage
            | Indicator::ViolationPoints
            | Indicator::ExternalRisk => Kind::State,
            Indicator::LatePromiseRate => Kind::Daily,
            _ => Kind::Window,
        }
    }

    /// Whether the minimum-sample rule applies (not to counts and states).
    pub fn needs_min_samples(self) -> bool {
        !matches!(self.kind(), Kind::State) && self != Indicator::CriticalDefects
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
            Indicator::Criterion(_) => Dimension::Capability,
            Indicator::CertificateCoverage => Dimension::Compliance,
            Indicator::CriticalDefects
            | Indicator::ViolationPoints
            | Indicator::ExternalRisk
            | Indicator::LatePromiseRate
            | Indicator::PromiseSlipDays => return None,
        })
    }

    /// Whether a higher value is better (docs/scoring.md "Plans, status and credit").
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Indicator::OtifRate
                | Indicator::LotAcceptanceRate
                | Indicator::CertificateCoverage
                | Indicator::Criterion(_)
        )
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

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Indicator {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Indicator {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Indicator::from_name(&s)
            .ok_or_else(|| de::Error::custom(format!("unknown indicator `{s}`")))
    }
}
