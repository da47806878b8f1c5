//! The simulator against the real scoring engine: the suppliers with an incident are
//! the ones flagged after it starts; the steady good ones are not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use tierline_events::{Date, Record, RecordKind};
use tierline_scoring::{Policy, SupplierLedger, Tier};
use tierline_sim::{IncidentKind, SimConfig, Simulator};

fn rank(t: Tier) -> i32 {
    match t {
        Tier::Strategic => 4,
        Tier::Key => 3,
        Tier::Reserve => 2,
        Tier::AtRisk => 1,
        Tier::Unrated => 0,
    }
}

#[test]
fn incidents_are_flagged_and_steady_suppliers_are_not() {
    let today = Date::from_ymd(2026, 6, 30).unwrap();
    let config = SimConfig::ending(today, 365, 48, 7);
    let mut sim = Simulator::new(config.clone());
    let policy = Arc::new(Policy::default());
    let mut ledgers: BTreeMap<String, SupplierLedger> = BTreeMap::new();
    let (mut kinds, mut seen, mut duplicates, mut late, mut total) =
        (HashSet::new(), HashSet::new(), 0, 0, 0);
    for d in config.start.0..=today.0 {
        for r in sim.emit_day(Date(d)) {
            let env = r.envelope().unwrap();
            total += 1;
            kinds.insert(r.kind());
            if !seen.insert((env.source.to_owned(), env.event_id)) {
                duplicates += 1;
            }
            if env.occurred_at.date().unwrap().0 < d {
                late += 1;
            }
            let id = env.supplier_id.to_owned();
            ledgers
                .entry(id.clone())
                .or_insert_with(|| SupplierLedger::new(id, policy.clone()))
                .apply(&r);
        }
    }
    // Every inbound record type, late arrivals and duplicates.
    for k in RecordKind::ALL
        .iter()
        .filter(|k| !k.default_topic().contains("alerts"))
    {
        assert!(kinds.contains(k), "no {}", k.name());
    }
    assert!(
        duplicates > total / 200 && late > total / 100,
        "{duplicates} duplicates, {late} late of {total}"
    );
    // Determinism: the same seed, the same stream.
    let mut again = Simulator::new(config.clone());
    let a: Vec<Record> = (config.start.0..config.start.0 + 20)
        .flat_map(|d| again.emit_day(Date(d)))
        .collect();
    let mut third = Simulator::new(config.clone());
    let b: Vec<Record> = (config.start.0..config.start.0 + 20)
        .flat_map(|d| third.emit_day(Date(d)))
        .collect();
    assert_eq!(a, b);

    let mut flagged_incidents = 0;
    let mut incidents = 0;
    let mut steady = 0;
    for p in sim.profiles() {
        let l = &ledgers[&p.supplier_id];
        let episodes = l.alert_episodes(today);
        match p.incident {
            Some(inc) if inc.kind != IncidentKind::Recovery => {
                incidents += 1;
                let before = l.tier_on(Date(inc.start.0 - 1));
                let worst_after = (inc.start.0..=today.0)
                    .map(|d| rank(l.tier_on(Date(d))))
                    .min()
                    .unwrap();
                let alerted = episodes.iter().any(|e| e.started_on >= inc.start);
                let dropped = worst_after < rank(before);
                if alerted || dropped {
                    flagged_incidents += 1;
                }
                // Nothing before the incident: the flag is about it.
                assert!(
                    episodes
                        .iter()
                        .all(|e| e.started_on >= Date(inc.start.0 - 30)
                            || e.ended_on.is_some_and(|x| x < inc.start)),
                    "{} has an alert open long before its incident",
                    p.supplier_id
                );
                assert!(
                    alerted || dropped,
                    "{} ({:?} from {}) was not flagged",
                    p.supplier_id,
                    inc.kind,
                    inc.start
                );
            }
            Some(inc) => {
                // A recovery: rated higher at the end than just before the recovery.
                assert!(
                    rank(l.tier_on(today)) > rank(l.tier_on(Date(inc.start.0 - 1))),
                    "{} did not recover: {:?} -> {:?}",
                    p.supplier_id,
                    l.tier_on(Date(inc.start.0 - 1)),
                    l.tier_on(today)
                );
            }
            None if p.on_time >= 0.99 && p.defect_rate <= 0.001 => {
                steady += 1;
                // After the first 60 days (windows filled), never alerted, rated high.
                let warm = Date(config.start.0 + 60);
                let late_alerts: Vec<_> =
                    episodes.iter().filter(|e| e.started_on >= warm).collect();
                assert!(
                    late_alerts.is_empty(),
                    "steady {} alerted: {late_alerts:?}",
                    p.supplier_id
                );
                assert!(
                    rank(l.tier_on(today)) >= rank(Tier::Key),
                    "steady {} is {:?}",
                    p.supplier_id,
                    l.tier_on(today)
                );
            }
            None => {}
        }
    }
    assert!(
        incidents >= 10 && steady >= 5,
        "{incidents} incidents, {steady} steady"
    );
    assert_eq!(flagged_incidents, incidents);
}

#[test]
fn the_stream_carries_the_erps_corrections() {
    let today = Date::from_ymd(2026, 3, 31).unwrap();
    let config = SimConfig::ending(today, 90, 30, 11);
    let mut sim = Simulator::new(config.clone());
    let mut reversed = HashSet::new();
    let mut receipts = HashSet::new();
    let mut inspections: BTreeMap<String, HashSet<uuid::Uuid>> = BTreeMap::new();
    let (mut other_day, mut sites, mut units) = (0, HashSet::new(), HashSet::new());
    for d in config.start.0..=today.0 {
        for r in sim.emit_day(Date(d)) {
            match &r {
                Record::GoodsReceiptReversed(v) => {
                    reversed.insert(v.receipt_id.clone());
                }
                Record::GoodsReceived(g) => {
                    receipts.insert(g.receipt_id.clone());
                    sites.insert(g.site.clone());
                    if g.posting_date != g.occurred_at.date() {
                        other_day += 1;
                    }
                    assert!(g.posting_date.is_some());
                }
                Record::InspectionCompleted(i) => {
                    inspections
                        .entry(i.inspection_id.clone())
                        .or_default()
                        .insert(i.event_id);
                }
                Record::PurchaseOrderLinePlaced(p) => {
                    units.insert(p.unit_of_measure.clone());
                }
                _ => {}
            }
        }
    }
    assert!(!reversed.is_empty(), "reversals");
    assert!(
        reversed.iter().all(|r| receipts.contains(r)),
        "each reverses a receipt"
    );
    let reposted = inspections.values().filter(|ids| ids.len() > 1).count();
    assert!(reposted > 0, "re-posted inspections");
    assert_eq!(sites.len(), 3, "three plants: {sites:?}");
    assert!(
        other_day > 0,
        "a plant's business day that is not the UTC date"
    );
    assert!(units.len() >= 2, "mixed units: {units:?}");
}
