//! A supplier's events, grouped into the entities whose state scoring.md defines
//! (PO lines, inspections, after-sales cases), and the daily buckets of indicator
//! contributions they produce.
//!
//! Applying an event recomputes only its entity and swaps that entity's old
//! contributions for the new ones. Every sum is exact ([`ExactSum`]), so a result never
//! depends on the order events arrived in nor on how terms are grouped.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use tierline_events::{CancelledBy, CaseKind, Date, Disposition, Record, Timestamp};
use uuid::Uuid;

use crate::exact::{ExactSum, fsum};
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

/// numerator, denominator, samples: each sum exact (see [`ExactSum`]), so a total
/// never depends on the order or grouping of its terms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Agg {
    /// Sum of numerators.
    pub num: ExactSum,
    /// Sum of denominators.
    pub den: ExactSum,
    /// Samples (what the minimum-sample rule counts).
    pub samples: u64,
}

impl Agg {
    /// One term of each sum.
    pub fn term(num: f64, den: f64, samples: u64) -> Agg {
        Agg {
            num: ExactSum::of(num),
            den: ExactSum::of(den),
            samples,
        }
    }

    /// Adds another total, exactly.
    pub fn add(&mut self, other: &Agg) {
        self.num.add_sum(&other.num);
        self.den.add_sum(&other.den);
        self.samples += other.samples;
    }

    /// Takes away a total added before, exactly.
    pub fn sub(&mut self, other: &Agg) {
        self.num.sub_sum(&other.num);
        self.den.sub_sum(&other.den);
        self.samples = self.samples.saturating_sub(other.samples);
    }

    /// The numerator, correctly rounded.
    pub fn numerator(&self) -> f64 {
        self.num.value()
    }

    /// The denominator, correctly rounded.
    pub fn denominator(&self) -> f64 {
        self.den.value()
    }

    /// No samples and both sums zero.
    pub fn is_empty(&self) -> bool {
        self.samples == 0 && self.num.is_zero() && self.den.is_zero()
    }
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

/// A list of events kept in [`EventKey`] order (an entity holds a handful: a sorted
/// vector beats a tree, and costs one small allocation).
#[derive(Debug, Clone)]
struct Events<T>(Vec<(EventKey, T)>);

impl<T> Default for Events<T> {
    fn default() -> Self {
        Events(Vec::new())
    }
}

impl<T> Events<T> {
    fn insert(&mut self, key: EventKey, value: T) {
        match self.0.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// The earliest.
    fn first(&self) -> Option<(&EventKey, &T)> {
        self.0.first().map(|(k, v)| (k, v))
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = (&EventKey, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    fn values(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.0.iter().map(|(_, v)| v)
    }
}

#[derive(Debug, Default, Clone)]
struct LineEvents {
    placed: Events<Placed>,
    /// Promised dates.
    confirmed: Events<Date>,
    changed: Events<Changed>,
    cancelled: Events<CancelledBy>,
    /// Received quantities.
    received: Events<f64>,
}

#[derive(Debug, Default, Clone)]
struct CaseEvents {
    opened: Events<Opened>,
    /// Final attributability.
    resolved: Events<bool>,
}

/// One contribution: (indicator, attribution date) -> numerator, denominator, samples.
/// (A handful per entity: a flat list beats a map.)
type Contributions = Vec<((Indicator, Date), Agg)>;

/// What an entity's events say.
#[derive(Debug, Clone)]
enum State {
    Line(LineEvents),
    Inspection(Inspection),
    Case(CaseEvents),
}

/// One entity: its key, its events, what it contributes now.
#[derive(Debug, Clone)]
struct Node {
    state: State,
    contributions: Contributions,
    /// Waiting in `dirty` to be recomputed.
    dirty: bool,
}

/// An entity's index in `SupplierLedger::nodes`.
type NodeId = u32;

/// One (indicator, day): the exact sum of its entities' parts.
#[derive(Debug, Clone, Default)]
struct Bucket {
    total: Agg,
    /// Entities contributing (the bucket goes when the last one leaves).
    contributors: u32,
}

/// A supplier's scoring state: its events by entity and the daily buckets.
///
/// Entities live in one arena, found by key through small indexes; each day's bucket
/// holds the exact sum of its entities' parts: an entity recomputed swaps its old parts
/// for new ones exactly, so a total never depends on the order events arrived in.
#[derive(Debug, Clone)]
pub struct SupplierLedger {
    supplier_id: String,
    policy: Arc<Policy>,
    /// Distinct sources, shared by every key that names them.
    sources: Vec<Arc<str>>,
    /// (index in `sources`, event id) of every event applied.
    seen: HashSet<(u32, Uuid)>,
    first_day: Option<Date>,
    nodes: Vec<Node>,
    /// PO number -> (line number, entity).
    lines: HashMap<Arc<str>, Vec<(i32, NodeId)>>,
    cases: HashMap<Arc<str>, NodeId>,
    /// Entities with events staged since they were last computed.
    dirty: Vec<NodeId>,
    /// Per (indicator, day): the exact sum over its entities.
    totals: BTreeMap<(Indicator, Date), Bucket>,
}

impl SupplierLedger {
    /// An empty ledger for a supplier under a policy.
    pub fn new(supplier_id: impl Into<String>, policy: Arc<Policy>) -> Self {
        SupplierLedger {
            supplier_id: supplier_id.into(),
            policy,
            sources: Vec::new(),
            seen: HashSet::default(),
            first_day: None,
            nodes: Vec::new(),
            lines: HashMap::default(),
            cases: HashMap::default(),
            dirty: Vec::new(),
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
        self.stage(record);
        self.settle()
    }

    /// Applies many events at once: each entity they touch is recomputed once and each
    /// bucket totalled once (the result is the same as applying them one by one).
    pub fn apply_all<'a>(
        &mut self,
        records: impl IntoIterator<Item = &'a Record>,
    ) -> BTreeSet<Date> {
        for r in records {
            self.stage(r);
        }
        self.settle()
    }

    /// Records an event without recomputing anything yet (a replay stages every event,
    /// then settles once). Until [`settle`](Self::settle), the buckets do not show
    /// staged events. Returns whether the event was new to this ledger.
    pub fn stage(&mut self, record: &Record) -> bool {
        match self.insert(record) {
            Some(id) => {
                let node = &mut self.nodes[id as usize];
                if !node.dirty {
                    node.dirty = true;
                    self.dirty.push(id);
                }
                true
            }
            None => false,
        }
    }

    /// Recomputes every entity staged since the last call. Returns the days whose
    /// buckets changed.
    pub fn settle(&mut self) -> BTreeSet<Date> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut touched = Vec::new();
        for id in dirty {
            self.nodes[id as usize].dirty = false;
            self.recompute(id, &mut touched);
        }
        // Sorted first: a set built from sorted input is built in bulk.
        touched.sort_unstable();
        touched.dedup();
        touched.into_iter().collect()
    }

    fn source(&mut self, source: &str) -> (u32, Arc<str>) {
        if let Some(i) = self.sources.iter().position(|s| &**s == source) {
            return (i as u32, self.sources[i].clone());
        }
        let s: Arc<str> = source.into();
        self.sources.push(s.clone());
        ((self.sources.len() - 1) as u32, s)
    }

    fn node(&mut self, state: State) -> NodeId {
        self.nodes.push(Node {
            state,
            contributions: Vec::new(),
            dirty: false,
        });
        (self.nodes.len() - 1) as NodeId
    }

    fn insert(&mut self, record: &Record) -> Option<NodeId> {
        let env = record.envelope()?;
        if env.supplier_id != self.supplier_id {
            return None;
        }
        let (source_ix, source) = self.source(env.source);
        if !self.seen.insert((source_ix, env.event_id)) {
            return None;
        }
        let key = EventKey::of(env.occurred_at, env.event_id, source);
        let day = self.policy.day_of(env.occurred_at);
        self.first_day = Some(self.first_day.map_or(day, |d| d.min(day)));
        let id = match record {
            Record::PurchaseOrderLinePlaced(r) => {
                let p = Placed {
                    quantity: r.quantity,
                    unit_price: r.unit_price,
                    reference_unit_price: r.reference_unit_price,
                    requested_date: r.requested_date,
                    promised_date: r.promised_date,
                };
                self.line(&r.po_number, r.line_number, |l| l.placed.insert(key, p))
            }
            Record::PurchaseOrderLineConfirmed(r) => self.line(&r.po_number, r.line_number, |l| {
                l.confirmed.insert(key, r.promised_date)
            }),
            Record::PurchaseOrderLineChanged(r) => {
                let c = Changed {
                    requested_date: r.requested_date,
                    quantity: r.quantity,
                };
                self.line(&r.po_number, r.line_number, |l| l.changed.insert(key, c))
            }
            Record::PurchaseOrderLineCancelled(r) => self.line(&r.po_number, r.line_number, |l| {
                l.cancelled.insert(key, r.cancelled_by)
            }),
            Record::GoodsReceived(r) => self.line(&r.po_number, r.line_number, |l| {
                l.received.insert(key, r.quantity)
            }),
            Record::InspectionCompleted(r) => {
                let i = Inspection {
                    occurred_at: r.occurred_at,
                    inspected: r.inspected_quantity,
                    defective: r.defective_quantity,
                    critical: r.critical_defects,
                    disposition: r.disposition,
                };
                self.node(State::Inspection(i))
            }
            Record::AfterSalesCaseOpened(r) => {
                let o = Opened {
                    kind: r.kind,
                    quantity: r.quantity,
                    attributable: r.supplier_attributable,
                };
                self.case(&r.case_id, |c| c.opened.insert(key, o))
            }
            Record::AfterSalesCaseResolved(r) => self.case(&r.case_id, |c| {
                c.resolved.insert(key, r.supplier_attributable)
            }),
            _ => return None,
        };
        Some(id)
    }

    /// The PO line's entity (created on first sight), with `f` applied to its events.
    fn line(&mut self, po: &str, line: i32, f: impl FnOnce(&mut LineEvents)) -> NodeId {
        let found = self
            .lines
            .get(po)
            .and_then(|ls| ls.iter().find(|(n, _)| *n == line))
            .map(|(_, id)| *id);
        let id = match found {
            Some(id) => id,
            None => {
                let po: Arc<str> = match self.lines.get_key_value(po) {
                    Some((k, _)) => k.clone(),
                    None => po.into(),
                };
                let id = self.node(State::Line(LineEvents::default()));
                self.lines.entry(po).or_default().push((line, id));
                id
            }
        };
        if let State::Line(l) = &mut self.nodes[id as usize].state {
            f(l);
        }
        id
    }

    /// The case's entity (created on first sight), with `f` applied to its events.
    fn case(&mut self, case_id: &str, f: impl FnOnce(&mut CaseEvents)) -> NodeId {
        let id = match self.cases.get(case_id) {
            Some(id) => *id,
            None => {
                let k: Arc<str> = case_id.into();
                let id = self.node(State::Case(CaseEvents::default()));
                self.cases.insert(k, id);
                id
            }
        };
        if let State::Case(c) = &mut self.nodes[id as usize].state {
            f(c);
        }
        id
    }

    /// Swaps an entity's contributions for freshly computed ones (exactly: what it
    /// added before is subtracted).
    fn recompute(&mut self, id: NodeId, touched: &mut Vec<Date>) {
        let node = &mut self.nodes[id as usize];
        let new = match &node.state {
            State::Line(l) => line_contributions(l, &self.policy),
            State::Inspection(i) => inspection_contributions(i, &self.policy),
            State::Case(c) => case_contributions(c, &self.policy),
        };
        if new == node.contributions {
            return;
        }
        let old = std::mem::replace(&mut node.contributions, new);
        for (slot, part) in &old {
            if let Some(bucket) = self.totals.get_mut(slot) {
                bucket.contributors = bucket.contributors.saturating_sub(1);
                if bucket.contributors == 0 {
                    self.totals.remove(slot);
                } else {
                    bucket.total.sub(part);
                }
            }
            touched.push(slot.1);
        }
        for (slot, part) in &self.nodes[id as usize].contributions {
            let bucket = self.totals.entry(*slot).or_default();
            bucket.total.add(part);
            bucket.contributors += 1;
            touched.push(slot.1);
        }
    }

    /// The day's total of one indicator.
    pub fn day(&self, indicator: Indicator, day: Date) -> Agg {
        self.totals
            .get(&(indicator, day))
            .map(|b| b.total.clone())
            .unwrap_or_default()
    }

    /// Sum over the window of `days` days ending on `as_of`, days in ascending order.
    pub fn window(&self, indicator: Indicator, as_of: Date, days: u32) -> Agg {
        let from = Date(as_of.0.saturating_sub(days as i32 - 1));
        let mut sum = Agg::default();
        for (_, b) in self.totals.range((indicator, from)..=(indicator, as_of)) {
            sum.add(&b.total);
        }
        sum
    }

    /// The day totals from `from` to `to` laid out densely, for the day-by-day walks.
    pub(crate) fn dense(&self, from: Date, to: Date) -> Dense<'_> {
        let len = usize::try_from(to.0 - from.0 + 1).unwrap_or(0);
        let mut days = vec![[None; Indicator::COUNT]; len];
        if len > 0 {
            for i in Indicator::ALL {
                for ((_, d), b) in self.totals.range((i, from)..=(i, to)) {
                    if let Some(slot) = usize::try_from(d.0 - from.0)
                        .ok()
                        .and_then(|k| days.get_mut(k))
                    {
                        slot[i.index()] = Some(&b.total);
                    }
                }
            }
        }
        Dense { start: from, days }
    }

    /// Every (indicator, day) total, for persisting daily buckets.
    pub fn daily_totals(&self) -> impl Iterator<Item = (Indicator, Date, &Agg)> + '_ {
        self.totals.iter().map(|((i, d), b)| (*i, *d, &b.total))
    }
}

/// Adds one term to an entity's part of (indicator, day), exactly.
fn push(c: &mut Contributions, indicator: Indicator, day: Date, num: f64, den: f64, samples: u64) {
    match c.iter_mut().find(|(slot, _)| *slot == (indicator, day)) {
        Some((_, a)) => {
            a.num.add(num);
            a.den.add(den);
            a.samples += samples;
        }
        None => c.push(((indicator, day), Agg::term(num, den, samples))),
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
    for (k, q) in line.received.iter() {
        push(
            &mut c,
            Indicator::ReturnRatePpm,
            policy.day_of(k.at),
            0.0,
            *q,
            1,
        );
    }
    let Some((placed_key, placed)) = line.placed.first() else {
        return c;
    };
    let placed_day = policy.day_of(placed_key.at);
    let ordered = line
        .changed
        .values()
        .rev()
        .find_map(|ch| ch.quantity)
        .unwrap_or(placed.quantity);
    let due = due_date(line, placed_key, placed);
    let deadline = Date(due.0.saturating_add(policy.grace_days));
    let cancellation = line.cancelled.first();
    if cancellation.is_none() {
        let received = fsum(
            line.received
                .iter()
                .filter(|(k, _)| policy.day_of(k.at) <= deadline)
                .map(|(_, q)| *q),
        );
        let on_time = received >= ordered * (1.0 - policy.in_full_tolerance);
        push(
            &mut c,
            Indicator::OtifRate,
            deadline,
            if on_time { 1.0 } else { 0.0 },
            1.0,
            1,
        );
        for (k, q) in line.received.iter() {
            let day = policy.day_of(k.at);
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
    if let Some((k, _)) = line.confirmed.first() {
        let hours = ((k.at.0 - placed_key.at.0) as f64 / 3_600_000.0).max(0.0);
        push(
            &mut c,
            Indicator::ConfirmationHours,
            policy.day_of(k.at),
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
            policy.day_of(k.at),
            1.0,
            0.0,
            0,
        );
    }
    c
}

fn inspection_contributions(r: &Inspection, policy: &Policy) -> Contributions {
    let mut c = Contributions::new();
    let day = policy.day_of(r.occurred_at);
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

fn case_contributions(case: &CaseEvents, policy: &Policy) -> Contributions {
    let mut c = Contributions::new();
    // A resolution without an opening is ignored by every indicator.
    let Some((opened_key, opened)) = case.opened.first() else {
        return c;
    };
    let resolution = case.resolved.first();
    let attributable = resolution.map_or(opened.attributable, |(_, a)| *a);
    if attributable && matches!(opened.kind, CaseKind::Return | CaseKind::WarrantyClaim) {
        push(
            &mut c,
            Indicator::ReturnRatePpm,
            policy.day_of(opened_key.at),
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
            policy.day_of(k.at),
            days,
            1.0,
            1,
        );
    }
    c
}

/// Day totals in a flat array, for walking windows day by day.
pub(crate) struct Dense<'a> {
    start: Date,
    days: Vec<[Option<&'a Agg>; Indicator::COUNT]>,
}

impl<'a> Dense<'a> {
    fn day(&self, indicator: Indicator, day: Date) -> Option<&'a Agg> {
        usize::try_from(day.0 - self.start.0)
            .ok()
            .and_then(|k| self.days.get(k))
            .and_then(|d| d[indicator.index()])
    }

    /// A window of `days` days over one indicator, to slide forward one day at a time.
    pub(crate) fn sliding(&self, indicator: Indicator, days: u32) -> Sliding<'_, 'a> {
        Sliding {
            dense: self,
            indicator,
            days: days as i32,
            as_of: None,
            sum: Agg::default(),
        }
    }
}

/// A window sum kept while the window slides: each step adds the day entering and
/// subtracts the day leaving, exactly, so it equals the window summed afresh.
pub(crate) struct Sliding<'d, 'a> {
    dense: &'d Dense<'a>,
    indicator: Indicator,
    days: i32,
    as_of: Option<Date>,
    sum: Agg,
}

impl Sliding<'_, '_> {
    /// The window's sum as of `as_of` (moving forward is cheap; anything else sums the
    /// window afresh).
    pub(crate) fn at(&mut self, as_of: Date) -> &Agg {
        match self.as_of {
            Some(prev) if prev.0 < as_of.0 && as_of.0 - prev.0 < self.days => {
                for d in prev.0 + 1..=as_of.0 {
                    if let Some(a) = self.dense.day(self.indicator, Date(d)) {
                        self.sum.add(a);
                    }
                    if let Some(a) = self.dense.day(self.indicator, Date(d - self.days)) {
                        self.sum.sub(a);
                    }
                }
            }
            Some(prev) if prev == as_of => {}
            _ => {
                self.sum = Agg::default();
                for d in as_of.0 - self.days + 1..=as_of.0 {
                    if let Some(a) = self.dense.day(self.indicator, Date(d)) {
                        self.sum.add(a);
                    }
                }
            }
        }
        self.as_of = Some(as_of);
        &self.sum
    }
}
