//! The population's parameters: each supplier's latent behaviour and scripted
//! incident, the simulation's configuration, and its deterministic randomness.

use tierline_events::Date;

/// What happens to a supplier at a known date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentKind {
    /// Defects jump to ~8% of inspected units.
    QualityCollapse,
    /// Deliveries slip by a week or more.
    DeliverySlide,
    /// Bad on both counts before the date, good after.
    Recovery,
}

/// An incident and the day it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incident {
    /// What happens.
    pub kind: IncidentKind,
    /// The first day it shows.
    pub start: Date,
}

/// A supplier's latent behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Supplier id.
    pub supplier_id: String,
    /// Purchasing category.
    pub category: &'static str,
    /// PO lines placed per day, on average.
    pub lines_per_day: f64,
    /// Chance a delivery is on time.
    pub on_time: f64,
    /// Mean days late when late.
    pub late_days: f64,
    /// Defective share of inspected units.
    pub defect_rate: f64,
    /// Chance a receipt leads to a return.
    pub return_rate: f64,
    /// Unit price over the reference price.
    pub price_premium: f64,
    /// Hours to confirm a line, on average.
    pub confirm_hours: f64,
    /// Chance the supplier cancels a line.
    pub cancel_rate: f64,
    /// Amplitude of the yearly seasonality of lateness and defects (0..1).
    pub seasonality: f64,
    /// The scripted incident, if any.
    pub incident: Option<Incident>,
}

/// How big a population and which days.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Number of suppliers.
    pub suppliers: usize,
    /// First simulated day.
    pub start: Date,
    /// Days of history (incidents start inside it).
    pub days: i32,
    /// Seed: the same seed gives the same events.
    pub seed: u64,
    /// Share of events emitted 1..5 days after they occurred.
    pub late_arrival_rate: f64,
    /// Share of events emitted twice.
    pub duplicate_rate: f64,
}

impl SimConfig {
    /// `suppliers` suppliers over the `days` days up to and including `today`.
    pub fn ending(today: Date, days: i32, suppliers: usize, seed: u64) -> SimConfig {
        SimConfig {
            suppliers,
            start: Date(today.0 - days + 1),
            days,
            seed,
            late_arrival_rate: 0.02,
            duplicate_rate: 0.01,
        }
    }
}

/// A small deterministic generator (splitmix64): no dependency, stable across versions.
#[derive(Debug, Clone)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub(crate) fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    /// Exponential with this mean.
    pub(crate) fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f()).ln()
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
