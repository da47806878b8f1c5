//! A Kafka protocol peer (librdkafka's mock cluster), the real PostgreSQL, and
//! helpers to produce, read back and wait.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tierline_events::{Codec, Framing, Record, sample};
use tierline_ingest::IngestConfig;

pub const INBOUND: [&str; 6] = [
    "srm.purchase-orders.v1",
    "srm.deliveries.v1",
    "srm.inspections.v1",
    "srm.after-sales.v1",
    "srm.assessments.v1",
    "srm.supplier-actions.v1",
];
pub const DLQ: &str = "srm.dead-letter.v1";
pub const PARTITIONS: i32 = 3;

pub struct Kafka {
    pub cluster: MockCluster<'static, DefaultProducerContext>,
    pub brokers: String,
    pub producer: FutureProducer,
}

pub fn kafka() -> Kafka {
    let cluster = MockCluster::new(1).unwrap();
    for t in INBOUND.iter().chain([&DLQ]) {
        cluster.create_topic(t, PARTITIONS, 1).unwrap();
    }
    let brokers = cluster.bootstrap_servers();
    let producer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    Kafka {
        cluster,
        brokers,
        producer,
    }
}

/// A message to produce.
#[derive(Clone, Debug)]
pub struct Msg {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub partition: Option<i32>,
}

/// `n` valid events of the realistic mix as messages on their topics.
pub fn good(n: usize, seed: u64) -> Vec<(Record, Msg)> {
    let codec = Codec::default();
    sample::mix(n, seed)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let framing = if i % 4 == 0 {
                Framing::SingleObject
            } else {
                Framing::Confluent
            };
            let value = codec.to_bytes(&r, framing).unwrap();
            let msg = Msg {
                topic: r.kind().default_topic().into(),
                key: Some(r.supplier_id().as_bytes().to_vec()),
                value: Some(value),
                headers: vec![],
                partition: None,
            };
            (r, msg)
        })
        .collect()
}

pub async fn produce(k: &Kafka, msgs: &[Msg]) {
    let mut futures = Vec::new();
    for m in msgs {
        let mut headers = OwnedHeaders::new();
        for (hk, hv) in &m.headers {
            headers = headers.insert(Header {
                key: hk,
                value: Some(hv),
            });
        }
        let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&m.topic).headers(headers);
        if let Some(key) = &m.key {
            rec = rec.key(key.as_slice());
        }
        if let Some(v) = &m.value {
            rec = rec.payload(v.as_slice());
        }
        if let Some(p) = m.partition {
            rec = rec.partition(p);
        }
        futures.push(k.producer.send(rec, Duration::from_secs(10)));
    }
    for f in futures {
        f.await.map_err(|(e, _)| e).unwrap();
    }
}

pub fn config(k: &Kafka, group: &str) -> IngestConfig {
    let mut c = IngestConfig::with_brokers(k.brokers.clone());
    c.group = group.into();
    c.batch_size = 100;
    c.batch_linger_ms = 50;
    c.kafka.options = vec![
        "session.timeout.ms=6000".into(),
        "heartbeat.interval.ms=500".into(),
    ];
    c
}

/// Polls `check` until it holds or `secs` pass; returns whether it held.
pub async fn wait_for<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

/// A dead letter as read back from the topic.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl DeadLetter {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// Everything on the dead-letter topic now.
pub fn dead_letters(k: &Kafka) -> Vec<DeadLetter> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &k.brokers)
        .set("group.id", "dlq-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut out = Vec::new();
    for p in 0..PARTITIONS {
        let (_, high) = consumer
            .fetch_watermarks(DLQ, p, Duration::from_secs(5))
            .unwrap();
        if high == 0 {
            continue;
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(DLQ, p, Offset::Beginning).unwrap();
        consumer.assign(&tpl).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut read = 0;
        while read < high && Instant::now() < deadline {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                read = m.offset() + 1;
                let headers = m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|x| (x.key.to_owned(), x.value.unwrap_or_default().to_vec()))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(DeadLetter {
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().unwrap_or_default().to_vec(),
                    headers,
                });
            }
        }
    }
    out
}

/// GET over plain HTTP/1.0: (status, body).
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The value of a metric line `name{labels} value` summed over label sets.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.starts_with(name)
                && (l[name.len()..].starts_with('{') || l[name.len()..].starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

/// A TCP forwarder in front of the real PostgreSQL that can cut the line: the
/// database stays real; only the network between it and ingest fails.
pub struct Proxy {
    pub port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: std::net::SocketAddr) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (u, c) = (up.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !u.load(Ordering::SeqCst) {
                    drop(inbound); // refused: the database is "unreachable"
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                c.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy {
            port,
            up,
            conns,
            accept,
        }
    }

    /// Cuts every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
