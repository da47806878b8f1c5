//! Read API throughput and latency for 10,000 suppliers, next to a hello-world route
//! served by the same router, process and listener in the same run.
//!
//! `cargo bench -p tierline-api --bench api`; env `BENCH_STORE` (`postgres`, the
//! default, or `sqlite`), `BENCH_SUPPLIERS` (default 10000),
//! `BENCH_SECONDS` per measurement (default 5), `BENCH_CONNECTIONS` (default 32).
//! The load generator runs on the same machine (and shares its 2 cores).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use tierline_api::testing::{append, noon};
use tierline_events::sample::{Behaviour, scripted_supplier};
use tierline_events::{Codec, Date};
use tierline_projector::Projector;
use tierline_scoring::Policy;

mod common;

use common::{Run, env, load};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

async fn bench() {
    let suppliers = env("BENCH_SUPPLIERS", 10_000) as usize;
    let seconds = env("BENCH_SECONDS", 5) as f64;
    let connections = env("BENCH_CONNECTIONS", 32) as usize;
    let today = Date::from_ymd(2026, 6, 15).unwrap();
    let db = common::fresh_store().await;
    // Seed: suppliers with 16 days of lines, spread over behaviours (tiers vary).
    let t = Instant::now();
    let mut n = 0;
    let ids: Vec<String> = (0..suppliers).map(|i| format!("SUP-{i:05}")).collect();
    for chunk in ids.chunks(1000) {
        let mut records = Vec::new();
        for (k, id) in chunk.iter().enumerate() {
            let b = Behaviour {
                days_late: (k % 4) as i32,
                defect_rate: [0.0, 0.003, 0.02, 0.08][k % 4],
                price_premium: [0.0, 0.03, 0.08][k % 3],
            };
            records.extend(scripted_supplier(id, Date(today.0 - 15), 16, b));
        }
        n += records.len();
        append(&db.store, &records).await.unwrap();
    }
    let policy = Arc::new(Policy::default());
    let clock = noon(today);
    let mut p = Projector::open(db.store.clone(), Codec::default(), policy.clone(), "main")
        .await
        .unwrap();
    p.rebuild(&clock).await.unwrap();
    p.release().await;
    eprintln!(
        "seeded {suppliers} suppliers, {n} events, projected in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // The same service twice: with the response cache (the default) and without.
    let (addr, uncached) = common::serve_cached_and_not(&db.store, &policy, clock, |r| {
        r.route("/hello", get(|| async { "hello, world" }))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let ids = Arc::new(ids);
    let scorecard: Arc<dyn Fn(u64) -> String + Send + Sync> = {
        let ids = ids.clone();
        // A spread of suppliers (multiplicative hash), not one hot row.
        Arc::new(move |i| {
            let k = (i.wrapping_mul(2_654_435_761) % ids.len() as u64) as usize;
            format!("/v1/suppliers/{}/scorecard", ids[k])
        })
    };
    let list: Arc<dyn Fn(u64) -> String + Send + Sync> =
        Arc::new(|_| "/v1/suppliers?page_size=50".to_owned());
    let hello: Arc<dyn Fn(u64) -> String + Send + Sync> = Arc::new(|_| "/hello".to_owned());
    // Warm up every path (and fill the cache with every supplier's scorecard).
    for p in [&hello, &scorecard, &list] {
        load(addr, 4, 0.5, None, p.clone()).await;
        load(uncached, 4, 0.5, None, p.clone()).await;
    }
    load(addr, 8, 3.0, None, scorecard.clone()).await;
    println!(
        "read API, {suppliers} suppliers, {connections} connections, {seconds} s per run, load generator on the same 2 cores"
    );
    println!(
        "{:<34} {:>10} {:>9} {:>9} {:>8}",
        "route", "req/s", "p50 ms", "p99 ms", "ratio"
    );
    let base = load(addr, connections, seconds, None, hello.clone()).await;
    let row = |name: &str, r: &Run, ratio: Option<f64>| {
        println!(
            "{name:<34} {:>10.0} {:>9.3} {:>9.3} {:>8}",
            r.rps,
            r.p50_ms,
            r.p99_ms,
            ratio.map_or_else(|| "1.00x".to_owned(), |x| format!("{x:.2}x"))
        );
    };
    row("GET /hello (baseline)", &base, None);
    let sc = load(addr, connections, seconds, None, scorecard.clone()).await;
    row(
        "GET /v1/suppliers/{id}/scorecard",
        &sc,
        Some(sc.rps / base.rps),
    );
    let ls = load(addr, connections, seconds, None, list.clone()).await;
    row(
        "GET /v1/suppliers (page of 50)",
        &ls,
        Some(ls.rps / base.rps),
    );
    let sc_raw = load(uncached, connections, seconds, None, scorecard.clone()).await;
    row(
        "  scorecard, cache off",
        &sc_raw,
        Some(sc_raw.rps / base.rps),
    );
    let ls_raw = load(uncached, connections, seconds, None, list.clone()).await;
    row("  list, cache off", &ls_raw, Some(ls_raw.rps / base.rps));
    println!("at half of each route's peak (paced):");
    for (name, at, peak, path) in [
        ("GET /hello", addr, base.rps, hello),
        ("scorecard", addr, sc.rps, scorecard.clone()),
        ("list", addr, ls.rps, list.clone()),
        ("scorecard, cache off", uncached, sc_raw.rps, scorecard),
        ("list, cache off", uncached, ls_raw.rps, list),
    ] {
        let r = load(at, connections, seconds, Some(peak / 2.0), path).await;
        row(&format!("{name} @ {:.0}/s", peak / 2.0), &r, None);
    }
    println!(
        "targets: scorecard >= 0.5x hello-world throughput ({:.2}x); scorecard p99 <= 10 ms at half of peak",
        sc.rps / base.rps
    );
    db.cleanup().await;
}
