//! Freshness: from a threshold-crossing event appended to the store to its alert
//! consumed from the alerts topic (the projector and relay running as the services do:
//! `run`, woken by appended events and projection commits, polling every
//! `BENCH_IDLE_MS` as the fallback, default 200 like the services), p50/p99, next to the
//! bare produce-to-consume time of the same broker in the same run.
//!
//! `cargo bench -p tierline-projector --bench freshness` (env `BENCH_ALERTS`, default 200;
//! `BENCH_STORE=sqlite` for the embedded store).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tierline_clock::SystemClock;
use tierline_events::{Codec, Disposition, Framing, InspectionCompleted, Record, Timestamp};
use tierline_projections::Projections;
use tierline_projector::Projector;
use tierline_relay::Relay;
use tierline_scoring::Policy;
use tierline_store::testing::{Backend, fresh};
use tierline_store::{AppendBatch, EventStore, NewEvent};

const ALERTS: &str = "srm.supplier-alerts.v1";

fn inspection(supplier: &str, n: u128, critical: i32) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n),
        source: "qms".into(),
        occurred_at: Timestamp(chrono::Utc::now().timestamp_millis()),
        supplier_id: supplier.into(),
        inspection_id: format!("IN-{n}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "I".into(),
        inspected_quantity: 100.0,
        defective_quantity: 0.0,
        critical_defects: critical,
        disposition: Disposition::Accepted,
        posting_date: None,
    }
    .into()
}

async fn append(store: &impl EventStore, r: &Record) {
    let codec = Codec::default();
    let b = codec.to_bytes(r, Framing::Confluent).unwrap();
    let e = NewEvent::from_decoded(codec.decode(&b).unwrap(), b).unwrap();
    store
        .append(&AppendBatch {
            events: vec![e],
            ..Default::default()
        })
        .await
        .unwrap();
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_ALERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(ALERTS, 1, 1).unwrap();
    cluster.create_topic("floor", 1, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let backend = match std::env::var("BENCH_STORE").as_deref() {
        Ok("sqlite") => Backend::Sqlite,
        _ => Backend::Postgres,
    };
    let db = fresh(backend).await.unwrap();
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", "fresh")
        .set("fetch.wait.max.ms", "5")
        .create()
        .unwrap();

    // Floor: produce one message and consume it, n times.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "0")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("floor", 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut floor = Vec::new();
    for i in 0..n {
        let t0 = Instant::now();
        producer
            .send(
                FutureRecord::to("floor").key("k").payload(&i.to_string()),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        loop {
            if let Some(Ok(_)) = consumer.poll(Duration::from_millis(1)) {
                break;
            }
        }
        floor.push(t0.elapsed().as_secs_f64() * 1000.0);
    }

    // Projector and relay, as the services run them.
    let idle = Duration::from_millis(
        std::env::var("BENCH_IDLE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut projector = Projector::open(
        db.store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "fresh",
    )
    .await
    .unwrap();
    let mut relay = Relay::new(
        Projections::of(&db.store),
        ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("linger.ms", "0")
            .clone(),
        ALERTS,
        Arc::new(SystemClock),
    )
    .unwrap();
    // SQLite: woken by the projector's commits in this process, as `tierline run` does.
    if let Some(commits) = db.store.projection_commits() {
        relay = relay.woken_by(commits);
    }
    let projecting = {
        let stopped = stopped.clone();
        tokio::spawn(async move {
            projector
                .run(&SystemClock, 1000, idle, stopped)
                .await
                .unwrap()
        })
    };
    let relaying = tokio::spawn(async move { relay.run(500, idle, stopped).await });
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(ALERTS, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let codec = Codec::default();
    let mut latencies = Vec::new();
    for i in 0..n {
        let supplier = format!("SUP-{i:05}");
        let t0 = Instant::now();
        append(&db.store, &inspection(&supplier, i as u128, 3)).await;
        // Wait for this supplier's first alert.
        let deadline = Instant::now() + Duration::from_secs(10);
        'wait: while Instant::now() < deadline {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(1))
                && let Ok(d) = codec.decode(m.payload().unwrap_or_default())
                && d.record.supplier_id() == supplier
            {
                latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                break 'wait;
            }
        }
    }
    stop.send(true).unwrap();
    projecting.await.unwrap();
    relaying.await.unwrap();
    floor.sort_by(f64::total_cmp);
    latencies.sort_by(f64::total_cmp);
    assert_eq!(latencies.len(), n, "every crossing was announced");
    println!(
        "freshness on {backend:?}: {n} threshold crossings, each from store append to alert consumed (projector and relay woken on work, polling every {} ms as the fallback)",
        idle.as_millis()
    );
    println!(
        "  produce -> consume on the same broker (floor): p50 {:>7.1} ms  p99 {:>7.1} ms",
        percentile(&floor, 0.5),
        percentile(&floor, 0.99)
    );
    println!(
        "  event appended -> alert consumed:              p50 {:>7.1} ms  p99 {:>7.1} ms   (target p99 <= 1000 ms; p99 is {:.1}x the floor)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.99) / percentile(&floor, 0.99)
    );
    db.cleanup().await;
}
