//! The ERP's corrections (docs/scoring.md "Corrections"): a receipt and an inspection
//! are identified by their business ids (the latest record counts), a reversal voids
//! a receipt for every date, and a posting date is a record's date.

use std::sync::Arc;

use super::{NodeId, SupplierLedger};
use crate::entity::{EventKey, Events, Inspection, ReceiptEvents, State};

impl SupplierLedger {
    /// Applies `f` to the receipt's records, then moves what it counts to the line its
    /// latest record names (or off every line, when reversed), marking the lines it
    /// left and joined.
    pub(super) fn receipt(&mut self, receipt_id: &str, f: impl FnOnce(&mut ReceiptEvents)) {
        let id: Arc<str> = match self.receipts.get_key_value(receipt_id) {
            Some((k, _)) => k.clone(),
            None => receipt_id.into(),
        };
        let (events, counted_on) = self.receipts.entry(id.clone()).or_default();
        f(events);
        let now = events.counted().cloned();
        if let Some(old) = counted_on.take() {
            if let State::Line(l) = &mut self.nodes[old as usize].state {
                l.received.remove(&id);
            }
            self.mark(old);
        }
        if let Some((po, line, received)) = now {
            let node = self.line(&po, line, |l| {
                l.received.insert(id.clone(), received);
            });
            if let Some((_, on)) = self.receipts.get_mut(&id) {
                *on = Some(node);
            }
            self.mark(node);
        }
    }

    /// The inspection's entity (created on first sight), with the record added.
    pub(super) fn inspection(
        &mut self,
        inspection_id: &str,
        key: EventKey,
        record: Inspection,
    ) -> NodeId {
        let id = self.inspection_node(inspection_id);
        if let Some((po, line)) = &record.line
            && self.policy.countable_units.is_some()
        {
            let named = self
                .inspections_by_line
                .entry((po.clone(), *line))
                .or_default();
            if !named.contains(&id) {
                named.push(id);
            }
        }
        if let State::Inspection(records) = &mut self.nodes[id as usize].state {
            records.insert(key, record);
        }
        id
    }

    fn inspection_node(&mut self, inspection_id: &str) -> NodeId {
        if let Some(id) = self.inspections.get(inspection_id) {
            return *id;
        }
        let id = self.node(State::Inspection(Events::default()));
        self.inspections.insert(inspection_id.into(), id);
        id
    }

    /// Under `countable_units`, a placement makes the line's unit known: the
    /// inspections naming the line are recomputed.
    pub(super) fn mark_inspections_of(&mut self, po: &str, line: i32) {
        if self.policy.countable_units.is_none() {
            return;
        }
        let named = self
            .inspections_by_line
            .get(&(Arc::<str>::from(po), line))
            .cloned()
            .unwrap_or_default();
        for id in named {
            self.mark(id);
        }
    }

    /// Whether an inspection's quantities count: the line its latest record names has
    /// a counted unit, or is not known.
    pub(super) fn inspection_countable(&self, records: &Events<Inspection>) -> bool {
        if self.policy.countable_units.is_none() {
            return true;
        }
        let Some((po, line)) = records.values().next_back().and_then(|r| r.line.as_ref()) else {
            return true;
        };
        let unit = self
            .lines
            .get(po)
            .and_then(|ls| ls.iter().find(|(n, _)| n == line))
            .and_then(|(_, id)| match &self.nodes[*id as usize].state {
                State::Line(l) => l.placed.first().map(|(_, p)| p.unit.clone()),
                _ => None,
            });
        unit.is_none_or(|unit| self.policy.counts_unit(&unit))
    }
}
