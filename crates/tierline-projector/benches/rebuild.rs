//! Rebuild throughput: events per second replayed from PostgreSQL into the
//! projections, next to reading and decoding the same events alone in the same run,
//! both along the global cursor in pages and by one COPY (the replay's floor). The
//! naive recomputation baseline of the scoring itself is in the engine bench.
//!
//! Then live steps on top of that year: pages of 600 new inspections of the last two
//! days touching all 300 suppliers, the projector stepping after each: every table's
//! rows of the page in one statement, walks resumed from the first changed day;
//! baseline in the same run, page by page alternately, the per-supplier path (each
//! supplier walked from its first day and written by itself, as before batching).
//!
//! `cargo bench -p tierline-projector --bench rebuild` (env `BENCH_STORE`, `postgres`
//! (default) or `sqlite`: the same figures on the embedded store, where the "COPY
//! floor" is the replay's paged read; `BENCH_EVENTS`, default 1000000:
//! a year of 300 suppliers, as the simulator produces; below that, the daily-bucket rows
//! to write, which grow with supplier-days rather than events, weigh more per event;
//! `BENCH_LIVE_PAGES`, default 60, pages of 600 live events).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Instant;

use tierline_clock::FixedClock;
use tierline_events::{
    Codec, Disposition, Framing, InspectionCompleted, Record, Timestamp, sample,
};
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::testing::{Backend, fresh};
use tierline_store::{AppendBatch, Cursor, EventStore, NewEvent};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let backend = match std::env::var("BENCH_STORE").as_deref() {
        Ok("sqlite") => Backend::Sqlite,
        _ => Backend::Postgres,
    };
    let db = fresh(backend).await.expect("store reachable");
    let codec = Codec::default();
    eprintln!("appending {n} events ...");
    common::append(&db.store, &sample::mix(n, 21), 1000).await;
    let clock = FixedClock(Timestamp::parse_rfc3339("2026-12-31T12:00:00Z").unwrap());

    // Floor: read and decode every event along the cursor, nothing else.
    let start = Instant::now();
    let mut cursor = Cursor::START;
    let mut read = 0;
    loop {
        let page = db.store.read_global(cursor, 5000).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.cursor;
        for e in &page {
            std::hint::black_box(e.decode(&codec).unwrap());
        }
        read += page.len();
    }
    let floor = read as f64 / start.elapsed().as_secs_f64();
    // Floor of the replay path: one COPY out of the store, decoding each datum.
    let start = Instant::now();
    let copied = db
        .store
        .replay(
            Cursor::START,
            None,
            |e| -> Result<(), tierline_store::StoreError> {
                std::hint::black_box(codec.decode_datum(e.fingerprint, e.datum).unwrap());
                Ok(())
            },
        )
        .await
        .unwrap();
    let copy_floor = copied.events as f64 / start.elapsed().as_secs_f64();

    let mut p = Projector::open(
        db.store.clone(),
        codec.clone(),
        Arc::new(Policy::default()),
        "bench",
    )
    .await
    .unwrap();
    let start = Instant::now();
    let rebuilt = p.rebuild(&clock).await.unwrap();
    let rebuild = rebuilt as f64 / start.elapsed().as_secs_f64();
    println!(
        "rebuild from {backend:?}: {n} events, {} suppliers, projections as of 2026-12-31",
        p.suppliers()
    );
    println!("  read + decode along the global cursor, pages of 5,000: {floor:>10.0} events/s");
    println!(
        "  read + decode by one COPY (the replay's floor):          {copy_floor:>10.0} events/s"
    );
    println!(
        "  rebuild (replay, score, write every projection):       {rebuild:>10.0} events/s   {:.2}x the paged read, {:.2}x the COPY floor (target >= 200,000 events/s)",
        rebuild / floor,
        rebuild / copy_floor
    );

    // Live steps: even pages batched, odd pages per supplier, interleaved so both meet
    // the same table sizes and cache state.
    let pages: usize = std::env::var("BENCH_LIVE_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let (mut diff_time, mut whole_time) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    let mut live_events = 0;
    for page in 0..pages {
        let records: Vec<Record> = (0..600).map(|k| live_inspection(page * 600 + k)).collect();
        live_events += records.len();
        let events = records
            .iter()
            .map(|r| {
                let b = codec.to_bytes(r, Framing::Confluent).unwrap();
                NewEvent::from_decoded(codec.decode(&b).unwrap(), b).unwrap()
            })
            .collect();
        db.store
            .append(&AppendBatch {
                events,
                ..Default::default()
            })
            .await
            .unwrap();
        let whole = page % 2 == 1;
        p.set_per_supplier(whole);
        let start = Instant::now();
        let mut stepped = 0;
        while stepped < records.len() {
            stepped += p.step(&clock, 100_000).await.unwrap();
        }
        if whole {
            whole_time += start.elapsed();
        } else {
            diff_time += start.elapsed();
        }
    }
    let half = live_events as f64 / 2.0;
    let (diff, whole) = (
        half / diff_time.as_secs_f64(),
        half / whole_time.as_secs_f64(),
    );
    println!(
        "live steps after the year: {pages} pages of 600 inspections of the last two days, each touching ~all suppliers"
    );
    println!(
        "  per supplier (walked from the first day, written alone): {whole:>10.0} events/s   (baseline)"
    );
    println!(
        "  batched (resumed walks, one statement per table):       {diff:>10.0} events/s   {:.2}x the per-supplier path",
        diff / whole
    );
    p.release().await;
    db.cleanup().await;
}

/// A live inspection of the last two days before the clock (2026-12-31T12:00Z), for one
/// of the 300 suppliers in turn.
fn live_inspection(k: usize) -> Record {
    let at = Timestamp::parse_rfc3339("2026-12-30T00:00:00Z").unwrap().0
        + (k as i64 * 60_000) % 129_600_000;
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_9000_0000_0000_0000 | k as u128),
        source: "qms-live".into(),
        occurred_at: Timestamp(at),
        supplier_id: format!("SUP-{:05}", k % 300),
        inspection_id: format!("IN-LIVE-{k}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "ITEM".into(),
        inspected_quantity: 100.0,
        defective_quantity: (k % 7) as f64,
        critical_defects: 0,
        disposition: Disposition::Accepted,
        posting_date: None,
    }
    .into()
}
