//! Events per second from a pre-filled topic (librdkafka's mock cluster) to committed
//! rows in PostgreSQL with one ingest instance, next to a raw binary COPY of the same
//! rows into an identical table in the same run.
//!
//! `cargo bench -p tierline-ingest --bench ingest` (env `BENCH_EVENTS`, default 100000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::Connection;
use tierline_events::{Codec, Framing, sample};
use tierline_ingest::{Ingest, IngestConfig};
use tierline_store::{EventStore, KafkaOrigin, NewEvent, pg_copy_rows};

const TOPICS: [&str; 4] = [
    "srm.purchase-orders.v1",
    "srm.deliveries.v1",
    "srm.inspections.v1",
    "srm.after-sales.v1",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let cluster = MockCluster::new(1).unwrap();
    for t in TOPICS.iter().chain(&["srm.dead-letter.v1"]) {
        cluster.create_topic(t, 3, 1).unwrap();
    }
    let brokers = cluster.bootstrap_servers();
    let db = tierline_store::testing::pg()
        .await
        .expect("PostgreSQL reachable");
    sqlx::query("CREATE TABLE events_raw (LIKE events INCLUDING ALL)")
        .execute(db.store.pool())
        .await
        .unwrap();

    eprintln!("pre-filling the topics with {n} events ...");
    let codec = Codec::default();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "20")
        .create()
        .unwrap();
    let mut rows = Vec::with_capacity(n);
    let mut sends = Vec::new();
    for (i, r) in sample::mix(n, 99).into_iter().enumerate() {
        let bytes = codec.to_bytes(&r, Framing::Confluent).unwrap();
        let key = r.supplier_id().to_owned();
        sends.push(
            producer
                .send_result(
                    FutureRecord::to(r.kind().default_topic())
                        .key(&key)
                        .payload(&bytes),
                )
                .unwrap(),
        );
        let d = codec.decode(&bytes).unwrap();
        rows.push(NewEvent::from_decoded(d, bytes).unwrap().with_message(
            KafkaOrigin {
                topic: r.kind().default_topic().into(),
                partition: 0,
                offset: i as i64,
            },
            None,
            vec![],
        ));
        if sends.len() >= 10_000 {
            for s in sends.drain(..) {
                s.await.unwrap().unwrap();
            }
        }
    }
    for s in sends {
        s.await.unwrap().unwrap();
    }

    // Baseline: the same rows by raw binary COPY, batches of 1,000.
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let start = Instant::now();
    for chunk in rows.chunks(1000) {
        tierline_store::testing::raw_copy(&mut conn, "events_raw", &pg_copy_rows(chunk))
            .await
            .unwrap();
    }
    let raw = n as f64 / start.elapsed().as_secs_f64();

    // Ingest: from the moment it holds partitions to the last committed offset.
    let store = Arc::new(db.store.clone());
    let mut cfg = IngestConfig::with_brokers(brokers.clone());
    cfg.group = "bench".into();
    let ingest = Ingest::start(cfg, Codec::default(), store.clone())
        .await
        .unwrap();
    let started = Instant::now();
    while store.count().await.unwrap() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let first = store.count().await.unwrap() as usize;
    let start = Instant::now();
    let joined = started.elapsed();
    loop {
        let mut consumed = 0;
        for t in TOPICS {
            consumed += store
                .consumer_offsets("bench", t)
                .await
                .unwrap()
                .iter()
                .map(|(_, o)| o)
                .sum::<i64>();
        }
        if consumed as usize >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = start.elapsed();
    let ours = (n - first) as f64 / took.as_secs_f64();
    assert_eq!(store.count().await.unwrap() as usize, n);
    ingest.stop().await.unwrap();

    println!(
        "ingest: {n} events pre-filled on the mock cluster (4 topics x 3 partitions) into PostgreSQL, one instance"
    );
    println!(
        "  raw COPY (FORMAT binary) of the same rows, batches of 1000: {raw:>10.0} events/s   (baseline)"
    );
    println!(
        "  ingest, topic to committed rows (after joining the group in {:.1} s): {ours:>10.0} events/s   {:.2}x raw COPY (target >= 0.4x)",
        joined.as_secs_f64(),
        ours / raw
    );
    db.drop_db().await.unwrap();
}
