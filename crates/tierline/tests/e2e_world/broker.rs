//! The suite's broker: Apache Kafka (the default) or tansu, started as a process, and
//! the wait until it answers.

use std::path::PathBuf;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::{Proc, until};
use crate::common::free_port;

/// The broker the suite runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Broker {
    /// Apache Kafka in KRaft mode, one combined broker and controller (the default).
    Kafka,
    /// tansu 0.6.0 (`TIERLINE_E2E_BROKER=tansu`), the suite's broker before Kafka.
    Tansu,
}

impl Broker {
    /// `TIERLINE_E2E_BROKER`: `kafka` (default) or `tansu`.
    pub(crate) fn chosen() -> Broker {
        match std::env::var("TIERLINE_E2E_BROKER").as_deref() {
            Ok("tansu") => Broker::Tansu,
            _ => Broker::Kafka,
        }
    }
}

/// Apache Kafka on `port` (its controller on the next free port), storage under `dir`:
/// `scripts/kafka start` formats the storage once and `exec`s the JVM, so the process
/// killed is the broker itself.
pub(crate) fn kafka_proc(dir: &std::path::Path, port: u16) -> Proc {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/kafka");
    Proc {
        name: "kafka".into(),
        cmd: vec![
            "bash".into(),
            script.to_str().unwrap().to_owned(),
            "start".into(),
            dir.join("kafka").to_str().unwrap().to_owned(),
            port.to_string(),
            free_port().to_string(),
        ],
        envs: Vec::new(),
        cwd: Some(dir.to_path_buf()),
        child: None,
    }
}

/// tansu on `port` with SQLite storage in `dir`.
pub(crate) fn tansu_proc(dir: &std::path::Path, port: u16) -> Proc {
    let listener = format!("tcp://127.0.0.1:{port}");
    // tansu reads the SQLite path relative to its working directory.
    Proc {
        name: "tansu".into(),
        cmd: vec![
            tansu_bin().to_str().unwrap().to_owned(),
            "broker".into(),
            "--listener-url".into(),
            listener.clone(),
            "--advertised-listener-url".into(),
            listener,
            "--storage-engine".into(),
            "sqlite://tansu.db".into(),
        ],
        envs: Vec::new(),
        cwd: Some(dir.to_path_buf()),
        child: None,
    }
}

/// Waits until the broker on `port` listens and answers a metadata request with itself
/// (a KRaft broker listens before its controller has elected itself).
pub(crate) fn wait_broker(brokers: &str, port: u16) {
    until("the broker to listen", 90, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    until("the broker to answer metadata", 90, || {
        c.fetch_metadata(None, Duration::from_secs(2))
            .ok()
            .filter(|m| !m.brokers().is_empty())
    });
}

pub(crate) fn tansu_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TANSU") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let candidates = [
        home.join(".cargo/bin/tansu"),
        PathBuf::from("/usr/local/bin/tansu"),
    ];
    candidates
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("tansu not found: scripts/test installs it (cargo install tansu --locked --features libsql,dynostore), or set TANSU"))
}

/// Works around a defect of tansu 0.6.0's SQLite storage: its fetch looks up each
/// record's headers with a query that scans the whole `header` table (it has no index),
/// so every record fetched, of any topic, costs a scan of every header stored on the
/// broker. The relay's alerts carry six CloudEvents headers each: with ~8,000 alerts
/// published, ingest's fetches of the inbound topics stalled altogether (and tansu's
/// single storage task, busy with them, stopped answering the group coordinator's
/// requests). The index changes no behaviour of the broker, only the cost of that query;
/// a real Kafka broker has no such cost. `TIERLINE_E2E_TANSU_HEADER_INDEX=0` leaves it
/// out, to see the difference.
pub(crate) async fn index_tansu_headers(dir: &std::path::Path) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", dir.join("tansu.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open tansu's database {url}: {e}"));
    sqlx::query(
        "CREATE INDEX IF NOT EXISTS tierline_e2e_header_by_record ON header (topition, offset_id)",
    )
    .execute(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();
}
