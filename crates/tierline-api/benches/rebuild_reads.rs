//! Reads while the projections are rebuilt: the scorecard and supplier-list endpoints
//! under a steady paced load while `rebuild` replays 1,000,000 events, next to the same
//! load without a rebuild in the same run. The rebuild writes its read model in one
//! transaction, so every answer must be a full one (200 with the supplier's scorecard,
//! a full first page of the list): the load generator fails on anything else.
//!
//! `cargo bench -p tierline-api --bench rebuild_reads`; env `BENCH_STORE` (`postgres`,
//! the default, or `sqlite`), `BENCH_EVENTS` (default 1000000), `BENCH_RATE` requests/s
//! in all (default 500), `BENCH_CONNECTIONS` (default 16). The response cache is off:
//! every read goes to the database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{KEY, Run, env, load, load_until};
use tierline_api::testing::append;
use tierline_api::{ApiConfig, ApiKeys, HttpMetrics, Reader, app};
use tierline_clock::FixedClock;
use tierline_events::{Codec, Timestamp, sample};
use tierline_projector::Projector;
use tierline_scoring::Policy;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

async fn bench() {
    let n = env("BENCH_EVENTS", 1_000_000) as usize;
    let rate = env("BENCH_RATE", 500) as f64;
    let connections = env("BENCH_CONNECTIONS", 16) as usize;
    let backend = match std::env::var("BENCH_STORE").as_deref() {
        Ok("sqlite") => tierline_store::testing::Backend::Sqlite,
        _ => tierline_store::testing::Backend::Postgres,
    };
    let db = tierline_store::testing::fresh(backend).await.unwrap();
    eprintln!("appending {n} events ...");
    for chunk in sample::mix(n, 21).chunks(10_000) {
        append(&db.store, chunk).await.unwrap();
    }
    let policy = Arc::new(Policy::default());
    let clock = FixedClock(Timestamp::parse_rfc3339("2026-12-31T12:00:00Z").unwrap());
    let mut p = Projector::open(db.store.clone(), Codec::default(), policy.clone(), "main")
        .await
        .unwrap();
    let started = Instant::now();
    p.rebuild(&clock).await.unwrap();
    eprintln!("first build: {:.1} s", started.elapsed().as_secs_f64());
    let ids: Vec<String> = supplier_ids(&db.store).await;

    let mut config = ApiConfig::new(ApiKeys::from_keys([KEY]));
    config.cache = false;
    let (router, _) = app(
        Reader::new(db.store.clone(), policy.clone(), Codec::default()),
        Arc::new(clock),
        &config,
        Arc::new(HttpMetrics::default()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = tierline_http::HttpLimits {
        max_requests_per_connection: u32::MAX,
        ..Default::default()
    };
    tokio::spawn(async move {
        tierline_api::serve(listener, router, limits, std::future::pending())
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids = Arc::new(ids);
    let scorecard: Arc<dyn Fn(u64) -> String + Send + Sync> = {
        let ids = ids.clone();
        Arc::new(move |i| {
            let k = (i.wrapping_mul(2_654_435_761) % ids.len() as u64) as usize;
            format!("/v1/suppliers/{}/scorecard", ids[k])
        })
    };
    load(addr, 4, 1.0, None, scorecard.clone()).await;

    // The same paced load alone, then while the projections are rebuilt.
    let quiet = load(addr, connections, 10.0, Some(rate), scorecard.clone()).await;
    let done = Arc::new(AtomicBool::new(false));
    let during = {
        let (done, path) = (done.clone(), scorecard.clone());
        tokio::spawn(async move {
            load_until(
                addr,
                connections,
                Some(rate),
                path,
                Arc::new(move || done.load(Ordering::Relaxed)),
            )
            .await
        })
    };
    let started = Instant::now();
    let rebuilt = p.rebuild(&clock).await.unwrap();
    let took = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let during = during.await.unwrap();
    // The list's first page is full after the rebuild too.
    let list = load(
        addr,
        2,
        1.0,
        None,
        Arc::new(|_| "/v1/suppliers?page_size=50".to_owned()),
    )
    .await;
    p.release().await;

    println!(
        "reads during a rebuild of {rebuilt} events ({backend:?}, {:.1} s), scorecard endpoint, {connections} connections paced at {rate:.0} req/s, cache off",
        took
    );
    let row = |name: &str, r: &Run| {
        println!(
            "  {name:<28} {:>7} requests  p50 {:>7.2} ms  p99 {:>7.2} ms",
            r.requests, r.p50_ms, r.p99_ms
        );
    };
    row("without a rebuild (baseline)", &quiet);
    row("during the rebuild", &during);
    println!(
        "  p99 during / without: {:.2}x; every answer 200 with a scorecard ({} list pages after it)",
        during.p99_ms / quiet.p99_ms,
        list.requests
    );
    db.cleanup().await;
}

/// The suppliers the sample has (every one has a scorecard once built).
async fn supplier_ids(store: &tierline_store::Store) -> Vec<String> {
    let head = store.head_cursor().await.unwrap();
    store.suppliers_upto(head).await.unwrap()
}
