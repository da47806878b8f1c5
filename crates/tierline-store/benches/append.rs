//! Append throughput into PostgreSQL next to a raw binary COPY of the same rows into
//! an identical table and next to one transaction per event, all in the same run;
//! and the read-back rate along the global cursor.
//!
//! `cargo bench -p tierline-store --bench append` (env `BENCH_EVENTS`, default 200000;
//! `TIERLINE_TEST_PG`, the server's admin URL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use sqlx::{Connection, Executor, PgConnection};
use tierline_events::{Codec, Framing, sample};
use tierline_store::*;

const BATCH: usize = 1000;

fn events(n: usize, seed: u64) -> Vec<NewEvent> {
    let codec = Codec::default();
    sample::mix(n, seed)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let bytes = codec.to_bytes(&r, Framing::Confluent).unwrap();
            let decoded = codec.decode(&bytes).unwrap();
            NewEvent::from_decoded(decoded, bytes)
                .unwrap()
                .with_message(
                    KafkaOrigin {
                        topic: "srm.deliveries.v1".into(),
                        partition: (i % 3) as i32,
                        offset: i as i64,
                    },
                    None,
                    vec![],
                )
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let admin = std::env::var("TIERLINE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("tierline_bench_{}", std::process::id());
    let mut admin_conn = PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL reachable");
    admin_conn
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let store = PgStore::connect(&url, Codec::default()).await.unwrap();
    store.migrate().await.unwrap();
    // The same columns, defaults, identity, indexes and unique constraint; no triggers.
    sqlx::query("CREATE TABLE events_raw (LIKE events INCLUDING ALL)")
        .execute(store.pool())
        .await
        .unwrap();

    eprintln!("preparing {n} realistic events ...");
    let evs = events(n, 7);
    let copy_chunks: Vec<Vec<u8>> = evs.chunks(BATCH).map(pg_copy_rows).collect();
    let avg = evs.iter().map(|e| e.datum().len()).sum::<usize>() as f64 / n as f64;
    println!(
        "append into PostgreSQL: {n} events ({avg:.0}-byte datums) in batches of {BATCH}, one transaction per batch"
    );

    // 1 and 2, interleaved batch by batch so both meet the same checkpoints and
    // cache state: a raw binary COPY into the identical table (the physical limit),
    // and the store (dedupe, schemas, COPY, offsets in one transaction per batch).
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let (mut raw_time, mut our_time) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for (i, (chunk, copy_rows)) in evs.chunks(BATCH).zip(&copy_chunks).enumerate() {
        let start = Instant::now();
        tierline_store::testing::raw_copy(&mut conn, "events_raw", copy_rows)
            .await
            .unwrap();
        raw_time += start.elapsed();

        let batch = AppendBatch {
            events: chunk.to_vec(),
            offsets: vec![OffsetUpdate {
                group: "bench".into(),
                topic: "srm.deliveries.v1".into(),
                partition: 0,
                next_offset: ((i + 1) * BATCH) as i64,
            }],
            quarantine: vec![],
            recorded_at: None,
        };
        let start = Instant::now();
        let out = store.append(&batch).await.unwrap();
        our_time += start.elapsed();
        assert_eq!(out.new_count(), chunk.len());
    }
    let raw = n as f64 / raw_time.as_secs_f64();
    let ours = n as f64 / our_time.as_secs_f64();

    // 3. One transaction per event, through the same store.
    let singles = events(5_000.min(n), 8);
    let start = Instant::now();
    for e in &singles {
        store
            .append(&AppendBatch {
                events: vec![e.clone()],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let single = singles.len() as f64 / start.elapsed().as_secs_f64();

    // 4. Duplicates: the same batches again (the classify path after a redelivery).
    let dup_n = 20_000.min(n);
    let start = Instant::now();
    for chunk in evs[..dup_n].chunks(BATCH) {
        let out = store
            .append(&AppendBatch {
                events: chunk.to_vec(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(out.duplicate_count(), chunk.len());
    }
    let dups = dup_n as f64 / start.elapsed().as_secs_f64();

    // 5. Redeliveries mixed in, as a live stream carries them (the simulator: about one
    // in a hundred): batches of 990 new events and 10 already stored.
    let fresh = events(50_000.min(n), 9);
    let mut mixed_n = 0;
    let start = Instant::now();
    for (k, chunk) in fresh.chunks(BATCH - 10).enumerate() {
        let mut batch = chunk.to_vec();
        batch.extend(evs.iter().skip(k * 10).take(10).cloned());
        mixed_n += batch.len();
        let out = store
            .append(&AppendBatch {
                events: batch,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(out.new_count(), chunk.len());
    }
    let mixed = mixed_n as f64 / start.elapsed().as_secs_f64();

    // 6. Read back along the global cursor.
    let total = store.count().await.unwrap() as usize;
    let start = Instant::now();
    let mut cursor = Cursor::START;
    let mut read = 0;
    while read < total {
        let page = store.read_global(cursor, 1000).await.unwrap();
        if let Some(last) = page.last() {
            cursor = last.cursor;
        }
        read += page.len();
    }
    let reads = read as f64 / start.elapsed().as_secs_f64();

    println!(
        "  raw COPY (FORMAT binary) into an identical table: {raw:>10.0} events/s   (baseline)"
    );
    println!(
        "  EventStore::append, batches of {BATCH}:             {ours:>10.0} events/s   {:.2}x raw COPY (target >= 0.5x)",
        ours / raw
    );
    println!(
        "  EventStore::append, one transaction per event:    {single:>10.0} events/s   batched is {:.1}x this (target >= 20x)",
        ours / single
    );
    println!(
        "  EventStore::append, batches of known events:      {dups:>10.0} events/s   (duplicate classification)"
    );
    println!(
        "  EventStore::append, 1% already stored per batch:  {mixed:>10.0} events/s   {:.2}x raw COPY, {:.2}x all new",
        mixed / raw,
        mixed / ours
    );
    println!("  read_global, pages of 1000:                       {reads:>10.0} events/s");

    store.pool().close().await;
    conn.close().await.ok();
    admin_conn
        .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
}
