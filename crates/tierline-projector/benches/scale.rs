//! The projector at ten thousand suppliers: a live page of 10,000 events touching
//! 10,000 suppliers (about 40 stored events each), projected and committed with every
//! window's scorecard, and the daily rollover of those suppliers. Baseline in the same
//! run: the same work by the per-supplier path (each supplier walked from its first day
//! and written by itself, as every step worked before batching).
//!
//! `cargo bench -p tierline-projector --bench scale` (env `BENCH_STORE`, `postgres`
//! (default) or `sqlite`; `BENCH_SUPPLIERS`, default 10000; `BENCH_BASELINE=0` skips the
//! per-supplier runs, which take minutes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tierline_clock::FixedClock;
use tierline_events::sample::{Behaviour, scripted_supplier};
use tierline_events::{Codec, Date, Disposition, InspectionCompleted, Record, Timestamp};
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::EventStore;
use tierline_store::testing::{Backend, fresh};

/// 2026-12-31, the live day.
const TODAY: i32 = 20_818;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let suppliers: usize = common::env("BENCH_SUPPLIERS", 10_000);
    let baseline = common::env("BENCH_BASELINE", 1) == 1;
    let backend = match std::env::var("BENCH_STORE").as_deref() {
        Ok("sqlite") => Backend::Sqlite,
        _ => Backend::Postgres,
    };
    let db = fresh(backend).await.expect("store reachable");
    let codec = Codec::default();
    eprintln!("appending the history of {suppliers} suppliers ...");
    let mut history = Vec::new();
    for k in 0..suppliers {
        // Two weeks of daily lines each, starting anywhere in the year before.
        let start = Date(TODAY - 360 + (k * 7 % 340) as i32);
        let b = Behaviour {
            days_late: (k % 4) as i32,
            defect_rate: (k % 5) as f64 * 0.01,
            price_premium: 0.0,
        };
        history.extend(scripted_supplier(&supplier(k), start, 14, b));
        if history.len() >= 20_000 {
            common::append(&db.store, &std::mem::take(&mut history), 5000).await;
        }
    }
    common::append(&db.store, &history, 5000).await;
    let stored = db.store.count().await.unwrap();
    let policy = Arc::new(Policy::default());
    let mut p = Projector::open(db.store.clone(), codec.clone(), policy, "bench")
        .await
        .unwrap();
    let day = |d: i32| FixedClock::noon(Date(d));
    let started = Instant::now();
    p.rebuild(&day(TODAY)).await.unwrap();
    println!(
        "{suppliers} suppliers, {stored} stored events ({:.1} each), {backend:?}; rebuilt in {:.1} s",
        stored as f64 / suppliers as f64,
        started.elapsed().as_secs_f64()
    );

    // Live pages: one inspection for every supplier.
    let mut page_times = Vec::new();
    for (round, per_supplier) in [(0, false), (1, true), (2, false)] {
        if per_supplier && !baseline {
            continue;
        }
        let page: Vec<Record> = (0..suppliers).map(|k| inspection(k, round)).collect();
        common::append(&db.store, &page, 5000).await;
        p.set_per_supplier(per_supplier);
        let start = Instant::now();
        let n = p.step(&day(TODAY), suppliers).await.unwrap();
        assert_eq!(n, suppliers);
        page_times.push((per_supplier, start.elapsed()));
    }
    println!(
        "a live page of {suppliers} events touching {suppliers} suppliers (every window's scorecard):"
    );
    report(&page_times, "page", 1.0);

    // Rollovers: the next days, no new events.
    let mut rollovers = Vec::new();
    for (k, per_supplier) in [(1, false), (2, true), (3, false)] {
        if per_supplier && !baseline {
            continue;
        }
        p.set_per_supplier(per_supplier);
        let start = Instant::now();
        assert_eq!(p.step(&day(TODAY + k), suppliers).await.unwrap(), 0);
        rollovers.push((per_supplier, start.elapsed()));
    }
    println!("the daily rollover of {suppliers} suppliers:");
    report(&rollovers, "rollover", 10.0);
    p.release().await;
    db.cleanup().await;
}

fn report(times: &[(bool, Duration)], what: &str, target: f64) {
    let batched: Vec<f64> = times
        .iter()
        .filter(|(per, _)| !per)
        .map(|(_, t)| t.as_secs_f64())
        .collect();
    let best = batched.iter().copied().fold(f64::INFINITY, f64::min);
    let per = times
        .iter()
        .find(|(per, _)| *per)
        .map(|(_, t)| t.as_secs_f64());
    if let Some(per) = per {
        println!("  per supplier (baseline):  {per:>8.2} s");
    }
    let runs: Vec<String> = batched.iter().map(|t| format!("{t:.2}")).collect();
    print!(
        "  batched:                  {best:>8.2} s (runs: {}; target <= {target} s)",
        runs.join(", ")
    );
    match per {
        Some(per) => println!("   {:.1}x faster than per supplier", per / best),
        None => println!(),
    }
    let _ = what;
}

fn supplier(k: usize) -> String {
    format!("SUP-{k:05}")
}

/// Round `round`'s inspection of supplier `k`, on the live day.
fn inspection(k: usize, round: u128) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128((0x0191_u128 << 112) | (round << 64) | k as u128),
        source: "qms-live".into(),
        occurred_at: Timestamp(i64::from(TODAY) * 86_400_000 + 3_600_000 * (1 + round as i64)),
        supplier_id: supplier(k),
        inspection_id: format!("IN-LIVE-{round}-{k}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "ITEM-1".into(),
        inspected_quantity: 100.0,
        defective_quantity: (k % 7) as f64,
        critical_defects: 0,
        disposition: Disposition::Accepted,
        posting_date: None,
    }
    .into()
}
