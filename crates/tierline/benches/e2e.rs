//! End to end on the real broker (Apache Kafka; tansu with `TIERLINE_E2E_BROKER=tansu`)
//! and a private PostgreSQL server, the services
//! as separate processes: events/s from produced to visible in the projections for a
//! simulated stream (1,000,000 messages by default), next to two baselines measured in
//! the same run on the same server (raw binary COPY of the same rows; `tierline ingest`
//! with one transaction per event), and the latency from a threshold-crossing event
//! produced to its alert consumed from `srm.supplier-alerts.v1`. It also prints where
//! the machine's CPU went during the pipeline, by process (the broker shares the two
//! cores with everything else here).
//!
//! Two ways to feed the pipeline (`BENCH_MODE`):
//! - `live` (default): the stream is produced while the services run, as fast as the
//!   broker takes it but never more than `BENCH_BACKLOG` messages (default 100,000)
//!   ahead of what is stored, timed from the first message produced until the last is
//!   visible in the projections (a running system's shape; tansu 0.6.0 answers a fetch
//!   in time that grows with the partition's unread backlog).
//! - `backlog`: the whole stream is on the broker before ingest starts, timed from
//!   ingest's start.
//!
//! `cargo bench -p tierline --bench e2e` (needs the broker's jars and the venv as
//! `scripts/test` installs them, with `TIERLINE_PYTHON` set to an absolute path; env `BENCH_MODE`,
//! `BENCH_EVENTS`, `BENCH_BACKLOG`, `BENCH_ALERTS`, `BENCH_INGEST_BATCH`,
//! `BENCH_INGEST_KAFKA_OPTIONS`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/e2e_world/mod.rs"]
mod e2e_world;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::free_port;
use e2e_world::*;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::{Connection, Row};
use tierline_events::{Codec, Date, Disposition, Framing, InspectionCompleted, Record, Timestamp};
use tierline_store::{EventStore, NewEvent, PgStore, pg_copy_rows};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// CPU seconds used so far by each kind of process on the machine (the broker, PostgreSQL,
/// each `tierline` service, this bench), from `/proc`. Processes that end in between
/// are not counted, which is why the services and the server's backends (pooled
/// connections) are left running across a measurement.
fn cpu_by_process() -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let tick = 100.0; // USER_HZ on Linux
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    let me = std::process::id().to_string();
    for entry in dir.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let (Ok(cmdline), Ok(stat)) = (
            std::fs::read(format!("/proc/{pid}/cmdline")),
            std::fs::read_to_string(format!("/proc/{pid}/stat")),
        ) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let exe = args
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
            .unwrap_or_default();
        let name = if pid == me {
            "bench (producer, progress queries)".to_owned()
        } else if exe == "tansu" {
            "tansu (broker)".to_owned()
        } else if exe == "java" && args.iter().any(|a| a == "kafka.Kafka") {
            "Apache Kafka (broker)".to_owned()
        } else if exe.starts_with("postgres") {
            "PostgreSQL".to_owned()
        } else if exe == "tierline" {
            format!("tierline {}", args.get(1).map_or("", String::as_str))
        } else {
            continue;
        };
        let Some(fields) = stat
            .rsplit_once(')')
            .map(|(_, f)| f.split_whitespace().collect::<Vec<_>>())
        else {
            continue;
        };
        let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
            f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
        });
        *out.entry(name).or_default() += ticks / tick;
    }
    out
}

/// The first `n` messages of a year of 300 simulated suppliers ending 2026-06-14.
fn stream(n: usize) -> Vec<Record> {
    let today = Date::from_ymd(2026, 6, 14).unwrap();
    let mut sim = tierline_sim::Simulator::new(tierline_sim::SimConfig::ending(today, 365, 300, 7));
    let mut out = Vec::with_capacity(n);
    for d in sim.config().start.0..=today.0 {
        out.extend(sim.emit_day(Date(d)));
        if out.len() >= n {
            break;
        }
    }
    out.truncate(n);
    out
}

fn producer(brokers: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .create()
        .unwrap()
}

/// A threshold crossing: three critical defects for a supplier seen for the first time.
fn crossing(k: usize) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_00be_0000 | k as u128),
        source: "qms-bench".into(),
        occurred_at: Timestamp::parse_rfc3339("2026-06-14T12:00:00Z").unwrap(),
        supplier_id: format!("LAT-{k:04}"),
        inspection_id: format!("IN-LAT-{k}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "ITEM".into(),
        inspected_quantity: 100.0,
        defective_quantity: 0.0,
        critical_defects: 3,
        disposition: Disposition::Accepted,
        posting_date: None,
    }
    .into()
}

/// Messages/s a plain consumer (no group, all 12 inbound partitions from the start)
/// reads `n` messages back from the broker (the ceiling of anything consuming them),
/// and how many times a partition's next offset was not the previous one + 1.
fn broker_floor(brokers: &str, topics: &[&str], n: usize) -> (f64, usize) {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "bench-floor")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    for t in topics {
        for p in 0..3 {
            tpl.add_partition_offset(t, p, rdkafka::Offset::Beginning)
                .unwrap();
        }
    }
    c.assign(&tpl).unwrap();
    let start = Instant::now();
    let mut read = 0;
    let mut next: std::collections::HashMap<(String, i32), i64> = Default::default();
    let mut gaps = 0;
    while read < n {
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "the broker gave back {read} of {n} messages in 15 minutes"
        );
        if let Some(m) = c.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            let key = (m.topic().to_owned(), m.partition());
            if next.get(&key).is_some_and(|n| *n != m.offset()) {
                gaps += 1;
            }
            next.insert(key, m.offset() + 1);
            read += 1;
        }
    }
    (n as f64 / start.elapsed().as_secs_f64(), gaps)
}

/// About how many events are stored (the last position: cheap, for pacing only).
async fn stored_estimate(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(max(position), 0) FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// (events stored, positions not yet projected). Cheap while the pipeline runs (the
/// last position and the checkpoint, both index lookups); `count(*)`, a scan of the
/// whole table that would take CPU from the pipeline, only once the last position says
/// everything may be there.
async fn progress(pool: &sqlx::PgPool, expected: usize) -> (i64, i64) {
    let row = sqlx::query(
        "SELECT COALESCE((SELECT max(position) FROM events), 0),
                COALESCE((SELECT max(position) FROM projection_checkpoint), 0)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (last, projected): (i64, i64) = (row.get(0), row.get(1));
    // Positions are an identity: an aborted transaction leaves a gap, so the last
    // position can run ahead of the count, never behind it.
    let stored = if last as usize >= expected && projected == last {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .unwrap()
    } else {
        last.min(expected as i64 - 1)
    };
    (stored, last - projected)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let live = std::env::var("BENCH_MODE").map_or(true, |m| m != "backlog");
    let n = env_usize("BENCH_EVENTS", 1_000_000);
    let max_backlog = env_usize("BENCH_BACKLOG", 100_000);
    let alerts = env_usize("BENCH_ALERTS", 100);
    let codec = Codec::default();
    eprintln!("simulating {n} messages ...");
    let records = stream(n);
    let mut seen = HashSet::new();
    let distinct: Vec<&Record> = records
        .iter()
        .filter(|r| {
            r.envelope()
                .is_some_and(|e| seen.insert((e.source.to_owned(), e.event_id)))
        })
        .collect();
    let suppliers = records
        .iter()
        .map(|r| r.supplier_id())
        .collect::<HashSet<_>>()
        .len();
    eprintln!("starting the broker, PostgreSQL and the services ...");
    // librdkafka's default session timeout: under a produce burst tansu can answer a
    // heartbeat late, and the suite's 6 s would expire the member.
    let mut w = world_with(45_000).await;
    let pool = w.db.store.pool().clone();

    // 1. The pipeline.
    let mut tuned = false;
    if let Ok(b) = std::env::var("BENCH_INGEST_BATCH") {
        w.ingest.envs.push(("TIERLINE_INGEST_BATCH_SIZE".into(), b));
        tuned = true;
    }
    // librdkafka settings for ingest to try, `key=value` separated by spaces.
    if let Ok(opts) = std::env::var("BENCH_INGEST_KAFKA_OPTIONS") {
        for o in opts.split_whitespace() {
            w.ingest
                .cmd
                .extend(["--kafka-option".to_owned(), o.to_owned()]);
        }
        tuned = true;
    }
    if tuned {
        w.ingest.restart();
        wait_status(w.ports[0], 200, 60, "ingest ready again");
    }
    let p = producer(&w.brokers);
    let frames: Vec<(&str, &str, Vec<u8>)> = records
        .iter()
        .map(|r| {
            (
                r.kind().default_topic(),
                r.supplier_id(),
                codec.to_bytes(r, Framing::Confluent).unwrap(),
            )
        })
        .collect();
    // Sends `frames` in chunks; before each chunk, `gate` may wait.
    async fn send_all(
        p: &FutureProducer,
        frames: &[(&str, &str, Vec<u8>)],
        mut gate: impl AsyncFnMut(usize),
    ) {
        for (i, chunk) in frames.chunks(10_000).enumerate() {
            gate(i * 10_000).await;
            let sends: Vec<_> = chunk
                .iter()
                .map(|(topic, key, bytes)| {
                    p.send_result(FutureRecord::to(topic).key(*key).payload(bytes))
                        .unwrap()
                })
                .collect();
            for s in sends {
                s.await.unwrap().unwrap();
            }
        }
    }
    let (t0, cpu0, produced_in) = if live {
        // Produced while the services run, at most `max_backlog` ahead of the store.
        eprintln!(
            "producing {n} messages ({} distinct) to the running services, at most {max_backlog} ahead of the store ...",
            distinct.len()
        );
        let (t0, cpu0) = (Instant::now(), cpu_by_process());
        let mut waited = Duration::ZERO;
        send_all(&p, &frames, async |sent| {
            let start = Instant::now();
            while sent > max_backlog && (sent - max_backlog) as i64 > stored_estimate(&pool).await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            waited += start.elapsed();
        })
        .await;
        let produced_in = t0.elapsed();
        eprintln!(
            "  produced in {:.1} s ({:.1} s of it waiting for the store)",
            produced_in.as_secs_f64(),
            waited.as_secs_f64()
        );
        (t0, cpu0, produced_in)
    } else {
        // The broker first takes the whole stream with ingest stopped, then ingest starts
        // on the backlog, timed from its start (group join included).
        w.ingest.term();
        eprintln!("producing {n} messages ({} distinct) ...", distinct.len());
        let t_produce = Instant::now();
        send_all(&p, &frames, async |_| {}).await;
        let produced_in = t_produce.elapsed();
        eprintln!(
            "  produced in {:.1} s; starting ingest on the backlog",
            produced_in.as_secs_f64()
        );
        let (t0, cpu0) = (Instant::now(), cpu_by_process());
        w.ingest.spawn();
        (t0, cpu0, produced_in)
    };
    let deadline = Instant::now() + Duration::from_secs(3600);
    let mut last_report = Instant::now();
    loop {
        let (stored, behind) = progress(&pool, distinct.len()).await;
        if stored as usize >= distinct.len() && behind == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pipeline did not finish: {stored} stored, {behind} positions unprojected"
        );
        if last_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  {stored} stored, projections {behind} positions behind ({:.0} s)",
                t0.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pipeline_s = t0.elapsed().as_secs_f64();
    let cpu1 = cpu_by_process();
    let pipeline = distinct.len() as f64 / pipeline_s;
    let produce_rate = n as f64 / produced_in.as_secs_f64();
    let cpu: Vec<(String, f64)> = cpu1
        .iter()
        .map(|(k, v)| (k.clone(), v - cpu0.get(k).copied().unwrap_or(0.0)))
        .collect();
    eprintln!("reading the stream back with a plain consumer (the broker's floor) ...");
    // Every topic the stream went to (the simulator writes the v2 topics too).
    let topics: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r.kind().default_topic()).collect();
    let topics: Vec<&str> = topics.into_iter().collect();
    let (floor, gaps) = broker_floor(&w.brokers, &topics, n);
    eprintln!("  {floor:.0} messages/s, {gaps} offset gaps");

    // 2. Alert latency: one crossing at a time, produced, until its alert is consumed.
    eprintln!("alert latency ...");
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &w.brokers)
        .set("group.id", format!("bench-alerts-{}", free_port()))
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "5")
        .create()
        .unwrap();
    consumer.subscribe(&["srm.supplier-alerts.v1"]).unwrap();
    // Skip what the stream raised: read until nothing arrives for 3 s.
    let mut quiet = Instant::now();
    let mut skipped = 0;
    while quiet.elapsed() < Duration::from_secs(3) {
        if consumer.poll(Duration::from_millis(100)).is_some() {
            skipped += 1;
            quiet = Instant::now();
        }
    }
    let mut latencies = Vec::new();
    for k in 0..alerts {
        let r = crossing(k);
        let key = r.supplier_id().to_owned();
        let start = Instant::now();
        common::send_record(&p, &codec, &r).await;
        loop {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no alert for {key}"
            );
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(20))
                && m.key() == Some(key.as_bytes())
            {
                latencies.push(start.elapsed().as_secs_f64() * 1000.0);
                break;
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    // Its 5 ms fetch polls would keep the broker busy during the baselines.
    drop(consumer);

    // 3. Baselines on the same server, in a database of their own.
    eprintln!("baselines ...");
    let base_url = format!(
        "{}/baseline",
        w.db.url
            .rsplit_once('/')
            .map_or(w.db.url.as_str(), |(a, _)| a)
    );
    sqlx::query("CREATE DATABASE baseline")
        .execute(&pool)
        .await
        .unwrap();
    let base = PgStore::connect(&base_url, Codec::default()).await.unwrap();
    base.migrate().await.unwrap();
    // Transaction per event: `tierline ingest --batch-size 1`, a group of its own reading
    // the same backlog, over a fixed window.
    let mut envs = w.common.clone();
    for (k, v) in &mut envs {
        if k == "TIERLINE_STORE" {
            v.clone_from(&base_url);
        }
    }
    envs.push(("TIERLINE_INGEST_GROUP".into(), "bench-txn-per-event".into()));
    envs.push(("TIERLINE_INGEST_BATCH_SIZE".into(), "1".into()));
    let mut txn = Proc::start(
        "ingest-txn",
        env!("CARGO_BIN_EXE_tierline"),
        &[
            "ingest".into(),
            "--http".into(),
            format!("127.0.0.1:{}", free_port()),
            "--kafka-option".into(),
            "session.timeout.ms=45000".into(),
        ],
        &envs,
    );
    let waited = Instant::now();
    while base.count().await.unwrap() < 100 {
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "the transaction-per-event ingest stored nothing (TIERLINE_E2E_LOGS=DIR keeps its log)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (c0, t) = (base.count().await.unwrap(), Instant::now());
    tokio::time::sleep(Duration::from_secs(20)).await;
    let per_event = (base.count().await.unwrap() - c0) as f64 / t.elapsed().as_secs_f64();
    txn.kill9();
    // Raw COPY of the same distinct rows into an identical table, batches of 1,000.
    let rows: Vec<NewEvent> = distinct
        .iter()
        .map(|r| {
            let b = codec.to_bytes(r, Framing::Confluent).unwrap();
            NewEvent::from_decoded(codec.decode(&b).unwrap(), b).unwrap()
        })
        .collect();
    let mut conn = sqlx::PgConnection::connect(&base_url).await.unwrap();
    sqlx::query("CREATE TABLE events_raw (LIKE events INCLUDING ALL)")
        .execute(&mut conn)
        .await
        .unwrap();
    let start = Instant::now();
    for chunk in rows.chunks(1000) {
        tierline_store::testing::raw_copy(&mut conn, "events_raw", &pg_copy_rows(chunk))
            .await
            .unwrap();
    }
    let raw = rows.len() as f64 / start.elapsed().as_secs_f64();

    let broker = match Broker::chosen() {
        Broker::Kafka => "Apache Kafka",
        Broker::Tansu => "tansu, SQLite storage",
    };
    println!(
        "end to end on {broker} + PostgreSQL, services as processes: {n} messages ({} distinct, {suppliers} suppliers), {}",
        distinct.len(),
        if live {
            format!("produced live, at most {max_backlog} ahead of the store")
        } else {
            "from a backlog on the broker".to_owned()
        }
    );
    println!(
        "  produce to the broker ({broker}):{:>width$}{produce_rate:>10.0} messages/s",
        "",
        width = 38usize.saturating_sub(broker.len())
    );
    println!(
        "  raw binary COPY of the same rows, batches of 1,000:        {raw:>10.0} events/s   (baseline)"
    );
    println!(
        "  tierline ingest, one transaction per event (20 s window):  {per_event:>10.0} events/s   (baseline)"
    );
    println!(
        "  the broker's floor: a plain consumer reading it all back:  {floor:>10.0} messages/s"
    );
    println!(
        "  produced -> stored -> visible in the projections ({pipeline_s:.0} s): {pipeline:>10.0} events/s   {:.2}x raw COPY (target >= 0.4x), {:.1}x transaction per event (target >= 10x), {:.2}x the broker's floor",
        pipeline / raw,
        pipeline / per_event,
        pipeline / floor
    );
    let cpu_total: f64 = cpu.iter().map(|(_, v)| v).sum();
    println!(
        "  CPU during the pipeline ({pipeline_s:.0} s on {} cores: {cpu_total:.0} CPU-s used):",
        std::thread::available_parallelism().map_or(0, |c| c.get())
    );
    for (name, secs) in cpu.iter().filter(|(_, v)| *v > 0.05) {
        println!(
            "    {name:<36} {secs:>7.1} s  {:>5.1}%  {:>6.1} us per event",
            100.0 * secs / cpu_total.max(1e-9),
            1e6 * secs / distinct.len() as f64
        );
    }
    println!(
        "  threshold crossing produced -> alert consumed ({alerts}, one at a time; {skipped} earlier alerts skipped): p50 {:.1} ms, p99 {:.1} ms (target p99 <= 1,000 ms)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    let dir = w.dir.clone();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
}
