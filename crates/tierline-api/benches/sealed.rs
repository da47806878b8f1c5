//! What sealing people's free text costs a read: one supplier's 100 assessments with
//! comments stored in clear (as a release before sealing stored them: the baseline)
//! next to another's 100 stored sealed under ten people's keys (opened in every
//! response), served by the same process in the same run, cache on and off.
//!
//! `cargo bench -p tierline-api --bench sealed`; env `BENCH_STORE` (`postgres`, the
//! default, or `sqlite`), `BENCH_SECONDS` per measurement (default 5),
//! `BENCH_CONNECTIONS` (default 16).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use tierline_api::testing::{append, noon};
use tierline_events::{
    AssessmentKind, CriterionScore, Date, Record, SupplierAssessmentCompleted, Timestamp,
};
use tierline_people::People;
use tierline_scoring::Policy;

mod common;

use common::{env, load};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench());
}

/// 100 assessments of `supplier`, each with a 200-character comment, by ten assessors.
fn assessments(supplier: &str, base: u128) -> Vec<Record> {
    (0..100u128)
        .map(|n| {
            SupplierAssessmentCompleted {
                event_id: uuid::Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0000 | (base + n),
                ),
                source: "api:bench".into(),
                occurred_at: Timestamp::parse_rfc3339("2026-06-10T09:00:00Z").unwrap(),
                supplier_id: supplier.into(),
                assessment_id: format!("A-{n}"),
                kind: AssessmentKind::BuyerReview,
                assessor: format!("P-{}", n % 10),
                criteria: vec![CriterionScore {
                    criterion: "cooperation".into(),
                    score: 4.0,
                    min_score: 0.0,
                    max_score: 5.0,
                }],
                valid_until: None,
                comment: Some(format!("{n:03} ").repeat(50)),
            }
            .into()
        })
        .collect()
}

async fn bench() {
    let seconds = env("BENCH_SECONDS", 5) as f64;
    let connections = env("BENCH_CONNECTIONS", 16) as usize;
    let today = Date::from_ymd(2026, 6, 15).unwrap();
    let db = common::fresh_store().await;
    let people = People::new(db.store.clone(), None);
    append(&db.store, &assessments("PLAIN-01", 0))
        .await
        .unwrap();
    let mut sealed = assessments("SEALED-01", 1000);
    for r in &mut sealed {
        people.seal_record(r, "bench", Timestamp(0)).await.unwrap();
    }
    append(&db.store, &sealed).await.unwrap();
    let policy = Arc::new(Policy::default());
    let (cached, uncached) =
        common::serve_cached_and_not(&db.store, &policy, noon(today), |r| r).await;
    let path = |s: &'static str| -> Arc<dyn Fn(u64) -> String + Send + Sync> {
        Arc::new(move |_| format!("/v1/suppliers/{s}/assessments"))
    };
    for at in [cached, uncached] {
        load(at, 4, 0.5, None, path("PLAIN-01")).await;
        load(at, 4, 0.5, None, path("SEALED-01")).await;
    }
    println!(
        "a supplier's 100 assessments with 200-character comments, {connections} connections, {seconds} s per run"
    );
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>8}",
        "route", "req/s", "p50 ms", "p99 ms", "ratio"
    );
    for (label, at) in [("cache on", cached), ("cache off", uncached)] {
        let plain = load(at, connections, seconds, None, path("PLAIN-01")).await;
        let open = load(at, connections, seconds, None, path("SEALED-01")).await;
        println!(
            "{:<40} {:>9.0} {:>9.3} {:>9.3} {:>8}",
            format!("comments in clear, {label} (baseline)"),
            plain.rps,
            plain.p50_ms,
            plain.p99_ms,
            "1.00x"
        );
        println!(
            "{:<40} {:>9.0} {:>9.3} {:>9.3} {:>7.2}x",
            format!("comments sealed, opened, {label}"),
            open.rps,
            open.p50_ms,
            open.p99_ms,
            open.rps / plain.rps
        );
    }
    db.cleanup().await;
}
