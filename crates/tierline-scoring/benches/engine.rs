//! The pure engine: events per second, next to a naive baseline measured in the same
//! run that recomputes the affected supplier's windows from all its events.
//!
//! `cargo bench -p tierline-scoring --bench engine` (env `BENCH_EVENTS`, default 200000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use tierline_events::{Record, sample};
use tierline_scoring::{Indicator, Policy, SupplierLedger, WINDOWS};

fn main() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let policy = Arc::new(Policy::default());
    let events: Vec<Record> = sample::mix(n, 3);
    let suppliers = events
        .iter()
        .map(|r| r.supplier_id().to_owned())
        .collect::<std::collections::HashSet<_>>()
        .len();
    println!("scoring engine: {n} events of the realistic mix, {suppliers} suppliers, one core");

    // Rebuild: every event into its supplier's ledger, then every supplier evaluated once.
    let start = Instant::now();
    let mut ledgers: HashMap<String, SupplierLedger> = HashMap::new();
    for e in &events {
        let s = e.supplier_id();
        ledgers
            .entry(s.to_owned())
            .or_insert_with(|| SupplierLedger::new(s, policy.clone()))
            .apply(e);
    }
    let applied = start.elapsed();
    let as_of = tierline_events::Date::from_ymd(2026, 12, 31).unwrap();
    for l in ledgers.values() {
        for w in WINDOWS {
            black_box(l.scorecard(as_of, w));
        }
    }
    let rebuild = start.elapsed();
    let walks_start = Instant::now();
    for l in ledgers.values() {
        black_box(l.tier_history(as_of));
        black_box(l.alert_episodes(as_of));
    }
    let walks = walks_start.elapsed();
    println!(
        "  rebuild (apply all, then scorecards 30/90/365 per supplier): {:>10.0} events/s   (apply alone {:.0} events/s; target >= 1,000,000)",
        n as f64 / rebuild.as_secs_f64(),
        n as f64 / applied.as_secs_f64()
    );

    println!(
        "  walks: tier history and alert episodes of every supplier, first day to {as_of}: {:.0} ms ({:.2} ms per supplier)",
        walks.as_secs_f64() * 1000.0,
        walks.as_secs_f64() * 1000.0 / suppliers as f64
    );

    if std::env::var("BENCH_LIVE").is_ok_and(|v| v == "0") {
        return;
    }
    // Live: with most of the history already in, each further event and the affected
    // supplier's scorecard as of that event's day.
    let warm = n - 2_000.min(n / 2);
    let tail = &events[warm..];
    let mut live: HashMap<String, SupplierLedger> = HashMap::new();
    let mut history: HashMap<String, Vec<&Record>> = HashMap::new();
    for e in &events[..warm] {
        let s = e.supplier_id();
        live.entry(s.to_owned())
            .or_insert_with(|| SupplierLedger::new(s, policy.clone()))
            .apply(e);
        history.entry(s.to_owned()).or_default().push(e);
    }
    let start = Instant::now();
    for e in tail {
        let s = e.supplier_id();
        let l = live
            .entry(s.to_owned())
            .or_insert_with(|| SupplierLedger::new(s, policy.clone()));
        l.apply(e);
        let day = e
            .envelope()
            .and_then(|v| v.occurred_at.date())
            .unwrap_or(as_of);
        black_box(l.window(Indicator::OtifRate, day, 90));
        black_box(l.scorecard(day, 90));
    }
    let ours = tail.len() as f64 / start.elapsed().as_secs_f64();
    // Naive: the supplier's windows recomputed from all its events so far.
    let start = Instant::now();
    for e in tail {
        let s = e.supplier_id();
        let all = history.entry(s.to_owned()).or_default();
        all.push(e);
        let mut l = SupplierLedger::new(s, policy.clone());
        for past in all.iter() {
            l.apply(past);
        }
        let day = e
            .envelope()
            .and_then(|v| v.occurred_at.date())
            .unwrap_or(as_of);
        black_box(l.window(Indicator::OtifRate, day, 90));
        black_box(l.scorecard(day, 90));
    }
    let naive = tail.len() as f64 / start.elapsed().as_secs_f64();
    println!(
        "  live, {} events after {warm} (~{} per supplier): incremental + scorecard per event: {ours:>10.0} events/s",
        tail.len(),
        warm / suppliers
    );
    println!(
        "  live, same events: naive recompute from all the supplier's events + scorecard:     {naive:>10.0} events/s   incremental is {:.1}x",
        ours / naive
    );
}
