//! Source health on both backends: four weeks of three feeds, one of which died four
//! days ago, one that rests at weekends, one whose volume collapsed yesterday.
//! The projector counts them page by page; the verdicts, the gauges and a rebuild agree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use tierline_clock::FixedClock;
use tierline_events::{Codec, Date, Disposition, InspectionCompleted, Record, Timestamp};
use tierline_projections::health::SourceStatus;
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::EventStore;
use tierline_store::testing::{Backend, fresh};

const DAY_MS: i64 = 86_400_000;

fn now() -> Timestamp {
    // A Monday.
    Timestamp::parse_rfc3339("2026-06-15T09:00:00Z").unwrap()
}

fn inspection(source: &str, n: u128, at: Timestamp) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n),
        source: source.into(),
        occurred_at: at,
        supplier_id: format!("SUP-{}", n % 5),
        inspection_id: format!("IN-{n}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "I".into(),
        inspected_quantity: 100.0,
        defective_quantity: 0.0,
        critical_defects: 0,
        disposition: Disposition::Accepted,
        posting_date: None,
    }
    .into()
}

/// Appends 30 days of the three feeds, one batch per day at 10:00; returns the count.
async fn seed(store: &impl EventStore) -> usize {
    let today = now().date().unwrap();
    let mut n: u128 = 0;
    let mut total = 0;
    for back in (1..=30).rev() {
        let day = Date(today.0 - back);
        let at = Timestamp(i64::from(day.0) * DAY_MS + 10 * 3_600_000);
        // 1970-01-01 was a Thursday: day % 7 == 2 is Saturday, 3 Sunday.
        let weekend = matches!(day.0.rem_euclid(7), 2 | 3);
        let mut records = Vec::new();
        let mut add = |source: &str, k: usize, records: &mut Vec<Record>| {
            for _ in 0..k {
                n += 1;
                records.push(inspection(source, n, at));
            }
        };
        // Died four days ago.
        if back >= 4 {
            add("plant-a", 3, &mut records);
        }
        // Rests at weekends (its last event: Friday 10:00, 71 hours before now).
        if !weekend {
            add("plant-b", 2, &mut records);
        }
        // 40 a day, 5 yesterday.
        add("plant-c", if back == 1 { 5 } else { 40 }, &mut records);
        total += records.len();
        common::append_at(store, &records, Some(at)).await;
    }
    total
}

fn gauge(text: &str, name: &str, source: &str) -> f64 {
    let prefix = format!("{name}{{source=\"{source}\",record=\"InspectionCompleted\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
}

async fn scenario(backend: Backend) {
    let db = fresh(backend).await.unwrap();
    let total = seed(&db.store).await;
    let clock = FixedClock(now());
    let mut p = Projector::open(
        db.store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    p.set_source_health_every(std::time::Duration::ZERO);
    // Small pages: a day's counts are added up over several steps.
    assert_eq!(common::project(&mut p, &clock, 17, total).await, total);
    let live = p.projections().source_health(now()).await.unwrap();
    let by = |s: &str| live.iter().find(|h| h.source == s).unwrap();

    let a = by("plant-a");
    assert_eq!(a.status, SourceStatus::Stale, "{a:?}");
    assert_eq!(a.silent_seconds, 95 * 3600);
    assert_eq!((a.today, a.yesterday), (0, 0));
    // 25 days of 3 over the 28 days before today.
    assert_eq!(a.baseline_daily, Some(75.0 / 28.0));
    // Three times its usual gap between events (a day / 2.68), more than a day.
    assert_eq!(a.stale_after_seconds, 96_768);
    assert!(
        a.reason
            .contains("no InspectionCompleted from plant-a for 3 days"),
        "{}",
        a.reason
    );

    let b = by("plant-b");
    assert_eq!(
        b.status,
        SourceStatus::Ok,
        "a weekend is not a dead feed: {b:?}"
    );
    assert_eq!(b.silent_seconds, 71 * 3600);
    assert_eq!(b.stale_after_seconds, 4 * 86_400);

    let c = by("plant-c");
    assert_eq!(c.status, SourceStatus::Quiet, "{c:?}");
    assert_eq!(c.yesterday, 5);
    assert_eq!(c.baseline_daily, Some((27.0 * 40.0 + 5.0) / 28.0));
    // Stale first, then quiet.
    let order: Vec<&str> = live.iter().map(|h| h.source.as_str()).collect();
    assert_eq!(order, ["plant-a", "plant-c", "plant-b"]);

    // The gauges (measured while idle, too).
    assert_eq!(p.step(&clock, 100).await.unwrap(), 0);
    let text = p.metrics().encode();
    assert_eq!(gauge(&text, "tierline_source_stale", "plant-a"), 1.0);
    assert_eq!(gauge(&text, "tierline_source_stale", "plant-b"), 0.0);
    assert_eq!(
        gauge(&text, "tierline_source_silence_seconds", "plant-a"),
        (95 * 3600) as f64
    );
    assert_eq!(
        gauge(&text, "tierline_source_events_yesterday", "plant-c"),
        5.0
    );

    // Later that week plant-a is back: ok again.
    let back = Timestamp(now().0 + 3_600_000);
    common::append_at(
        &db.store,
        &[inspection("plant-a", 99_999, back)],
        Some(back),
    )
    .await;
    let later = FixedClock(Timestamp(back.0 + 60_000));
    assert_eq!(common::project(&mut p, &later, 100, 1).await, 1);
    let after = p.projections().source_health(later.0).await.unwrap();
    let a = after.iter().find(|h| h.source == "plant-a").unwrap();
    assert_eq!((a.status, a.today), (SourceStatus::Ok, 1));

    // A rebuild recounts from the store: the same verdicts.
    p.rebuild(&later).await.unwrap();
    assert_eq!(p.projections().source_health(later.0).await.unwrap(), after);
    p.release().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_health_on_postgres() {
    scenario(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_health_on_sqlite() {
    scenario(Backend::Sqlite).await;
}
