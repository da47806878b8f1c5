//! A supplier's events, grouped into the entities whose state scoring.md defines
//! (PO lines, inspections, after-sales cases), and the daily buckets of indicator
//! contributions they produce.
//!
//! Applying an event recomputes only its entity and swaps that entity's old
//! contributions for the new ones. A day's total is summed over its entities in key
//! order, so the result never depends on the order events arrived in.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use tierline_events::{CancelledBy, CaseKind, Date, Disposition, Record, Timestamp};
use uuid::Uuid;

use crate::indicator::Indicator;
use crate::policy::Policy;

/// Orders competing events: (`occurred_at`, `event_id` as a lower-case string), then
/// `source` so that two sources reusing one id still order deterministically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// Business time.
    pub at: Timestamp,
    /// Event id.
    pub event_id: Uuid,
    /// Source.
    pub source: Arc<str>,
}

impl EventKey {
    fn of(at: Timestamp, event_id: Uuid, source: Arc<str>) -> Self {
        // A UUID's lower-case hyphenated string sorts exactly as its bytes do.
        EventKey {
            at,
            event_id,
            source,
        }
    }
}

/// numerator, denominator, samples.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Agg {
    /// Sum of numerators.
    pub num: f64,
    /// Sum of denominators.
    pub den: f64,
    /// Samples (what the minimum-sample rule counts).
    pub samples: u64,
}

impl Agg {
    /// Adds another total (window sums add days in ascending order).
    pub fn add(&mut self, other: &Agg) {
        self.num += other.num;
        self.den += other.den;
        self.samples += other.samples;
    }
}

/// The entity an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    /// A PO line (`po_number`, `line_number`): placements, confirmations, changes,
    /// cancellations and receipts.
    Line(String, i32),
    /// One inspection.
    Inspection(EventKey),
    /// An after-sales case.
    Case(String),
}

/// What scoring reads of a placement.
#[derive(Debug, Clone, Copy)]
struct Placed {
    quantity: f64,
    unit_price: f64,
    reference_unit_price: Option<f64>,
    requested_date: Date,
    promised_date: Option<Date>,
}

/// What scoring reads of a change.
#[derive(Debug, Clone, Copy)]
struct Changed {
    requested_date: Option<Date>,
    quantity: Option<f64>,
}

/// What scoring reads of an inspection.
#[derive(Debug, Clone, Copy)]
struct Inspection {
    occurred_at: Timestamp,
    inspected: f64,
    defective: f64,
    critical: i32,
    disposition: Disposition,
}

/// What scoring reads of a case opening.
#[derive(Debug, Clone, Copy)]
struct Opened {
    kind: CaseKind,
    quantity: f64,
    attributable: bool,
}

#[derive(Debug, Default, Clone)]
struct LineEvents {
    placed: BTreeMap<EventKey, Placed>,
    /// Promised dates.
    confirmed: BTreeMap<EventKey, Date>,
    changed: BTreeMap<EventKey, Changed>,
    cancelled: BTreeMap<EventKey, CancelledBy>,
    /// Received quantities.
    received: BTreeMap<EventKey, f64>,
}

#[derive(Debug, Default, Clone)]
struct CaseEvents {
    opened: BTreeMap<EventKey, Opened>,
    /// Final attributability.
    resolved: BTreeMap<EventKey, bool>,
}

/// One contribution: (indicator, attribution date) -> numerator, denominator, samples.
/// (A handful per entity: a flat list beats a map.)
type Contributions = Vec<((Indicator, Date), Agg)>;

/// A supplier's scoring state: its events by entity and the daily buckets.
#[derive(Debug, Clone)]
pub struct SupplierLedger {
    supplier_id: String,
    policy: Arc<Policy>,
    /// Distinct sources, shared by every key that names them.
    sources: BTreeSet<Arc<str>>,
    seen: HashSet<(Arc<str>, Uuid)>,
    first_day: Option<Date>,
    lines: HashMap<String, BTreeMap<i32, LineEvents>>,
    inspections: BTreeMap<EventKey, Inspection>,
    cases: HashMap<String, CaseEvents>,
    /// What each entity contributes now.
    contributions: HashMap<Arc<Entity>, Contributions>,
    /// Per (indicator, day): each contributing entity's part, in entity order.
    buckets: BTreeMap<(Indicator, Date), BTreeMap<Arc<Entity>, Agg>>,
    /// Per (indicator, day): the sum over its entities, in entity order.
    totals: BTreeMap<(Indicator, Date), Agg>,
}

impl SupplierLedger {
    /// An empty ledger for a supplier under a policy.
    pub fn new(supplier_id: impl Into<String>, policy: Arc<Policy>) -> Self {
        SupplierLedger {
            supplier_id: supplier_id.into(),
            policy,
            sources: BTreeSet::new(),
            seen: HashSet::default(),
            first_day: None,
            lines: HashMap::default(),
            inspections: BTreeMap::new(),
            cases: HashMap::default(),
            contributions: HashMap::default(),
            buckets: BTreeMap::new(),
            totals: BTreeMap::new(),
        }
    }

    /// The supplier.
    pub fn supplier_id(&self) -> &str {
        &self.supplier_id
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The UTC date of the earliest `occurred_at` among its events.
    pub fn first_day(&self) -> Option<Date> {
        self.first_day
    }

    /// Number of distinct events applied.
    pub fn event_count(&self) -> usize {
        self.seen.len()
    }

    /// Applies one stored event. Returns the days whose buckets changed (empty for a
    /// duplicate, another supplier's event, or a record that is not inbound).
    pub fn apply(&mut self, record: &Record) -> BTreeSet<Date> {
        match self.insert(record) {
            Some(entity) => self.recompute_all(BTreeSet::from([entity])),
            None => BTreeSet::new(),
        }
    }

    /// Applies many events at once: each entity they touch is recomputed once and each
    /// bucket totalled once (the result is the same as applying them one by one).
    pub fn apply_all<'a>(
        &mut self,
        records: impl IntoIterator<Item = &'a Record>,
    ) -> BTreeSet<Date> {
        let dirty: BTreeSet<Entity> = records.into_iter().filter_map(|r| self.insert(r)).collect();
        self.recompute_all(dirty)
    }

    fn insert(&mut self, record: &Record) -> Option<Entity> {
        let env = record.envelope()?;
        if env.supplier_id != self.supplier_id {
            return None;
        }
        let source = match self.sources.get(env.source) {
            Some(s) => s.clone(),
            None => {
                let s: Arc<str> = env.source.into();
                self.sources.insert(s.clone());
                s
            }
        };
        if !self.seen.insert((source.clone(), env.event_id)) {
            return None;
        }
        let key = EventKey::of(env.occurred_at, env.event_id, source);
        if let Some(day) = env.occurred_at.date() {
            self.first_day = Some(self.first_day.map_or(day, |d| d.min(day)));
        }
        let entity = match record {
            Record::PurchaseOrderLinePlaced(r) => {
                let p = Placed {
                    quantity: r.quantity,
                    unit_price: r.unit_price,
                    reference_unit_price: r.reference_unit_price,
                    requested_date: r.requested_date,
                    promised_date: r.promised_date,
                };
                self.line(&r.po_number, r.line_number).placed.insert(key, p);
                Entity::Line(r.po_number.clone(), r.line_number)
            }
            Record::PurchaseOrderLineConfirmed(r) => {
                self.line(&r.po_number, r.line_number)
                    .confirmed
                    .insert(key, r.promised_date);
                Entity::Line(r.po_number.clone(), r.line_number)
            }
            Record::PurchaseOrderLineChanged(r) => {
                let c = Changed {
                    requested_date: r.requested_date,
                    quantity: r.quantity,
                };
                self.line(&r.po_number, r.line_number)
                    .changed
                    .insert(key, c);
                Entity::Line(r.po_number.clone(), r.line_number)
            }
            Record::PurchaseOrderLineCancelled(r) => {
                self.line(&r.po_number, r.line_number)
                    .cancelled
                    .insert(key, r.cancelled_by);
                Entity::Line(r.po_number.clone(), r.line_number)
            }
            Record::GoodsReceived(r) => {
                self.line(&r.po_number, r.line_number)
                    .received
                    .insert(key, r.quantity);
                Entity::Line(r.po_number.clone(), r.line_number)
            }
            Record::InspectionCompleted(r) => {
                let i = Inspection {
                    occurred_at: r.occurred_at,
                    inspected: r.inspected_quantity,
                    defective: r.defective_quantity,
                    critical: r.critical_defects,
                    disposition: r.disposition,
                };
                self.inspections.insert(key.clone(), i);
                Entity::Inspection(key)
            }
            Record::AfterSalesCaseOpened(r) => {
                let o = Opened {
                    kind: r.kind,
                    quantity: r.quantity,
                    attributable: r.supplier_attributable,
                };
                self.cases
                    .entry(r.case_id.clone())
                    .or_default()
                    .opened
                    .insert(key, o);
                Entity::Case(r.case_id.clone())
            }
            Record::AfterSalesCaseResolved(r) => {
                self.cases
                    .entry(r.case_id.clone())
                    .or_default()
                    .resolved
                    .insert(key, r.supplier_attributable);
                Entity::Case(r.case_id.clone())
            }
            _ => return None,
        };
        Some(entity)
    }

    fn line(&mut self, po: &str, line: i32) -> &mut LineEvents {
        if !self.lines.contains_key(po) {
            self.lines.insert(po.to_owned(), BTreeMap::new());
        }
        self.lines
            .get_mut(po)
            .map(|m| m.entry(line).or_default())
            .unwrap_or_else(|| unreachable!("inserted above"))
    }

    /// Recomputes entities, then totals every bucket they touched once.
    fn recompute_all(&mut self, entities: BTreeSet<Entity>) -> BTreeSet<Date> {
        let mut touched: BTreeSet<(Indicator, Date)> = BTreeSet::new();
        for entity in entities {
            self.recompute(entity, &mut touched);
        }
        for slot in &touched {
            self.retotal(*slot);
        }
        touched.into_iter().map(|(_, d)| d).collect()
    }

    /// Swaps an entity's contributions for freshly computed ones.
    fn recompute(&mut self, entity: Entity, touched: &mut BTreeSet<(Indicator, Date)>) {
        let new = match &entity {
            Entity::Line(po, n) => self
                .lines
                .get(po.as_str())
                .and_then(|m| m.get(n))
                .map(|l| line_contributions(l, &self.policy)),
            Entity::Inspection(k) => self.inspections.get(k).map(inspection_contributions),
            Entity::Case(id) => self.cases.get(id).map(case_contributions),
        }
        .unwrap_or_default();
        let old = self.contributions.remove(&entity).unwrap_or_default();
        let entity = Arc::new(entity);
        for (slot, _) in &old {
            if let Some(parts) = self.buckets.get_mut(slot) {
                parts.remove(&*entity);
            }
            touched.insert(*slot);
        }
        for (slot, part) in &new {
            self.buckets
                .entry(*slot)
                .or_default()
                .insert(entity.clone(), *part);
            touched.insert(*slot);
        }
        self.contributions.insert(entity, new);
    }

    fn retotal(&mut self, slot: (Indicator, Date)) {
        match self.buckets.get(&slot) {
            Some(parts) if !parts.is_empty() => {
                let mut total = Agg::default();
                for part in parts.values() {
                    total.add(part);
                }
                self.totals.insert(slot, total);
            }
            _ => {
                self.totals.remove(&slot);
                self.buckets.remove(&slot);
            }
        }
    }

    /// The day's total of one indicator.
    pub fn day(&self, indicator: Indicator, day: Date) -> Agg {
        self.totals
            .get(&(indicator, day))
            .copied()
            .unwrap_or_default()
    }

    /// Sum over the window of `days` days ending on `as_of`, days in ascending order.
    pub fn window(&self, indicator: Indicator, as_of: Date, days: u32) -> Agg {
        let from = Date(as_of.0.saturating_sub(days as i32 - 1));
        let mut sum = Agg::default();
        for (_, a) in self.totals.range((indicator, from)..=(indicator, as_of)) {
            sum.add(a);
        }
        sum
    }

    /// The day totals from `from` to `to` laid out densely, for the day-by-day walks.
    pub(crate) fn dense(&self, from: Date, to: Date) -> Dense {
        let len = usize::try_from(to.0 - from.0 + 1).unwrap_or(0);
        let mut days = vec![[None; 10]; len];
        if len == 0 {
            return Dense { start: from, days };
        }
        for i in Indicator::ALL {
            for ((_, d), a) in self.totals.range((i, from)..=(i, to)) {
                if let Some(slot) = usize::try_from(d.0 - from.0)
                    .ok()
                    .and_then(|k| days.get_mut(k))
                {
                    slot[i.index()] = Some(*a);
                }
            }
        }
        Dense { start: from, days }
    }

    /// Every (indicator, day) total, for persisting daily buckets.
    pub fn daily_totals(&self) -> impl Iterator<Item = (Indicator, Date, Agg)> + '_ {
        self.totals.iter().map(|((i, d), a)| (*i, *d, *a))
    }
}

fn date_of(t: Timestamp) -> Date {
    // Valid events lie in the years 0001..=9999, where this cannot fail.
    t.date().unwrap_or(Date(0))
}

fn push(c: &mut Contributions, indicator: Indicator, day: Date, num: f64, den: f64, samples: u64) {
    let part = Agg { num, den, samples };
    match c.iter_mut().find(|(slot, _)| *slot == (indicator, day)) {
        Some((_, a)) => a.add(&part),
        None => c.push(((indicator, day), part)),
    }
}

/// The due date ("statistics date") of a line whose counted placement is `placed`.
fn due_date(line: &LineEvents, placed_key: &EventKey, placed: &Placed) -> Date {
    let last_requested_change = line
        .changed
        .iter()
        .rev()
        .find(|(_, c)| c.requested_date.is_some());
    let c_at = last_requested_change.map(|(k, _)| k.at);
    let requested = last_requested_change
        .and_then(|(_, c)| c.requested_date)
        .unwrap_or(placed.requested_date);
    let mut promises: Vec<(&EventKey, Date)> =
        line.confirmed.iter().map(|(k, d)| (k, *d)).collect();
    if let Some(p) = placed.promised_date {
        promises.push((placed_key, p));
    }
    promises.sort_by(|a, b| a.0.cmp(b.0));
    promises
        .into_iter()
        .find(|(k, _)| c_at.is_none_or(|c| k.at >= c))
        .map_or(requested, |(_, d)| d)
}

fn line_contributions(line: &LineEvents, policy: &Policy) -> Contributions {
    let mut c = Contributions::new();
    // Receipts count in the return-rate denominator whether or not the line exists.
    for (k, q) in &line.received {
        push(&mut c, Indicator::ReturnRatePpm, date_of(k.at), 0.0, *q, 1);
    }
    let Some((placed_key, placed)) = line.placed.iter().next() else {
        return c;
    };
    let placed_day = date_of(placed_key.at);
    let ordered = line
        .changed
        .values()
        .rev()
        .find_map(|ch| ch.quantity)
        .unwrap_or(placed.quantity);
    let due = due_date(line, placed_key, placed);
    let deadline = Date(due.0.saturating_add(policy.grace_days));
    let cancellation = line.cancelled.iter().next();
    if cancellation.is_none() {
        let mut received = 0.0;
        for (k, q) in &line.received {
            if date_of(k.at) <= deadline {
                received += *q;
            }
        }
        let on_time = received >= ordered * (1.0 - policy.in_full_tolerance);
        push(
            &mut c,
            Indicator::OtifRate,
            deadline,
            if on_time { 1.0 } else { 0.0 },
            1.0,
            1,
        );
        for (k, q) in &line.received {
            let day = date_of(k.at);
            let late = f64::from((day.0 - deadline.0).max(0));
            push(&mut c, Indicator::AvgDaysLate, day, late * *q, *q, 1);
        }
    }
    if let Some(reference) = placed.reference_unit_price {
        let q = placed.quantity;
        push(
            &mut c,
            Indicator::PriceVariancePct,
            placed_day,
            (placed.unit_price - reference) * q,
            reference * q,
            1,
        );
    }
    if let Some((k, _)) = line.confirmed.iter().next() {
        let hours = ((k.at.0 - placed_key.at.0) as f64 / 3_600_000.0).max(0.0);
        push(
            &mut c,
            Indicator::ConfirmationHours,
            date_of(k.at),
            hours,
            1.0,
            1,
        );
    }
    push(
        &mut c,
        Indicator::SupplierCancellationRate,
        placed_day,
        0.0,
        1.0,
        1,
    );
    if let Some((k, CancelledBy::Supplier)) = cancellation {
        push(
            &mut c,
            Indicator::SupplierCancellationRate,
            date_of(k.at),
            1.0,
            0.0,
            0,
        );
    }
    c
}

fn inspection_contributions(r: &Inspection) -> Contributions {
    let mut c = Contributions::new();
    let day = date_of(r.occurred_at);
    push(
        &mut c,
        Indicator::DefectPpm,
        day,
        r.defective,
        r.inspected,
        1,
    );
    let accepted = match r.disposition {
        Disposition::Accepted => 1.0,
        Disposition::ConditionallyAccepted => 0.5,
        Disposition::Rejected => 0.0,
    };
    push(&mut c, Indicator::LotAcceptanceRate, day, accepted, 1.0, 1);
    push(
        &mut c,
        Indicator::CriticalDefects,
        day,
        f64::from(r.critical),
        1.0,
        1,
    );
    c
}

fn case_contributions(case: &CaseEvents) -> Contributions {
    let mut c = Contributions::new();
    // A resolution without an opening is ignored by every indicator.
    let Some((opened_key, opened)) = case.opened.iter().next() else {
        return c;
    };
    let resolution = case.resolved.iter().next();
    let attributable = resolution.map_or(opened.attributable, |(_, a)| *a);
    if attributable && matches!(opened.kind, CaseKind::Return | CaseKind::WarrantyClaim) {
        push(
            &mut c,
            Indicator::ReturnRatePpm,
            date_of(opened_key.at),
            opened.quantity,
            0.0,
            0,
        );
    }
    if let Some((k, true)) = resolution {
        let days = (k.at.0 - opened_key.at.0) as f64 / 86_400_000.0;
        push(
            &mut c,
            Indicator::CaseResolutionDays,
            date_of(k.at),
            days,
            1.0,
            1,
        );
    }
    c
}

/// Day totals in a flat array. Window sums add the days that have totals in
/// ascending order, exactly as [`SupplierLedger::window`] does, so they agree bit for bit.
pub(crate) struct Dense {
    start: Date,
    days: Vec<[Option<Agg>; 10]>,
}

impl Dense {
    pub(crate) fn window(&self, indicator: Indicator, as_of: Date, days: u32) -> Agg {
        let from = (as_of.0.saturating_sub(days as i32 - 1)).max(self.start.0);
        let mut sum = Agg::default();
        for d in from..=as_of.0 {
            if let Some(Some(a)) = usize::try_from(d - self.start.0)
                .ok()
                .and_then(|k| self.days.get(k))
                .map(|day| day[indicator.index()])
            {
                sum.add(&a);
            }
        }
        sum
    }
}
