//! The write path (issue: acting on suppliers), in process on the real PostgreSQL server
//! and librdkafka's mock cluster, the projector running as the service does (woken on
//! work) and the API on a real TCP listener:
//!
//! 1. An assessment posted through the API until the supplier's scorecard shows it
//!    (polled every 2 ms over HTTP), p50/p99, next to the same assessment produced to
//!    `srm.assessments.v1` and taken by ingest, measured the same way, in the same run
//!    (target: API p99 <= 1 s).
//! 2. Write latency at 50 writes/s (one keep-alive connection, paced), p50/p99 (target
//!    p99 <= 20 ms), the most writes/s four connections get, and the ingest path's
//!    batched throughput on the same store (assessments produced to Kafka until all are
//!    stored), as a ratio.
//!
//! `cargo bench -p tierline --bench writes`; env `BENCH_SUPPLIERS` (default 300),
//! `BENCH_SAMPLES` (visibility samples per path, default 100), `BENCH_SECONDS` (the
//! 50/s run, default 10), `BENCH_INGEST` (assessments through Kafka, default 20000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tierline-api/benches/common/mod.rs"]
mod http;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Conn, env};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tierline_api::{ApiConfig, ApiKeys, HttpMetrics, Reader, app, hash_key};
use tierline_clock::SystemClock;
use tierline_events::sample::{Behaviour, scripted_supplier};
use tierline_events::{
    AssessmentKind, Codec, CriterionScore, Date, Framing, Record, SupplierAssessmentCompleted,
    Timestamp,
};
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::testing::{Backend, fresh};
use tierline_store::{AppendBatch, EventStore, NewEvent};

const VIEWER: &str = "bench-key";
const EDITOR: &str = "bench-editor";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn body(id: &str, score: f64) -> String {
    serde_json::json!({
        "assessment_id": id, "kind": "ONSITE_AUDIT", "assessor": "P-1",
        "criteria": [{"criterion": "cooperation", "score": score, "max_score": 5.0}],
    })
    .to_string()
}

fn kafka_assessment(supplier: &str, id: &str, n: u128, score: f64) -> Record {
    SupplierAssessmentCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_a000_0000_0000_0000 | n),
        source: "qms".into(),
        occurred_at: Timestamp(chrono::Utc::now().timestamp_millis()),
        supplier_id: supplier.into(),
        assessment_id: id.into(),
        kind: AssessmentKind::OnsiteAudit,
        assessor: "P-1".into(),
        criteria: vec![CriterionScore {
            criterion: "cooperation".into(),
            score,
            min_score: 0.0,
            max_score: 5.0,
        }],
        valid_until: None,
        comment: None,
    }
    .into()
}

/// Polls the scorecard until `cooperation` is `value`.
async fn until_visible(conn: &mut Conn, supplier: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let path = format!("/v1/suppliers/{supplier}/scorecard");
    loop {
        assert!(Instant::now() < deadline, "{supplier} never showed {value}");
        if conn.request("GET", &path, None, VIEWER).await == 200 {
            let sc: serde_json::Value = serde_json::from_slice(conn.body()).unwrap();
            if sc["indicators"]["cooperation"]["value"].as_f64() == Some(value) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let suppliers = env("BENCH_SUPPLIERS", 300) as usize;
    let samples = (env("BENCH_SAMPLES", 100) as usize).min(suppliers / 2);
    let db = fresh(Backend::Postgres).await.unwrap();
    let codec = Codec::default();
    let policy = Arc::new(Policy::default());

    // History: 90 days of every supplier, projected.
    let today = tierline_clock::Clock::today(&SystemClock, &policy);
    let mut batch = Vec::new();
    for k in 0..suppliers {
        let b = Behaviour {
            days_late: (k % 3) as i32,
            defect_rate: 0.001 * (k % 5) as f64,
            price_premium: 0.01,
        };
        for r in scripted_supplier(&format!("SUP-{k:05}"), Date(today.0 - 90), 90, b) {
            let bytes = codec.to_bytes(&r, Framing::Confluent).unwrap();
            batch.push(NewEvent::from_decoded(codec.decode(&bytes).unwrap(), bytes).unwrap());
        }
    }
    let history = batch.len();
    for chunk in batch.chunks(5000) {
        db.store
            .append(&AppendBatch {
                events: chunk.to_vec(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut projector = Projector::open(db.store.clone(), codec.clone(), policy.clone(), "bench")
        .await
        .unwrap();
    projector.rebuild(&SystemClock).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let projecting = tokio::spawn(async move {
        projector
            .run(&SystemClock, 1000, Duration::from_millis(200), stopped)
            .await
            .unwrap()
    });

    // Kafka and ingest.
    let cluster = MockCluster::new(1).unwrap();
    let ingest_cfg = tierline_ingest::IngestConfig::with_brokers(cluster.bootstrap_servers());
    for t in ingest_cfg
        .inbound_topics()
        .into_iter()
        .chain([ingest_cfg.topic_dead_letter.as_str()])
    {
        cluster.create_topic(t, 3, 1).unwrap();
    }
    let ingest = tierline_ingest::Ingest::start(
        ingest_cfg.clone(),
        codec.clone(),
        Arc::new(db.store.clone()),
    )
    .await
    .unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("linger.ms", "0")
        .create()
        .unwrap();

    // The API.
    let mut keys = ApiKeys::from_keys([VIEWER]);
    keys.extend(ApiKeys::from_file(&format!("bench editor {}", hash_key(EDITOR))).unwrap());
    let (router, _) = app(
        Reader::new(db.store.clone(), policy.clone(), codec.clone()),
        Arc::new(SystemClock),
        &ApiConfig::new(keys),
        Arc::new(HttpMetrics::default()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // 1. Visibility, the two paths alternating.
    let (mut writer, mut reader) = (Conn::open(addr).await, Conn::open(addr).await);
    let (mut api, mut kafka) = (Vec::new(), Vec::new());
    for i in 0..samples {
        let score = (1 + i % 9) as f64 / 2.0;
        let supplier = format!("SUP-{i:05}");
        let t0 = Instant::now();
        let status = writer
            .request(
                "POST",
                &format!("/v1/suppliers/{supplier}/assessments"),
                Some(&body(&format!("API-{i}"), score)),
                EDITOR,
            )
            .await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(writer.body()));
        until_visible(&mut reader, &supplier, score / 5.0).await;
        api.push(t0.elapsed().as_secs_f64() * 1000.0);

        let supplier = format!("SUP-{:05}", samples + i);
        let r = kafka_assessment(&supplier, &format!("KAFKA-{i}"), i as u128, score);
        let bytes = codec.to_bytes(&r, Framing::Confluent).unwrap();
        let t0 = Instant::now();
        producer
            .send(
                FutureRecord::to("srm.assessments.v1")
                    .key(&supplier)
                    .payload(&bytes),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        until_visible(&mut reader, &supplier, score / 5.0).await;
        kafka.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    api.sort_by(f64::total_cmp);
    kafka.sort_by(f64::total_cmp);

    // 2. Latency at 50 writes/s, paced.
    let seconds = env("BENCH_SECONDS", 10) as f64;
    let mut conn = Conn::open(addr).await;
    let mut paced = Vec::new();
    let started = Instant::now();
    let mut next = Instant::now();
    let mut n = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        let now = Instant::now();
        if next > now {
            tokio::time::sleep(next - now).await;
        }
        next += Duration::from_millis(20);
        let supplier = format!("SUP-{:05}", n as usize % suppliers);
        let t = Instant::now();
        let status = conn
            .request(
                "POST",
                &format!("/v1/suppliers/{supplier}/violations"),
                Some(
                    &serde_json::json!({"violation_id": format!("PACED-{n}"), "severity": "MINOR",
                        "regulation": "REACH", "description": "bench"})
                    .to_string(),
                ),
                EDITOR,
            )
            .await;
        assert_eq!(status, 201);
        paced.push(t.elapsed().as_secs_f64() * 1000.0);
        n += 1;
    }
    paced.sort_by(f64::total_cmp);
    let paced_rate = paced.len() as f64 / started.elapsed().as_secs_f64();

    // The most writes/s four connections get.
    let until = Instant::now() + Duration::from_secs(5);
    let mut tasks = Vec::new();
    for c in 0..4 {
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let mut k = 0;
            while Instant::now() < until {
                let status = conn
                    .request(
                        "POST",
                        &format!("/v1/suppliers/SUP-{:05}/risk-signals", (c * 7 + k) % 50),
                        Some(&serde_json::json!({"signal_id": format!("MAX-{c}-{k}"), "kind": "COMMODITY",
                            "risk_score": 20.0, "valid_until": "2099-12-31", "feed": "bench", "summary": "s"})
                            .to_string()),
                        EDITOR,
                    )
                    .await;
                assert_eq!(status, 201);
                k += 1;
            }
            k
        }));
    }
    let mut closed = 0;
    for t in tasks {
        closed += t.await.unwrap();
    }
    let closed_rate = closed as f64 / 5.0;

    // The ingest path's batched throughput on the same store.
    let m = env("BENCH_INGEST", 20_000) as usize;
    let before = db.store.count().await.unwrap() as usize;
    let t0 = Instant::now();
    let mut sends = Vec::with_capacity(m);
    for i in 0..m {
        let supplier = format!("SUP-{:05}", i % suppliers);
        let r = kafka_assessment(&supplier, &format!("BULK-{i}"), 1_000_000 + i as u128, 3.0);
        let bytes = codec.to_bytes(&r, Framing::Confluent).unwrap();
        let sent = producer
            .send_result(
                FutureRecord::to("srm.assessments.v1")
                    .key(&supplier)
                    .payload(&bytes),
            )
            .map_err(|(e, _)| e)
            .unwrap();
        sends.push(sent);
        // Keep librdkafka's queue bounded.
        if sends.len() >= 5000 {
            for s in sends.drain(..) {
                s.await.unwrap().unwrap();
            }
        }
    }
    for s in sends.drain(..) {
        s.await.unwrap().unwrap();
    }
    while (db.store.count().await.unwrap() as usize) < before + m {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ingest_rate = m as f64 / t0.elapsed().as_secs_f64();

    stop.send(true).unwrap();
    projecting.await.unwrap();
    ingest.stop().await.unwrap();
    println!(
        "write path on PostgreSQL: {suppliers} suppliers ({history} events of history), projector woken on work, API over TCP"
    );
    println!(
        "  assessment posted -> visible in the scorecard (API):    p50 {:>7.1} ms  p99 {:>7.1} ms  (target p99 <= 1000 ms)",
        percentile(&api, 0.5),
        percentile(&api, 0.99)
    );
    println!(
        "  same assessment produced to Kafka -> visible (ingest):  p50 {:>7.1} ms  p99 {:>7.1} ms  (API p99 is {:.2}x the Kafka path's)",
        percentile(&kafka, 0.5),
        percentile(&kafka, 0.99),
        percentile(&api, 0.99) / percentile(&kafka, 0.99)
    );
    println!(
        "  writes at {paced_rate:.0}/s (paced, one connection):            p50 {:>7.2} ms  p99 {:>7.2} ms  (target p99 <= 20 ms)",
        percentile(&paced, 0.5),
        percentile(&paced, 0.99)
    );
    println!(
        "  most writes/s, 4 connections, one event per request:   {closed_rate:>7.0} writes/s"
    );
    println!(
        "  ingest, batched transactions ({m} produced to Kafka):  {ingest_rate:>7.0} events/s  (the write path is {:.2}x of it)",
        closed_rate / ingest_rate
    );
    db.cleanup().await;
}
