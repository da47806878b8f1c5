//! A supplier population worth testing against, deterministic for a seed.
//!
//! Each supplier has latent behaviour (on-time rate and lateness, defect rate, returns,
//! price premium, confirmation speed, cancellations), a yearly seasonality, and some
//! have a scripted incident with a known start date: a quality collapse, a delivery
//! slide, or a recovery (bad before, good after). The simulator emits every inbound
//! record type of docs/events.md (placements, confirmations with re-confirmations, buyer
//! changes, cancellations by either side, partial and late receipts, inspections,
//! after-sales cases and their resolutions), plus late-arriving events (emitted days
//! after they occurred) and duplicates (emitted twice), day by day; and the v2 records
//! of docs/events.md "Assessments, compliance and risk" (see `profile`).
//!
//! Pure: no clock, no I/O. [`Simulator::emit_day`] gives the events emitted on a day.

use std::collections::BTreeMap;

use tierline_events::{
    AfterSalesCaseOpened, AfterSalesCaseResolved, CancelledBy, CaseKind, Date, Disposition,
    GoodsReceived, InspectionCompleted, PurchaseOrderLineCancelled, PurchaseOrderLineChanged,
    PurchaseOrderLineConfirmed, PurchaseOrderLinePlaced, Record, Resolution, Timestamp,
};
use uuid::Uuid;

mod corrections;
mod population;
mod profile;

use population::Rng;
pub use population::{Incident, IncidentKind, Profile, SimConfig};

const DAY_MS: i64 = 86_400_000;

/// The simulator: profiles plus the events scheduled for later days.
#[derive(Debug, Clone)]
pub struct Simulator {
    config: SimConfig,
    profiles: Vec<Profile>,
    /// Emission day -> events (in generation order).
    pending: BTreeMap<i32, Vec<Record>>,
    rng: Rng,
    next_id: u64,
    generated_through: i32,
    /// The qualitative records' own randomness and ids.
    q: profile::ProfileRng,
}

fn ts(day: i32, ms_of_day: i64) -> Timestamp {
    Timestamp(i64::from(day) * DAY_MS + ms_of_day.clamp(0, DAY_MS - 1))
}

fn hours(h: f64) -> i64 {
    (h * 3_600_000.0) as i64
}

impl Simulator {
    /// A population for `config`: most suppliers steady (good or middling), about one in
    /// six with an incident starting in the second half of the period.
    pub fn new(config: SimConfig) -> Simulator {
        let mut rng = Rng(config.seed ^ 0x7431_6e65_7369_6d00);
        let categories = ["fabric", "trims", "packaging", "electronics", "chemicals"];
        let mut profiles = Vec::with_capacity(config.suppliers);
        for i in 0..config.suppliers {
            let grade = rng.f();
            // Grades: 45% excellent, 35% solid, 20% weak.
            let (on_time, late_days, defect_rate, return_rate) = if grade < 0.45 {
                (0.99 + 0.008 * rng.f(), 1.5, 0.001 * rng.f(), 0.002)
            } else if grade < 0.80 {
                (0.90 + 0.05 * rng.f(), 3.0, 0.002 + 0.004 * rng.f(), 0.006)
            } else {
                (0.75 + 0.10 * rng.f(), 6.0, 0.005 + 0.01 * rng.f(), 0.015)
            };
            let incident = match i % 6 {
                1 => Some(IncidentKind::QualityCollapse),
                3 => Some(IncidentKind::DeliverySlide),
                5 if i % 12 == 5 => Some(IncidentKind::Recovery),
                _ => None,
            }
            .map(|kind| {
                // Recoveries early enough for the tier window to see them through.
                let (from, span) = match kind {
                    IncidentKind::Recovery => (config.days / 4, config.days / 6),
                    _ => (config.days / 2, config.days / 3),
                };
                Incident {
                    kind,
                    start: Date(config.start.0 + from + rng.below(span.max(1) as u64) as i32),
                }
            });
            // Incident suppliers start out excellent (except recoveries), so the incident
            // is what they are flagged for.
            let excellent = incident.is_some_and(|x| x.kind != IncidentKind::Recovery);
            profiles.push(Profile {
                supplier_id: format!("SUP-{:05}", i + 1),
                category: categories[i % categories.len()],
                lines_per_day: 2.0 + 2.0 * rng.f(),
                on_time: if excellent { 0.99 } else { on_time },
                late_days: if excellent { 1.0 } else { late_days },
                defect_rate: if excellent { 0.0005 } else { defect_rate },
                return_rate: if excellent { 0.002 } else { return_rate },
                price_premium: -0.02 + 0.08 * rng.f(),
                confirm_hours: 2.0 + 20.0 * rng.f(),
                cancel_rate: 0.01 + 0.02 * rng.f(),
                seasonality: 0.3 * rng.f(),
                incident,
            });
        }
        let config_seed = config.seed;
        Simulator {
            generated_through: config.start.0 - 1,
            config,
            profiles,
            pending: BTreeMap::new(),
            rng,
            next_id: 0,
            q: profile::ProfileRng::new(config_seed),
        }
    }

    /// The population.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    fn id(&mut self, supplier: usize) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(
            (u128::from(self.config.seed) << 96)
                | ((supplier as u128) << 64)
                | u128::from(self.next_id),
        )
    }

    /// Schedules `r` for emission: usually on its own day, sometimes late, sometimes twice.
    /// Emits a record on the day it occurred, without drawing from the random sequence
    /// (the corrections are decided apart from it).
    fn schedule_as_is(&mut self, r: Record) {
        let Some(day) = r.envelope().and_then(|e| e.occurred_at.date()) else {
            return;
        };
        self.pending.entry(day.0).or_default().push(r);
    }

    fn schedule(&mut self, r: Record) {
        let Some(env) = r.envelope() else { return };
        let day = env.occurred_at.date().map_or(0, |d| d.0);
        let emit = if self.rng.chance(self.config.late_arrival_rate) {
            day + 1 + self.rng.below(5) as i32
        } else {
            day
        };
        if self.rng.chance(self.config.duplicate_rate) {
            let again = emit + self.rng.below(3) as i32;
            self.pending.entry(again).or_default().push(r.clone());
        }
        self.pending.entry(emit).or_default().push(r);
    }

    /// Behaviour of supplier `k` on `day`: (on-time, late days, defect rate, return rate).
    fn behaviour(&self, k: usize, day: i32) -> (f64, f64, f64, f64) {
        let p = &self.profiles[k];
        let season =
            1.0 + p.seasonality * ((f64::from(day) / 365.25) * std::f64::consts::TAU).sin();
        let (mut on_time, mut late, mut defects, mut returns) = (
            p.on_time,
            p.late_days * season,
            p.defect_rate * season,
            p.return_rate,
        );
        if let Some(inc) = p.incident {
            let after = day >= inc.start.0;
            match inc.kind {
                IncidentKind::QualityCollapse if after => {
                    defects = 0.08;
                    returns = 0.03;
                }
                IncidentKind::DeliverySlide if after => {
                    on_time = 0.4;
                    late = 9.0;
                }
                IncidentKind::Recovery if !after => {
                    on_time = 0.55;
                    late = 8.0;
                    defects = 0.03;
                }
                IncidentKind::Recovery => {
                    on_time = 0.99;
                    late = 1.0;
                    defects = 0.0005;
                    returns = 0.002;
                }
                _ => {}
            }
        }
        (on_time, late, defects.min(1.0), returns)
    }

    /// Generates the lines placed on `day` and everything that follows from them.
    fn generate(&mut self, day: i32) {
        for k in 0..self.profiles.len() {
            let p = self.profiles[k].clone();
            let n = self.rng.exp(p.lines_per_day).round() as u32;
            for line in 0..n {
                self.line(k, &p, day, line + 1);
            }
            self.profile_day(k, day);
        }
    }

    fn line(&mut self, k: usize, p: &Profile, day: i32, line_number: u32) {
        let (on_time, late_days, defect_rate, return_rate) = self.behaviour(k, day);
        let supplier = p.supplier_id.clone();
        let po = format!("PO-{day}-{k}-{line_number}");
        let line_number = line_number as i32;
        let placed_at = ts(day, hours(8.0) + self.rng.below(hours(9.0) as u64) as i64);
        let quantity = (20 + self.rng.below(480)) as f64;
        let lead = 7 + self.rng.below(21) as i32;
        let requested = day + lead;
        let reference = 2.0 + self.rng.below(4000) as f64 / 100.0;
        let id = self.id(k);
        let rec: Record = PurchaseOrderLinePlaced {
            event_id: id,
            source: "erp-eu-1".into(),
            occurred_at: placed_at,
            supplier_id: supplier.clone(),
            po_number: po.clone(),
            line_number,
            item_id: format!("ITEM-{}", k * 10 + self.rng.below(10) as usize),
            category: p.category.into(),
            quantity,
            unit_of_measure: corrections::unit_of(p.category).into(),
            unit_price: ((reference * (1.0 + p.price_premium)) * 100.0).round() / 100.0,
            currency: "EUR".into(),
            reference_unit_price: self.rng.chance(0.8).then_some(reference),
            requested_date: Date(requested),
            promised_date: None,
        }
        .into();
        self.schedule(rec);
        // Cancellations: by the supplier (its rate) or the buyer (2%).
        let cancel = if self.rng.chance(p.cancel_rate) {
            Some(CancelledBy::Supplier)
        } else if self.rng.chance(0.02) {
            Some(CancelledBy::Buyer)
        } else {
            None
        };
        let confirm_at = Timestamp(placed_at.0 + hours(self.rng.exp(p.confirm_hours)));
        let id = self.id(k);
        let rec: Record = PurchaseOrderLineConfirmed {
            event_id: id,
            source: "erp-eu-1".into(),
            occurred_at: confirm_at,
            supplier_id: supplier.clone(),
            po_number: po.clone(),
            line_number,
            promised_date: Date(requested),
            confirmed_quantity: quantity,
        }
        .into();
        self.schedule(rec);
        let mut due = requested;
        // A buyer change moves the requested date (5%); the supplier re-confirms it.
        if self.rng.chance(0.05) {
            // After the first confirmation, so the re-confirmation is the promise that counts.
            let changed_at = Timestamp(confirm_at.0 + hours(4.0 + 48.0 * self.rng.f()));
            due = requested + 3;
            let id = self.id(k);
            let rec: Record = PurchaseOrderLineChanged {
                event_id: id,
                source: "erp-eu-1".into(),
                occurred_at: changed_at,
                supplier_id: supplier.clone(),
                po_number: po.clone(),
                line_number,
                requested_date: Some(Date(due)),
                quantity: None,
            }
            .into();
            self.schedule(rec);
            let id = self.id(k);
            let rec: Record = PurchaseOrderLineConfirmed {
                event_id: id,
                source: "erp-eu-1".into(),
                occurred_at: Timestamp(changed_at.0 + hours(5.0)),
                supplier_id: supplier.clone(),
                po_number: po.clone(),
                line_number,
                promised_date: Date(due),
                confirmed_quantity: quantity,
            }
            .into();
            self.schedule(rec);
        }
        if let Some(by) = cancel {
            let id = self.id(k);
            let rec: Record = PurchaseOrderLineCancelled {
                event_id: id,
                source: "erp-eu-1".into(),
                occurred_at: ts(day + 1 + self.rng.below(4) as i32, hours(11.0)),
                supplier_id: supplier,
                po_number: po,
                line_number,
                cancelled_by: by,
                reason: if by == CancelledBy::Supplier {
                    "capacity"
                } else {
                    "demand change"
                }
                .into(),
            }
            .into();
            self.schedule(rec);
            return;
        }
        // Receipts: on time or late; sometimes split in two, sometimes short.
        let late = if self.rng.chance(on_time) {
            0
        } else {
            1 + self.rng.exp(late_days) as i32
        };
        let arrive = due + late - self.rng.below(2) as i32;
        // Short deliveries are rarer for reliable suppliers.
        let short = if self.rng.chance((1.0 - on_time) / 2.0) {
            0.9
        } else {
            1.0
        };
        let parts: Vec<(i32, f64)> = if self.rng.chance(0.1) {
            vec![
                (arrive - 3, (quantity * 0.6).round()),
                (arrive, (quantity * 0.4 * short).round().max(1.0)),
            ]
        } else {
            vec![(arrive, (quantity * short).round().max(1.0))]
        };
        let (site, offset) = corrections::plant_of(&po);
        for (n, (at, q)) in parts.into_iter().enumerate() {
            let receipt = format!("GR-{po}-{n}");
            let id = self.id(k);
            // Posted in the plant's working hours, on its business day.
            let (occurred_at, posting_date) = corrections::local(
                at,
                hours(7.0) + self.rng.below(hours(10.0) as u64) as i64,
                offset,
            );
            let rec = GoodsReceived {
                event_id: id,
                source: format!("wms-{site}"),
                occurred_at,
                supplier_id: p.supplier_id.clone(),
                receipt_id: receipt.clone(),
                po_number: po.clone(),
                line_number,
                quantity: q,
                site: site.into(),
                delivery_note: Some(format!("DN-{}", self.next_id)),
                posting_date: Some(posting_date),
            };
            if corrections::posted_twice(id) {
                self.post_twice_and_reverse(k, &rec);
            }
            self.schedule(rec.into());
            // Inspection the next day: defects binomial-ish around the rate.
            let inspected = q.clamp(1.0, 200.0);
            let expected = inspected * defect_rate;
            let defective = (expected + (self.rng.f() - 0.5) * expected.sqrt() * 2.0)
                .round()
                .clamp(0.0, inspected);
            let share = defective / inspected;
            let id = self.id(k);
            let (occurred_at, posting_date) = corrections::local(at + 1, hours(10.0), offset);
            let rec = InspectionCompleted {
                event_id: id,
                source: "qms-1".into(),
                occurred_at,
                supplier_id: p.supplier_id.clone(),
                inspection_id: format!("IN-{receipt}"),
                receipt_id: Some(receipt),
                po_number: Some(po.clone()),
                line_number: Some(line_number),
                item_id: "ITEM".into(),
                inspected_quantity: inspected,
                defective_quantity: defective,
                critical_defects: i32::from(share > 0.05 && self.rng.chance(0.3)),
                disposition: if share > 0.05 {
                    Disposition::Rejected
                } else if share > 0.01 {
                    Disposition::ConditionallyAccepted
                } else {
                    Disposition::Accepted
                },
                posting_date: Some(posting_date),
            };
            if corrections::reposted(id) {
                self.repost(k, &rec);
            }
            self.schedule(rec.into());
            // After-sales: returns and warranty claims, resolved 2..20 days later.
            if self.rng.chance(return_rate * 5.0) {
                let case = format!("CASE-{po}-{n}");
                let opened = at + 5 + self.rng.below(30) as i32;
                let kind = [
                    CaseKind::Return,
                    CaseKind::WarrantyClaim,
                    CaseKind::Complaint,
                ][self.rng.below(3) as usize];
                let attributable = self.rng.chance(0.8);
                let id = self.id(k);
                let rec: Record = AfterSalesCaseOpened {
                    event_id: id,
                    source: "crm".into(),
                    occurred_at: ts(opened, hours(9.0)),
                    supplier_id: p.supplier_id.clone(),
                    case_id: case.clone(),
                    item_id: "ITEM".into(),
                    po_number: Some(po.clone()),
                    kind,
                    quantity: (q * 0.05).round().max(1.0),
                    supplier_attributable: attributable,
                }
                .into();
                self.schedule(rec);
                let id = self.id(k);
                let rec: Record = AfterSalesCaseResolved {
                    event_id: id,
                    source: "crm".into(),
                    occurred_at: ts(opened + 2 + self.rng.below(18) as i32, hours(16.0)),
                    supplier_id: p.supplier_id.clone(),
                    case_id: case,
                    resolution: [
                        Resolution::Replaced,
                        Resolution::Refunded,
                        Resolution::Repaired,
                        Resolution::Rejected,
                    ][self.rng.below(4) as usize],
                    supplier_attributable: attributable,
                    cost: Some((self.rng.below(50_000) as f64) / 100.0),
                    currency: Some("EUR".into()),
                }
                .into();
                self.schedule(rec);
            }
        }
    }

    /// The events emitted on `day`, in emission order: everything that occurred that
    /// day, some that occurred a few days earlier (late arrivals), and some duplicates.
    /// Days must be asked in order; lines are placed only inside the configured period.
    pub fn emit_day(&mut self, day: Date) -> Vec<Record> {
        let last = self.config.start.0 + self.config.days - 1;
        while self.generated_through < day.0.min(last) {
            self.generated_through += 1;
            let d = self.generated_through;
            self.generate(d);
        }
        let mut out = Vec::new();
        let done: Vec<i32> = self.pending.range(..=day.0).map(|(d, _)| *d).collect();
        for d in done {
            if let Some(v) = self.pending.remove(&d) {
                out.extend(v);
            }
        }
        // Within a day, emit in business-time order (duplicates and late ones mixed in).
        out.sort_by_key(|r| r.envelope().map(|e| e.occurred_at));
        out
    }

    /// The events emitted up to the instant `now`: [`Simulator::emit_day`] of its day,
    /// without what occurs later that day (kept for a later call).
    pub fn emit_until(&mut self, now: Timestamp) -> Vec<Record> {
        let Some(day) = now.date() else {
            return Vec::new();
        };
        let (ready, later): (Vec<Record>, Vec<Record>) = self
            .emit_day(day)
            .into_iter()
            .partition(|r| r.envelope().is_some_and(|e| e.occurred_at <= now));
        if !later.is_empty() {
            self.pending.entry(day.0).or_default().extend(later);
        }
        ready
    }

    /// A burst of live activity at `now` for `n` suppliers picked at random: each gets an
    /// inspection (following its behaviour on that day, incidents included) and a newly
    /// placed and confirmed line. Ids are unique per (`now`, position in the burst).
    pub fn live(&mut self, now: Timestamp, n: usize) -> Vec<Record> {
        let day = now.date().map_or(0, |d| d.0);
        let mut out = Vec::with_capacity(3 * n);
        for j in 0..n {
            let k = self.rng.below(self.profiles.len() as u64) as usize;
            let p = self.profiles[k].clone();
            let (_, _, defect_rate, _) = self.behaviour(k, day);
            let id = |kind: u128| {
                Uuid::from_u128(
                    (0x11fe_u128 << 112)
                        | ((now.0 as u128 & 0xffff_ffff_ffff) << 48)
                        | ((j as u128) << 8)
                        | kind,
                )
            };
            let inspected = 100.0;
            let expected = inspected * defect_rate;
            let defective = (expected + (self.rng.f() - 0.5) * expected.sqrt() * 2.0)
                .round()
                .clamp(0.0, inspected);
            let po = format!("PO-L{}-{j}", now.0);
            out.push(
                InspectionCompleted {
                    event_id: id(1),
                    source: "qms-1".into(),
                    occurred_at: now,
                    supplier_id: p.supplier_id.clone(),
                    inspection_id: format!("IN-L{}-{j}", now.0),
                    receipt_id: None,
                    po_number: None,
                    line_number: None,
                    item_id: "ITEM".into(),
                    inspected_quantity: inspected,
                    defective_quantity: defective,
                    critical_defects: 0,
                    disposition: if defective / inspected > 0.05 {
                        Disposition::Rejected
                    } else {
                        Disposition::Accepted
                    },
                    posting_date: None,
                }
                .into(),
            );
            out.push(
                PurchaseOrderLinePlaced {
                    event_id: id(2),
                    source: "erp-eu-1".into(),
                    occurred_at: now,
                    supplier_id: p.supplier_id.clone(),
                    po_number: po.clone(),
                    line_number: 1,
                    item_id: "ITEM".into(),
                    category: p.category.into(),
                    quantity: 100.0,
                    unit_of_measure: "pcs".into(),
                    unit_price: 10.0 * (1.0 + p.price_premium),
                    currency: "EUR".into(),
                    reference_unit_price: Some(10.0),
                    requested_date: Date(day + 14),
                    promised_date: None,
                }
                .into(),
            );
            out.push(
                PurchaseOrderLineConfirmed {
                    event_id: id(3),
                    source: "erp-eu-1".into(),
                    occurred_at: now,
                    supplier_id: p.supplier_id,
                    po_number: po,
                    line_number: 1,
                    promised_date: Date(day + 14),
                    confirmed_quantity: 100.0,
                }
                .into(),
            );
        }
        out
    }

    /// Whether events remain scheduled after `day`.
    pub fn has_pending_after(&self, day: Date) -> bool {
        self.pending.range(day.0 + 1..).next().is_some()
    }
}
