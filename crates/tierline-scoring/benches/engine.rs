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

    // Rebuild: every event staged into its supplier's ledger, each ledger settled once,
    // then every supplier's scorecards 30/90/365.
    let as_of = tierline_events::Date::from_ymd(2026, 12, 31).unwrap();
    let rebuild_into = |ledgers: &mut HashMap<String, SupplierLedger>| {
        for e in &events {
            let s = e.supplier_id();
            match ledgers.get_mut(s) {
                Some(l) => l.stage(e),
                None => ledgers
                    .entry(s.to_owned())
                    .or_insert_with(|| SupplierLedger::new(s, policy.clone()))
                    .stage(e),
            };
        }
        for l in ledgers.values_mut() {
            l.settle();
            for w in WINDOWS {
                black_box(l.scorecard(as_of, w));
            }
        }
    };
    let mut best = f64::MAX;
    let mut ledgers: HashMap<String, SupplierLedger> = HashMap::new();
    for _ in 0..3 {
        ledgers = HashMap::new();
        let start = Instant::now();
        rebuild_into(&mut ledgers);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let rebuild = n as f64 / best;
    // The same events applied one at a time (each recomputes its entity and buckets).
    let start = Instant::now();
    let mut one_by_one: HashMap<String, SupplierLedger> = HashMap::new();
    for e in &events {
        let s = e.supplier_id();
        one_by_one
            .entry(s.to_owned())
            .or_insert_with(|| SupplierLedger::new(s, policy.clone()))
            .apply(e);
    }
    for l in one_by_one.values() {
        for w in WINDOWS {
            black_box(l.scorecard(as_of, w));
        }
    }
    let incremental = n as f64 / start.elapsed().as_secs_f64();
    // Naive rebuild: for each event, its supplier's ledger recomputed from all its events
    // so far, then that supplier's scorecards. Quadratic, so over a prefix only.
    let prefix = n.min(20_000);
    let start = Instant::now();
    let mut so_far: HashMap<&str, Vec<&Record>> = HashMap::new();
    for e in &events[..prefix] {
        let all = so_far.entry(e.supplier_id()).or_default();
        all.push(e);
        let mut l = SupplierLedger::new(e.supplier_id(), policy.clone());
        l.apply_all(all.iter().copied());
        for w in WINDOWS {
            black_box(l.scorecard(as_of, w));
        }
    }
    let naive = prefix as f64 / start.elapsed().as_secs_f64();
    let walks_start = Instant::now();
    for l in ledgers.values() {
        black_box(l.tier_history(as_of));
        black_box(l.alert_episodes(as_of));
    }
    let walks = walks_start.elapsed();
    println!(
        "  rebuild (stage all, settle each supplier once, scorecards 30/90/365): {rebuild:>10.0} events/s   best of 3 (target >= 1,000,000)"
    );
    println!(
        "  the same events applied one at a time + scorecards:                  {incremental:>10.0} events/s   rebuild is {:.2}x",
        rebuild / incremental
    );
    println!(
        "  naive baseline: per event, the supplier recomputed from all its events so far + scorecards (first {prefix} events, ~{} per supplier at the end): {naive:>10.0} events/s   rebuild is {:.0}x",
        prefix / suppliers,
        rebuild / naive
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
