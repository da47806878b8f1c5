//! `tierline ingest` as a real child process: SIGKILL between the database commit
//! and the Kafka commit loses and doubles nothing; SIGTERM stops it cleanly (exit 0).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::free_port;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};
use tierline_events::{Codec, sample};
use tierline_store::EventStore;

const TOPICS: [&str; 7] = [
    "srm.purchase-orders.v1",
    "srm.deliveries.v1",
    "srm.inspections.v1",
    "srm.after-sales.v1",
    "srm.assessments.v1",
    "srm.supplier-actions.v1",
    "srm.dead-letter.v1",
];

struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    port: u16,
}

fn spawn(brokers: &str, store: &str, fault_pause_ms: Option<u64>) -> Running {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tierline"));
    cmd.args([
        "ingest",
        "--store",
        store,
        "--kafka-brokers",
        brokers,
        "--group",
        "gk",
        "--batch-size",
        "50",
        "--batch-linger-ms",
        "50",
    ])
    .args(["--http", &format!("127.0.0.1:{port}"), "--log", "info"])
    // A killed member is noticed after the session timeout: keep it short here.
    .args([
        "--kafka-option",
        "session.timeout.ms=6000",
        "--kafka-option",
        "heartbeat.interval.ms=500",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if let Some(ms) = fault_pause_ms {
        cmd.env("TIERLINE_FAULT_PAUSE_AFTER_DB_COMMIT_MS", ms.to_string());
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Running { child, lines, port }
}

impl Running {
    fn wait_line(&self, needle: &str, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200))
                && l.contains(needle)
            {
                return true;
            }
        }
        false
    }

    fn metrics(&self) -> String {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(s, "GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

async fn stored_offsets(store: &tierline_store::PgStore) -> i64 {
    let mut total = 0;
    for t in &TOPICS[..4] {
        total += store
            .consumer_offsets("gk", t)
            .await
            .unwrap()
            .iter()
            .map(|(_, o)| o)
            .sum::<i64>();
    }
    total
}

fn kafka_committed(brokers: &str) -> i64 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "gk")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for t in &TOPICS[..4] {
        for p in 0..3 {
            tpl.add_partition(t, p);
        }
    }
    let committed = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    committed
        .elements()
        .iter()
        .map(|e| {
            if let Offset::Offset(o) = e.offset() {
                o
            } else {
                0
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_between_database_and_kafka_commit_then_restart_loses_and_doubles_nothing() {
    let cluster = MockCluster::new(1).unwrap();
    for t in TOPICS {
        cluster.create_topic(t, 3, 1).unwrap();
    }
    let brokers = cluster.bootstrap_servers();
    let db = tierline_store::testing::pg()
        .await
        .expect("PostgreSQL is needed");
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let codec = Codec::default();
    let records = sample::mix(400, 77);
    for r in &records {
        common::send_record(&producer, &codec, r).await;
    }

    // First run: pauses after each database commit; killed inside the first pause.
    let mut first = spawn(&brokers, &db.url, Some(5_000));
    assert!(
        first.wait_line("fault: database commit done", 60),
        "the first batch never committed"
    );
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    let stored_after_kill = db.store.count().await.unwrap();
    let offsets_after_kill = stored_offsets(&db.store).await;
    assert!(
        stored_after_kill > 0 && stored_after_kill < 400,
        "killed mid-stream: {stored_after_kill} stored"
    );
    assert!(
        kafka_committed(&brokers) < offsets_after_kill,
        "the Kafka commit must not have happened yet"
    );

    // Second run: resumes from the offsets in the database.
    let second = spawn(&brokers, &db.url, None);
    let deadline = Instant::now() + Duration::from_secs(90);
    while stored_offsets(&db.store).await < 400 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stored_offsets(&db.store).await,
        400,
        "not everything was consumed after the restart"
    );
    assert_eq!(db.store.count().await.unwrap(), 400, "lost or doubled");
    let text = second.metrics();
    assert_eq!(
        metric(&text, "tierline_ingest_duplicates_suppressed_total"),
        0.0,
        "the restart re-read stored events:\n{text}"
    );
    assert_eq!(
        metric(&text, "tierline_ingest_events_appended_total"),
        (400 - stored_after_kill) as f64
    );

    // SIGTERM: finish, store offsets, exit 0.
    let mut second = second;
    let pid = second.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = second.child.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    assert!(kafka_committed(&brokers) <= 400);
    db.drop_db().await.unwrap();
}
