//! A supplier's events, grouped into the entities whose state docs/scoring.md defines
//! (PO lines, inspections, after-sales cases), and the daily buckets of indicator
//! contributions they produce.
//!
//! Applying an event recomputes only its entity and swaps that entity's old
//! contributions for the new ones. Every sum is exact ([`ExactSum`]), so a result never
//! depends on the order events arrived in nor on how terms are grouped.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use tierline_events::{Date, Record};
use uuid::Uuid;

use crate::actions::SupplierActions;
use crate::entity::{
    CaseEvents, Changed, Contributions, EventKey, Inspection, LineEvents, Opened, Placed,
    ReceiptEvents, Received, State, case_contributions, inspection_contributions,
    line_contributions,
};

mod agg;
mod corrections;
mod objects;

pub use agg::Agg;

use crate::indicator::Indicator;
use crate::policy::Policy;
use crate::profile::{Certificate, Completed, ProfileEvents, Signal, profile_contributions};
use crate::window::Dense;
pub use objects::{ObjectRef, ObjectTerm, RECONCILED};

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
    /// Receipt id -> its records, and the line entity it counts on now.
    receipts: HashMap<Arc<str>, (ReceiptEvents, Option<NodeId>)>,
    /// Inspection id -> its entity.
    inspections: HashMap<Arc<str>, NodeId>,
    /// (PO, line) -> the inspections naming it (recomputed when the line's unit is
    /// known, under `countable_units`).
    inspections_by_line: HashMap<(Arc<str>, i32), Vec<NodeId>>,
    /// The supplier-wide profile entity (assessments, certificates, violations, risk),
    /// created with the first event: its states start on the first day.
    profile: Option<NodeId>,
    /// Entities with events staged since they were last computed.
    dirty: Vec<NodeId>,
    /// Per (indicator, day): the exact sum over its entities.
    totals: BTreeMap<(Indicator, Date), Bucket>,
    /// Plan records and status decisions (no buckets: read by the closed loop).
    actions: SupplierActions,
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
            receipts: HashMap::default(),
            inspections: HashMap::default(),
            inspections_by_line: HashMap::default(),
            profile: None,
            dirty: Vec::new(),
            totals: BTreeMap::new(),
            actions: SupplierActions::default(),
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

    /// Its plan records and status decisions.
    pub fn actions(&self) -> &SupplierActions {
        &self.actions
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
        let first_day = self.first_day;
        let staged = self.insert(record);
        // The profile's states start on the first day: a new first day moves them.
        if self.first_day != first_day {
            let id = match self.profile {
                Some(id) => id,
                None => {
                    let id = self.node(State::Profile(Box::default()));
                    self.profile = Some(id);
                    id
                }
            };
            self.mark(id);
        }
        staged
    }

    fn mark(&mut self, id: NodeId) {
        let node = &mut self.nodes[id as usize];
        if !node.dirty {
            node.dirty = true;
            self.dirty.push(id);
        }
    }

    /// Recomputes every entity staged since the last call. Returns the days whose
    /// buckets changed.
    pub fn settle(&mut self) -> BTreeSet<Date> {
        self.settle_buckets().into_iter().map(|(_, d)| d).collect()
    }

    /// [`settle`](Self::settle), returning each (indicator, day) bucket that changed,
    /// sorted: what a projection of the buckets rewrites.
    pub fn settle_buckets(&mut self) -> Vec<(Indicator, Date)> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut touched = Vec::new();
        for id in dirty {
            self.nodes[id as usize].dirty = false;
            self.recompute(id, &mut touched);
        }
        touched.sort_unstable();
        touched.dedup();
        touched
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

    /// Files a new event under its entity and marks what must be recomputed; `false`
    /// for a duplicate, another supplier's event or a record that is not inbound.
    fn insert(&mut self, record: &Record) -> bool {
        let Some(env) = record.envelope() else {
            return false;
        };
        if env.supplier_id != self.supplier_id {
            return false;
        }
        let (source_ix, source) = self.source(env.source);
        if !self.seen.insert((source_ix, env.event_id)) {
            return false;
        }
        let key = EventKey::of(env.occurred_at, env.event_id, source);
        // A record's date: its posting date when it has one (docs/scoring.md
        // "Corrections"), else the date of `occurred_at`.
        let day = record
            .posting_date()
            .unwrap_or(self.policy.day_of(env.occurred_at));
        self.first_day = Some(self.first_day.map_or(day, |d| d.min(day)));
        let id = match record {
            Record::PurchaseOrderLinePlaced(r) => {
                self.mark_inspections_of(&r.po_number, r.line_number);
                let p = Placed {
                    unit: r.unit_of_measure.as_str().into(),
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
            Record::GoodsReceived(r) => {
                let counted = Received {
                    quantity: r.quantity,
                    date: day,
                };
                let line = (r.po_number.as_str().into(), r.line_number, counted);
                self.receipt(&r.receipt_id, |rc| rc.records.insert(key, line));
                return true;
            }
            Record::GoodsReceiptReversed(r) => {
                self.receipt(&r.receipt_id, |rc| rc.reversed = true);
                return true;
            }
            Record::InspectionCompleted(r) => {
                let i = Inspection {
                    date: day,
                    line: r
                        .po_number
                        .as_deref()
                        .zip(r.line_number)
                        .map(|(po, n)| (po.into(), n)),
                    inspected: r.inspected_quantity,
                    defective: r.defective_quantity,
                    critical: r.critical_defects,
                    disposition: r.disposition,
                };
                self.inspection(&r.inspection_id, key, i)
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
            Record::SupplierAssessmentCompleted(r) => {
                let c = Completed {
                    kind: r.kind,
                    criteria: r.criteria.clone(),
                    valid_until: r.valid_until,
                };
                self.profile_of(|p| {
                    p.assessments
                        .entry(r.assessment_id.as_str().into())
                        .or_default()
                        .insert(key, c)
                })
            }
            Record::SupplierAssessmentRetracted(r) => self.profile_of(|p| {
                p.retracted_assessments
                    .insert(r.assessment_id.as_str().into());
            }),
            Record::SupplierCertificateRecorded(r) => {
                let c = Certificate {
                    standard: r.standard.clone(),
                    status: r.status,
                    valid_from: r.valid_from,
                    valid_until: r.valid_until,
                };
                self.profile_of(|p| {
                    p.certificates
                        .entry(r.certificate_id.as_str().into())
                        .or_default()
                        .insert(key, c)
                })
            }
            Record::SupplierComplianceViolationRecorded(r) => self.profile_of(|p| {
                p.violations
                    .entry(r.violation_id.as_str().into())
                    .or_default()
                    .insert(key, r.severity)
            }),
            Record::SupplierComplianceViolationRetracted(r) => self.profile_of(|p| {
                p.retracted_violations
                    .insert(r.violation_id.as_str().into());
            }),
            Record::SupplierRiskSignalRecorded(r) => {
                let s = Signal {
                    risk_score: r.risk_score,
                    valid_until: r.valid_until,
                };
                self.profile_of(|p| {
                    p.signals
                        .entry(r.signal_id.as_str().into())
                        .or_default()
                        .insert(key, s)
                })
            }
            _ => {
                self.actions.stage(record);
                return false;
            }
        };
        self.mark(id);
        true
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

    /// The profile entity (created on first sight), with `f` applied to its events.
    fn profile_of(&mut self, f: impl FnOnce(&mut ProfileEvents)) -> NodeId {
        let id = match self.profile {
            Some(id) => id,
            None => {
                let id = self.node(State::Profile(Box::default()));
                self.profile = Some(id);
                id
            }
        };
        if let State::Profile(p) = &mut self.nodes[id as usize].state {
            f(p);
        }
        id
    }

    fn profile(&self) -> Option<&ProfileEvents> {
        match &self.nodes.get(self.profile? as usize)?.state {
            State::Profile(p) => Some(p),
            _ => None,
        }
    }

    /// Every violation of the supplier: latest severity, dated by its earliest record,
    /// void when retracted (the regulation is not kept here: empty).
    pub fn violations(&self) -> Vec<crate::credit::ViolationFact> {
        let Some(p) = self.profile() else {
            return Vec::new();
        };
        p.violations
            .iter()
            .filter_map(|(id, records)| {
                let (earliest, _) = records.first()?;
                let (_, severity) = records.iter().next_back()?;
                Some(crate::credit::ViolationFact {
                    violation_id: id.to_string(),
                    date: self.policy.day_of(earliest.at),
                    severity: *severity,
                    regulation: String::new(),
                    void: p.retracted_violations.contains(id),
                })
            })
            .collect()
    }

    /// Every assessment of the supplier, by id (void ones included, flagged).
    pub fn assessments(&self) -> Vec<crate::profile::Assessment<'_>> {
        self.profile()
            .map(|p| p.assessments(&self.policy))
            .unwrap_or_default()
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
    fn recompute(&mut self, id: NodeId, touched: &mut Vec<(Indicator, Date)>) {
        let countable = match &self.nodes[id as usize].state {
            State::Inspection(i) => self.inspection_countable(i),
            _ => true,
        };
        let node = &mut self.nodes[id as usize];
        let new = match &node.state {
            State::Line(l) => line_contributions(l, &self.policy),
            State::Inspection(i) => inspection_contributions(i, countable),
            State::Case(c) => case_contributions(c, &self.policy),
            State::Profile(p) => match self.first_day {
                Some(first) => profile_contributions(p, first, &self.policy),
                None => Contributions::new(),
            },
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
            touched.push(*slot);
        }
        for (slot, part) in &self.nodes[id as usize].contributions {
            let bucket = self.totals.entry(*slot).or_default();
            bucket.total.add(part);
            bucket.contributors += 1;
            touched.push(*slot);
        }
    }

    /// The day's total of one indicator.
    pub fn day(&self, indicator: Indicator, day: Date) -> Agg {
        self.totals
            .get(&(indicator, day))
            .map(|b| b.total.clone())
            .unwrap_or_default()
    }

    /// A bucket, if the ledger has one (a state's bucket may be empty: the state
    /// ends there).
    pub fn bucket(&self, indicator: Indicator, day: Date) -> Option<&Agg> {
        self.totals.get(&(indicator, day)).map(|b| &b.total)
    }

    /// The indicator's total as of `as_of` on a window of `days` days (the window's sum,
    /// the day's bucket or the state in force, by the indicator's kind).
    pub fn window(&self, indicator: Indicator, as_of: Date, days: u32) -> Agg {
        crate::window::window_of(&self.totals, |b| &b.total, indicator, as_of, days)
    }

    /// The day totals from `from` to `to` laid out densely, for the day-by-day walks.
    pub(crate) fn dense(&self, from: Date, to: Date) -> Dense<'_> {
        let indicators = self.policy.indicators_all();
        let len = usize::try_from(to.0 - from.0 + 1).unwrap_or(0);
        let mut days = vec![vec![None; indicators.len()]; len];
        let mut before = vec![None; indicators.len()];
        for (slot, &i) in indicators.iter().enumerate() {
            if i.kind() == crate::indicator::Kind::State {
                before[slot] = self
                    .totals
                    .range((i, Date(i32::MIN))..(i, from))
                    .next_back()
                    .map(|(_, b)| &b.total);
            }
            if len == 0 {
                continue;
            }
            for ((_, d), b) in self.totals.range((i, from)..=(i, to)) {
                if let Some(day) = usize::try_from(d.0 - from.0)
                    .ok()
                    .and_then(|k| days.get_mut(k))
                {
                    day[slot] = Some(&b.total);
                }
            }
        }
        Dense {
            start: from,
            indicators,
            days,
            before,
        }
    }

    /// Every (indicator, day) total, for persisting daily buckets.
    pub fn daily_totals(&self) -> impl Iterator<Item = (Indicator, Date, &Agg)> + '_ {
        self.totals.iter().map(|((i, d), b)| (*i, *d, &b.total))
    }
}
