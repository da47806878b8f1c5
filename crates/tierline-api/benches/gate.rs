//! The order gate's latency (docs/benchmarks.md "The order gate"): `GET
//! /v1/suppliers/{id}/gate` at 32 concurrent clients next to the cached scorecard in
//! the same run, with the response cache and without (what every read costs while the
//! projector commits), and while the projector works through a backlog.
//!
//! `cargo bench -p tierline-api --bench gate`; env `BENCH_STORE` (`postgres`, the
//! default, or `sqlite`), `BENCH_SUPPLIERS` (default 2000), `BENCH_SECONDS` per
//! measurement (default 5), `BENCH_CONNECTIONS` (default 32), `BENCH_BACKLOG` events
//! (default 100000). The load generator shares the machine's 2 cores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tierline_api::testing::{append, noon};
use tierline_events::sample::{Behaviour, scripted_supplier};
use tierline_events::{
    Codec, Date, Record, RectificationPlanOpened, SupplierStatus, SupplierStatusDecided, Timestamp,
};
use tierline_projector::Projector;
use tierline_scoring::Policy;

mod common;

use common::{Run, env, load, load_until};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

/// A supplier's records: 16 days of lines; every 10th suspended, every 7th with a
/// plan reviewed last week (the gate's work grows with both).
fn supplier(k: usize, id: &str, today: Date, from: Date, days: i32) -> Vec<Record> {
    let b = Behaviour {
        days_late: (k % 4) as i32,
        defect_rate: [0.0, 0.003, 0.02, 0.08][k % 4],
        price_premium: [0.0, 0.03, 0.08][k % 3],
    };
    let mut out = scripted_supplier(id, from, days, b);
    let at = Timestamp(i64::from(today.0 - 12) * 86_400_000 + 9 * 3_600_000);
    let uuid =
        |n: usize| uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | (n as u128));
    if k.is_multiple_of(10) {
        out.push(
            SupplierStatusDecided {
                event_id: uuid(2 * k),
                source: "api:root".into(),
                occurred_at: at,
                supplier_id: id.into(),
                status: SupplierStatus::Suspended,
                reason: "bench".into(),
                decided_by: "P-1".into(),
                valid_until: None,
            }
            .into(),
        );
    }
    if k.is_multiple_of(7) {
        out.push(
            RectificationPlanOpened {
                event_id: uuid(2 * k + 1),
                source: "api:alice".into(),
                occurred_at: at,
                supplier_id: id.into(),
                plan_id: format!("PLAN-{k}"),
                indicator: "otif_rate".into(),
                window_days: 30,
                target: 0.95,
                due_date: Date(today.0 - 5),
                trigger_alert_id: None,
                owner: "P-2".into(),
                measures: Vec::new(),
            }
            .into(),
        );
    }
    out
}

async fn bench() {
    let suppliers = env("BENCH_SUPPLIERS", 2000) as usize;
    let seconds = env("BENCH_SECONDS", 5) as f64;
    let connections = env("BENCH_CONNECTIONS", 32) as usize;
    let backlog = env("BENCH_BACKLOG", 100_000) as usize;
    let today = Date::from_ymd(2026, 6, 15).unwrap();
    let db = common::fresh_store().await;
    let ids: Vec<String> = (0..suppliers).map(|i| format!("SUP-{i:05}")).collect();
    let t = Instant::now();
    let mut n = 0;
    for (c, chunk) in ids.chunks(500).enumerate() {
        let records: Vec<Record> = chunk
            .iter()
            .enumerate()
            .flat_map(|(k, id)| supplier(c * 500 + k, id, today, Date(today.0 - 15), 16))
            .collect();
        n += records.len();
        append(&db.store, &records).await.unwrap();
    }
    let policy = Arc::new(Policy::default());
    let clock = noon(today);
    let mut p = Projector::open(db.store.clone(), Codec::default(), policy.clone(), "main")
        .await
        .unwrap();
    p.rebuild(&clock).await.unwrap();
    eprintln!(
        "seeded {suppliers} suppliers, {n} events, projected in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (addr, uncached) = common::serve_cached_and_not(&db.store, &policy, clock, |r| r).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let ids = Arc::new(ids);
    let spread = |suffix: &'static str| -> Arc<dyn Fn(u64) -> String + Send + Sync> {
        let ids = ids.clone();
        Arc::new(move |i| {
            let k = (i.wrapping_mul(2_654_435_761) % ids.len() as u64) as usize;
            format!("/v1/suppliers/{}/{suffix}", ids[k])
        })
    };
    let scorecard = spread("scorecard");
    let gate = spread("gate?action=po");
    let unseen: Arc<dyn Fn(u64) -> String + Send + Sync> =
        Arc::new(|i| format!("/v1/suppliers/NEW-{}/gate?action=po", i % 5000));
    for path in [&scorecard, &gate, &unseen] {
        load(addr, 8, 2.0, None, path.clone()).await;
        load(uncached, 4, 0.5, None, path.clone()).await;
    }
    println!(
        "order gate, {suppliers} suppliers, {connections} connections, {seconds} s per run, load generator on the same 2 cores"
    );
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>8}",
        "route", "req/s", "p50 ms", "p99 ms", "p99 ratio"
    );
    let row = |name: &str, r: &Run, base: Option<&Run>| {
        println!(
            "{name:<40} {:>9.0} {:>9.3} {:>9.3} {:>8}",
            r.rps,
            r.p50_ms,
            r.p99_ms,
            base.map_or_else(
                || "1.00x".to_owned(),
                |b| format!("{:.2}x", r.p99_ms / b.p99_ms)
            )
        );
    };
    let sc = load(addr, connections, seconds, None, scorecard.clone()).await;
    row("GET scorecard, cached (baseline)", &sc, None);
    let g = load(addr, connections, seconds, None, gate.clone()).await;
    row("GET gate, cached", &g, Some(&sc));
    let g_raw = load(uncached, connections, seconds, None, gate.clone()).await;
    row("GET gate, cache off", &g_raw, Some(&sc));
    let u_raw = load(uncached, connections, seconds, None, unseen.clone()).await;
    row(
        "GET gate, never-seen supplier, cache off",
        &u_raw,
        Some(&sc),
    );
    let rate = g_raw.rps / 2.0;
    let paced = load(uncached, connections, seconds, Some(rate), gate.clone()).await;
    row(
        &format!("GET gate, cache off @ {rate:.0}/s"),
        &paced,
        Some(&sc),
    );

    // A backlog: `backlog` more events appended, the projector working through it in
    // pages (each commit drops the response cache) while the gate is asked.
    let per_supplier = (backlog / suppliers.max(1)).max(1);
    let days = (per_supplier / 8).clamp(1, 60) as i32;
    let mut appended = 0;
    for (c, chunk) in ids.chunks(500).enumerate() {
        let records: Vec<Record> = chunk
            .iter()
            .enumerate()
            .flat_map(|(k, id)| {
                let b = Behaviour {
                    days_late: ((c * 500 + k) % 3) as i32,
                    defect_rate: 0.01,
                    price_premium: 0.0,
                };
                scripted_supplier(&format!("{id}-B"), Date(today.0 - days + 1), days, b)
            })
            .collect();
        appended += records.len();
        append(&db.store, &records).await.unwrap();
    }
    let busy = Arc::new(AtomicBool::new(true));
    let worker = {
        let busy = busy.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            let mut done = 0;
            loop {
                let k = p.step(&clock, 2000).await.unwrap();
                done += k;
                if k == 0 {
                    break;
                }
            }
            busy.store(false, Ordering::SeqCst);
            (done, t.elapsed().as_secs_f64())
        })
    };
    let still = busy.clone();
    let during = load_until(
        addr,
        connections,
        None,
        gate.clone(),
        Arc::new(move || !still.load(Ordering::SeqCst)),
    )
    .await;
    let (projected, secs) = worker.await.unwrap();
    row(
        &format!("GET gate during a {appended}-event backlog"),
        &during,
        Some(&sc),
    );
    println!(
        "  the projector took {projected} events in {secs:.1} s ({:.0} ev/s) under that load",
        projected as f64 / secs.max(1e-9)
    );
    println!(
        "target: gate p99 <= 5 ms at {connections} clients (cached {:.3} ms, cache off {:.3} ms, during the backlog {:.3} ms)",
        g.p99_ms, g_raw.p99_ms, during.p99_ms
    );
    db.cleanup().await;
}
