//! The entities whose state docs/scoring.md defines (PO lines, inspections, after-sales
//! cases): what scoring reads of their events, and the indicator contributions each
//! one makes to the daily buckets.

use std::collections::BTreeMap;
use std::sync::Arc;

use tierline_events::{CancelledBy, CaseKind, Date, Disposition, Timestamp};
use uuid::Uuid;

use crate::exact::fsum;
use crate::indicator::Indicator;
use crate::ledger::Agg;
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
    pub(crate) fn of(at: Timestamp, event_id: Uuid, source: Arc<str>) -> Self {
        // A UUID's lower-case hyphenated string sorts exactly as its bytes do.
        EventKey {
            at,
            event_id,
            source,
        }
    }
}

/// What scoring reads of a placement.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    /// Unit of measure (what `countable_units` compares).
    pub(crate) unit: Arc<str>,
    pub(crate) quantity: f64,
    pub(crate) unit_price: f64,
    pub(crate) reference_unit_price: Option<f64>,
    pub(crate) requested_date: Date,
    pub(crate) promised_date: Option<Date>,
}

/// What scoring reads of a change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Changed {
    pub(crate) requested_date: Option<Date>,
    pub(crate) quantity: Option<f64>,
}

/// What scoring reads of an inspection record.
#[derive(Debug, Clone)]
pub(crate) struct Inspection {
    /// Its date: the posting date, else the date of `occurred_at`.
    pub(crate) date: Date,
    /// The PO line it names (for `countable_units`).
    pub(crate) line: Option<(Arc<str>, i32)>,
    pub(crate) inspected: f64,
    pub(crate) defective: f64,
    pub(crate) critical: i32,
    pub(crate) disposition: Disposition,
}

/// What scoring reads of a case opening.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opened {
    pub(crate) kind: CaseKind,
    pub(crate) quantity: f64,
    pub(crate) attributable: bool,
}

/// A list of events kept in [`EventKey`] order (an entity holds a handful: a sorted
/// vector beats a tree, and costs one small allocation).
#[derive(Debug, Clone)]
pub(crate) struct Events<T>(Vec<(EventKey, T)>);

impl<T> Default for Events<T> {
    fn default() -> Self {
        Events(Vec::new())
    }
}

impl<T> Events<T> {
    pub(crate) fn insert(&mut self, key: EventKey, value: T) {
        match self.0.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// The earliest.
    pub(crate) fn first(&self) -> Option<(&EventKey, &T)> {
        self.0.first().map(|(k, v)| (k, v))
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&EventKey, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.0.iter().map(|(_, v)| v)
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct LineEvents {
    pub(crate) placed: Events<Placed>,
    /// Promised dates.
    pub(crate) confirmed: Events<Date>,
    pub(crate) changed: Events<Changed>,
    pub(crate) cancelled: Events<CancelledBy>,
    /// The receipts that count on this line now, by receipt id (each its latest
    /// record, unless reversed: docs/scoring.md "Corrections").
    pub(crate) received: BTreeMap<Arc<str>, Received>,
}

/// A receipt as it counts on its line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Received {
    pub(crate) quantity: f64,
    /// The posting date, else the date of `occurred_at`.
    pub(crate) date: Date,
}

/// One receipt id's records and reversal.
#[derive(Debug, Default, Clone)]
pub(crate) struct ReceiptEvents {
    /// (PO, line, received) per record.
    pub(crate) records: Events<(Arc<str>, i32, Received)>,
    /// A `GoodsReceiptReversed` names it: void for every date.
    pub(crate) reversed: bool,
}

impl ReceiptEvents {
    /// What counts: the latest record, unless reversed.
    pub(crate) fn counted(&self) -> Option<&(Arc<str>, i32, Received)> {
        if self.reversed {
            return None;
        }
        self.records.values().next_back()
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct CaseEvents {
    pub(crate) opened: Events<Opened>,
    /// Final attributability.
    pub(crate) resolved: Events<bool>,
}

/// One contribution: (indicator, attribution date) -> numerator, denominator, samples.
/// (A handful per entity: a flat list beats a map.)
pub(crate) type Contributions = Vec<((Indicator, Date), Agg)>;

/// What an entity's events say.
#[derive(Debug, Clone)]
pub(crate) enum State {
    Line(LineEvents),
    /// One inspection id's records (the latest counts).
    Inspection(Events<Inspection>),
    Case(CaseEvents),
    /// The supplier's assessments, certificates, violations and risk signals: one
    /// entity per supplier, whose states also start on the supplier's first day.
    Profile(Box<crate::profile::ProfileEvents>),
}

/// Adds one term to an entity's part of (indicator, day), exactly.
pub(crate) fn push(
    c: &mut Contributions,
    indicator: Indicator,
    day: Date,
    num: f64,
    den: f64,
    samples: u64,
) {
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
pub(crate) fn due_date(line: &LineEvents, placed_key: &EventKey, placed: &Placed) -> Date {
    due_date_upto(line, placed_key, placed, |_| true)
}

/// The due date from the line's events that `known` admits (the leading indicators
/// use only events dated on or before a day).
pub(crate) fn due_date_upto(
    line: &LineEvents,
    placed_key: &EventKey,
    placed: &Placed,
    known: impl Fn(&EventKey) -> bool,
) -> Date {
    let last_requested_change = line
        .changed
        .iter()
        .rev()
        .filter(|(k, _)| known(k))
        .find(|(_, c)| c.requested_date.is_some());
    let c_at = last_requested_change.map(|(k, _)| k.at);
    let requested = last_requested_change
        .and_then(|(_, c)| c.requested_date)
        .unwrap_or(placed.requested_date);
    let mut promises: Vec<(&EventKey, Date)> = line
        .confirmed
        .iter()
        .filter(|(k, _)| known(k))
        .map(|(k, d)| (k, *d))
        .collect();
    if let Some(p) = placed.promised_date {
        promises.push((placed_key, p));
    }
    promises.sort_by(|a, b| a.0.cmp(b.0));
    promises
        .into_iter()
        .find(|(k, _)| c_at.is_none_or(|c| k.at >= c))
        .map_or(requested, |(_, d)| d)
}

/// The deadline (due date + grace) of a placed line, if it is placed and not
/// cancelled: what its receipts are late against.
fn open_deadline(line: &LineEvents, policy: &Policy) -> Option<Date> {
    let (placed_key, placed) = line.placed.first()?;
    if line.cancelled.first().is_some() {
        return None;
    }
    let due = due_date(line, placed_key, placed);
    Some(Date(due.0.saturating_add(policy.grace_days)))
}

/// One counted receipt's terms: the return-rate denominator (whether or not the line
/// exists) and, on a placed, uncancelled line, its days late; none when the line's unit
/// is not counted (a line not placed yet has no known unit: its receipts count).
pub(crate) fn receipt_terms(
    line: &LineEvents,
    r: &Received,
    policy: &Policy,
) -> Vec<(Indicator, Date, f64, f64)> {
    let countable = line
        .placed
        .first()
        .is_none_or(|(_, p)| policy.counts_unit(&p.unit));
    if !countable {
        return Vec::new();
    }
    let mut terms = vec![(Indicator::ReturnRatePpm, r.date, 0.0, r.quantity)];
    if let Some(deadline) = open_deadline(line, policy) {
        let late = f64::from((r.date.0 - deadline.0).max(0));
        terms.push((
            Indicator::AvgDaysLate,
            r.date,
            late * r.quantity,
            r.quantity,
        ));
    }
    terms
}

pub(crate) fn line_contributions(line: &LineEvents, policy: &Policy) -> Contributions {
    let mut c = Contributions::new();
    for r in line.received.values() {
        for (i, day, num, den) in receipt_terms(line, r, policy) {
            push(&mut c, i, day, num, den, 1);
        }
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
                .values()
                .filter(|r| r.date <= deadline)
                .map(|r| r.quantity),
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
    crate::leading::leading_contributions(line, policy, &mut c);
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

/// An inspection's parts: its latest record's. `countable`: the unit of the line it
/// names is counted (or the line is unknown).
pub(crate) fn inspection_contributions(
    records: &Events<Inspection>,
    countable: bool,
) -> Contributions {
    let mut c = Contributions::new();
    let Some(r) = records.values().next_back() else {
        return c;
    };
    let day = r.date;
    if countable {
        push(
            &mut c,
            Indicator::DefectPpm,
            day,
            r.defective,
            r.inspected,
            1,
        );
    }
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

pub(crate) fn case_contributions(case: &CaseEvents, policy: &Policy) -> Contributions {
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
