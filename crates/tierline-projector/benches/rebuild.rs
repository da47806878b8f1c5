//! Rebuild throughput: events per second replayed from PostgreSQL into the
//! projections, next to reading and decoding the same events alone in the same run,
//! both along the global cursor in pages and by one COPY (the replay's floor). The
//! naive recomputation baseline of the scoring itself is in the engine bench.
//!
//! `cargo bench -p tierline-projector --bench rebuild` (env `BENCH_EVENTS`, default 1000000:
//! a year of 300 suppliers, as the simulator produces; below that, the daily-bucket rows
//! to write, which grow with supplier-days rather than events, weigh more per event).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use tierline_events::{Codec, Framing, Timestamp, sample};
use tierline_projector::{FixedClock, Projector};
use tierline_scoring::Policy;
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
    let db = tierline_store::testing::pg()
        .await
        .expect("PostgreSQL reachable");
    let codec = Codec::default();
    eprintln!("appending {n} events ...");
    let records = sample::mix(n, 21);
    for chunk in records.chunks(1000) {
        let events = chunk
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
    }
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
        codec,
        Arc::new(Policy::default()),
        "bench",
    )
    .await
    .unwrap();
    let start = Instant::now();
    let rebuilt = p.rebuild(&clock).await.unwrap();
    let rebuild = rebuilt as f64 / start.elapsed().as_secs_f64();
    println!(
        "rebuild from PostgreSQL: {n} events, {} suppliers, projections as of 2026-12-31",
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
    db.drop_db().await.unwrap();
}
