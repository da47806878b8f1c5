//! The projector's memory as the store grows: peak RSS of a projector process that
//! rebuilds the projections and then projects a live page touching every supplier and
//! a daily rollover, after 1, 5 and 10 million stored events, with an unbounded ledger
//! cache and with a cache of 1,000 suppliers, each configuration in a process of its
//! own (this executable, run again as the child).
//!
//! The store grows as a supplier base does: suppliers of about 1,000 events each (a
//! year of lines, receipts and inspections), so 1M events are 1,000 suppliers and 10M
//! are 10,000. An unbounded cache holds every ledger; a bounded one at most 1,000.
//!
//! `cargo bench -p tierline-projector --bench memory` (env `BENCH_RSS_EVENTS`, default
//! `1000000,5000000,10000000`; `BENCH_PER_SUPPLIER`, default 1000; `BENCH_CACHES`, the
//! cache sizes to run, default `0,1000` (0: unbounded); PostgreSQL only).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Instant;

use tierline_clock::FixedClock;
use tierline_events::{
    Codec, Date, Disposition, GoodsReceived, InspectionCompleted, PurchaseOrderLinePlaced, Record,
    Timestamp,
};
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::testing::{Backend, fresh};
use tierline_store::{EventStore, Store};

/// 2026-12-31, the day the projections are brought to.
const TODAY: i32 = 20_818;
const CHILD: &str = "BENCH_MEMORY_CHILD";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match std::env::var(CHILD) {
        Ok(url) => rt.block_on(child(&url)),
        Err(_) => rt.block_on(parent()),
    }
}

async fn parent() {
    let sizes: Vec<usize> = std::env::var("BENCH_RSS_EVENTS")
        .unwrap_or_else(|_| "1000000,5000000,10000000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let per = std::env::var("BENCH_PER_SUPPLIER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000usize);
    let caches: Vec<usize> = std::env::var("BENCH_CACHES")
        .unwrap_or_else(|_| "0,1000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let db = fresh(Backend::Postgres)
        .await
        .expect("PostgreSQL reachable");
    let mut stored = 0;
    let mut rows = Vec::new();
    for size in sizes {
        eprintln!("growing the store to {size} events ...");
        let started = Instant::now();
        while stored < size {
            let batch: Vec<Record> = (stored..(stored + 20_000).min(size))
                .map(|k| event(k, per))
                .collect();
            common::append(&db.store, &batch, 10_000).await;
            stored += batch.len();
        }
        eprintln!("  appended in {:.0} s", started.elapsed().as_secs_f64());
        for &cache in &caches {
            let exe = std::env::current_exe().unwrap();
            let out = std::process::Command::new(exe)
                .env(CHILD, &db.url)
                .env("BENCH_MEMORY_CACHE", cache.to_string())
                .env("BENCH_PER_SUPPLIER", per.to_string())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            for l in String::from_utf8_lossy(&out.stderr).lines() {
                if l.starts_with("after") {
                    eprintln!("    {l}");
                }
            }
            let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            eprintln!("  cache {cache}: {line}");
            rows.push((size, cache, line));
        }
    }
    println!(
        "projector peak RSS (rebuild, then a live page touching every supplier, then a rollover), PostgreSQL"
    );
    println!(
        "{:>12} {:>10} {:>14}  (peak kB, seconds)",
        "events", "suppliers", "ledger cache"
    );
    for (size, cache, line) in &rows {
        let label = if *cache == 0 {
            "unbounded".to_owned()
        } else {
            cache.to_string()
        };
        println!("{size:>12} {:>10} {label:>14}  {line}", size / per);
    }
    for &cache in &caches {
        let peaks: Vec<f64> = rows
            .iter()
            .filter(|(_, c, _)| *c == cache)
            .filter_map(|(_, _, l)| l.split_whitespace().next()?.parse().ok())
            .collect();
        let (lo, hi) = peaks.iter().fold((f64::INFINITY, 0f64), |(lo, hi), p| {
            (lo.min(*p), hi.max(*p))
        });
        println!(
            "  cache {}: largest / smallest peak = {:.2}x (target for the bounded cache: <= 2x)",
            if cache == 0 {
                "unbounded".to_owned()
            } else {
                cache.to_string()
            },
            hi / lo
        );
    }
    db.cleanup().await;
}

/// The child: one projector with the given cache; prints "peak_kb seconds".
async fn child(url: &str) {
    let cache: usize = std::env::var("BENCH_MEMORY_CACHE")
        .unwrap()
        .parse()
        .unwrap();
    let per: usize = std::env::var("BENCH_PER_SUPPLIER")
        .unwrap()
        .parse()
        .unwrap();
    let codec = Codec::default();
    let store = Store::connect(url, codec.clone()).await.unwrap();
    let mut p = Projector::open(
        store.clone(),
        codec.clone(),
        Arc::new(Policy::default()),
        "bench",
    )
    .await
    .unwrap();
    p.set_ledger_cache(if cache == 0 { usize::MAX } else { cache });
    let started = Instant::now();
    let day = |d: i32| FixedClock::noon(Date(d));
    p.rebuild(&day(TODAY)).await.unwrap();
    eprintln!("after rebuild: {} kB now, {} kB peak", now_kb(), peak_kb());
    // A live page: one inspection for every supplier, then the next day.
    let suppliers = (store.count().await.unwrap() as usize).div_ceil(per);
    let round = store.count().await.unwrap() as usize;
    let page: Vec<Record> = (0..suppliers).map(|s| live(s, round)).collect();
    common::append(&store, &page, 10_000).await;
    p.catch_up(&day(TODAY), suppliers).await.unwrap();
    eprintln!("after page: {} kB now, {} kB peak", now_kb(), peak_kb());
    p.step(&day(TODAY + 1), suppliers).await.unwrap();
    eprintln!("after rollover: {} kB now, {} kB peak", now_kb(), peak_kb());
    p.release().await;
    println!("{} {:.1}", peak_kb(), started.elapsed().as_secs_f64());
}

fn now_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// The process's peak resident set (VmHWM), in kB.
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

fn supplier(s: usize) -> String {
    format!("SUP-{s:06}")
}

/// Event `k`: supplier `k / per`'s year of lines (placed, received 10 days later,
/// inspected on receipt), in the order a supplier base grows.
fn event(k: usize, per: usize) -> Record {
    let (s, j) = (k / per, k % per);
    let line = j / 3;
    let day = TODAY - 365 + (line * 365 / (per / 3).max(1)) as i32;
    let at = |d: i32, h: i64| Timestamp(i64::from(d) * 86_400_000 + h * 3_600_000);
    let id = uuid::Uuid::from_u128((0x0192_u128 << 112) | k as u128);
    let po = format!("PO-{}-{line}", supplier(s));
    match j % 3 {
        0 => PurchaseOrderLinePlaced {
            event_id: id,
            source: "erp".into(),
            occurred_at: at(day, 8),
            supplier_id: supplier(s),
            po_number: po,
            line_number: 1,
            item_id: "ITEM-1".into(),
            category: "fabric".into(),
            quantity: 100.0,
            unit_of_measure: "pcs".into(),
            unit_price: 10.0,
            currency: "EUR".into(),
            reference_unit_price: Some(10.0),
            requested_date: Date(day + 10),
            promised_date: None,
        }
        .into(),
        1 => GoodsReceived {
            event_id: id,
            source: "wms".into(),
            occurred_at: at(day + 10 + (s % 3) as i32, 9),
            supplier_id: supplier(s),
            receipt_id: format!("GR-{k}"),
            po_number: po,
            line_number: 1,
            quantity: 100.0,
            site: "plant-7".into(),
            delivery_note: None,
            posting_date: None,
        }
        .into(),
        _ => inspection(s, k, at(day + 10 + (s % 3) as i32, 11), (s % 5) as f64),
    }
}

fn live(s: usize, round: usize) -> Record {
    let at = Timestamp(i64::from(TODAY) * 86_400_000 + 6 * 3_600_000);
    inspection(s, round + s, at, 1.0)
}

fn inspection(s: usize, k: usize, at: Timestamp, defective: f64) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128((0x0193_u128 << 112) | k as u128),
        source: "qms".into(),
        occurred_at: at,
        supplier_id: supplier(s),
        inspection_id: format!("IN-{k}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "ITEM-1".into(),
        inspected_quantity: 100.0,
        defective_quantity: defective,
        critical_defects: 0,
        disposition: Disposition::Accepted,
        posting_date: None,
    }
    .into()
}
