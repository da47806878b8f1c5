//! The end-to-end world shared by the suite (`tests/e2e.rs`) and the end-to-end
//! benchmark (`benches/e2e.rs`): Apache Kafka (or tansu) and a private PostgreSQL
//! server as processes,
//! the services as processes, the independent Python producer, and the waits around
//! them.

#![allow(dead_code)] // each user takes a subset

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use tierline_events::Record;

use crate::common::{free_port, http_get};

pub(crate) mod broker;
pub(crate) mod cluster;

pub(crate) use broker::*;

pub(crate) fn until<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A child process killed when dropped.
pub(crate) struct Proc {
    pub(crate) name: String,
    pub(crate) cmd: Vec<String>,
    pub(crate) envs: Vec<(String, String)>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) child: Option<Child>,
}

impl Proc {
    pub(crate) fn start(
        name: &str,
        program: &str,
        args: &[String],
        envs: &[(String, String)],
    ) -> Proc {
        let mut p = Proc {
            name: name.to_owned(),
            cmd: std::iter::once(program.to_owned())
                .chain(args.iter().cloned())
                .collect(),
            envs: envs.to_vec(),
            cwd: None,
            child: None,
        };
        p.spawn();
        p
    }

    pub(crate) fn spawn(&mut self) {
        let mut c = Command::new(&self.cmd[0]);
        c.args(&self.cmd[1..])
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null());
        // Logs kept beside the broker's data, for a failing run.
        match std::env::var_os("TIERLINE_E2E_LOGS") {
            Some(dir) => {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(PathBuf::from(dir).join(format!("{}.log", self.name)))
                    .unwrap();
                // tansu logs to standard output.
                c.stdout(f.try_clone().unwrap()).stderr(f);
            }
            None => {
                c.stderr(Stdio::null());
            }
        }
        if let Some(d) = &self.cwd {
            c.current_dir(d);
        }
        self.child = Some(
            c.spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", self.name)),
        );
    }

    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub(crate) fn term(&mut self) -> bool {
        match self.child.take() {
            Some(mut c) => {
                let _ = Command::new("kill")
                    .args(["-TERM", &c.id().to_string()])
                    .status();
                c.wait().map(|s| s.success()).unwrap_or(false)
            }
            None => true,
        }
    }

    pub(crate) fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub(crate) struct World {
    /// Environment every service gets.
    pub(crate) common: Vec<(String, String)>,
    pub(crate) db: PrivatePg,
    pub(crate) brokers: String,
    pub(crate) broker: Proc,
    pub(crate) dir: PathBuf,
    pub(crate) ports: [u16; 4],
    pub(crate) ingest: Proc,
    pub(crate) project: Proc,
    pub(crate) relay: Proc,
    pub(crate) serve: Proc,
}

pub(crate) const PIN: &str = "2026-06-15";

/// A PostgreSQL server of the suite's own (so it can be restarted without touching the
/// machine's), from the installed PostgreSQL binaries.
pub(crate) struct PrivatePg {
    pub(crate) bin: PathBuf,
    pub(crate) data: PathBuf,
    pub(crate) port: u16,
    pub(crate) url: String,
    pub(crate) store: tierline_store::PgStore,
}

impl PrivatePg {
    pub(crate) fn as_postgres(bin: &std::path::Path, tool: &str) -> Command {
        // initdb and postgres refuse to run as root: run them as the postgres user.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
            c
        } else {
            Command::new(bin.join(tool))
        }
    }

    pub(crate) fn pg_ctl(&self, args: &[&str]) {
        let log = self.data.join("server.log");
        let mut c = Self::as_postgres(&self.bin, "pg_ctl");
        c.arg("-D").arg(&self.data).arg("-l").arg(&log).args(args);
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(crate) fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.display()
        );
        self.pg_ctl(&["-w", "-o", &opts, "start"]);
    }

    pub(crate) fn stop(&self) {
        self.pg_ctl(&["-w", "-m", "fast", "stop"]);
    }

    pub(crate) async fn new(dir: &std::path::Path) -> PrivatePg {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).max())
            .expect("PostgreSQL server binaries in /usr/lib/postgresql/*/bin (scripts/ensure-postgres installs them)");
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).unwrap();
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status();
        let mut init = Self::as_postgres(&bin, "initdb");
        let out = init
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let mut pg = PrivatePg {
            bin,
            data,
            port,
            url: url.clone(),
            store: tierline_store::PgStore::from_pool(
                sqlx::PgPool::connect_lazy(&url).unwrap(),
                tierline_events::Codec::default(),
            ),
        };
        pg.start();
        pg.store = tierline_store::PgStore::connect(&url, tierline_events::Codec::default())
            .await
            .unwrap();
        use tierline_store::EventStore;
        pg.store.migrate().await.unwrap();
        pg
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let mut c = Self::as_postgres(&self.bin, "pg_ctl");
        let _ = c
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// The world with the suite's 6-second consumer session timeout (a SIGKILLed member is
/// noticed quickly).
pub(crate) async fn world() -> World {
    world_with(6000).await
}

/// The world, ingest with the given consumer session timeout.
pub(crate) async fn world_with(session_timeout_ms: u32) -> World {
    world_with_env(session_timeout_ms, &[]).await
}

/// The world, every service with `extra` in its environment too.
pub(crate) async fn world_with_env(session_timeout_ms: u32, extra: &[(String, String)]) -> World {
    let dir = std::env::temp_dir().join(format!(
        "tierline-e2e-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = PrivatePg::new(&dir).await;
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let brokers = format!("127.0.0.1:{port}");
    let tansu = Broker::chosen() == Broker::Tansu;
    let mut broker = if tansu {
        tansu_proc(&dir, port)
    } else {
        kafka_proc(&dir, port)
    };
    broker.spawn();
    wait_broker(&brokers, port);
    // Topics, by the independent client.
    produce(&brokers, &dir, &[], 0, true);
    if tansu && std::env::var("TIERLINE_E2E_TANSU_HEADER_INDEX").as_deref() != Ok("0") {
        index_tansu_headers(&dir).await;
    }
    let Services {
        common,
        ports,
        ingest,
        project,
        relay,
        serve,
    } = start_services_with_env(&db.url, &brokers, session_timeout_ms, extra);
    World {
        common,
        db,
        brokers,
        broker,
        dir,
        ports,
        ingest,
        project,
        relay,
        serve,
    }
}

/// The four services as processes, each answering HTTP on its port.
pub(crate) struct Services {
    /// Environment every service gets.
    pub(crate) common: Vec<(String, String)>,
    /// ingest, project, relay, serve.
    pub(crate) ports: [u16; 4],
    pub(crate) ingest: Proc,
    pub(crate) project: Proc,
    pub(crate) relay: Proc,
    pub(crate) serve: Proc,
}

/// Starts ingest, project, relay and serve against `store` and `brokers`, and waits
/// until each is ready.
pub(crate) fn start_services(store: &str, brokers: &str, session_timeout_ms: u32) -> Services {
    start_services_with_env(store, brokers, session_timeout_ms, &[])
}

/// As [`start_services`], every service with `extra` in its environment too.
pub(crate) fn start_services_with_env(
    store: &str,
    brokers: &str,
    session_timeout_ms: u32,
    extra: &[(String, String)],
) -> Services {
    let bin = env!("CARGO_BIN_EXE_tierline");
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let mut common = vec![
        ("TIERLINE_STORE".to_owned(), store.to_owned()),
        ("KAFKA_BROKERS".to_owned(), brokers.to_owned()),
        ("TIERLINE_PIN_DATE".to_owned(), PIN.to_owned()),
        (
            "TIERLINE_LOG".to_owned(),
            std::env::var("TIERLINE_E2E_LOG").unwrap_or_else(|_| "warn".into()),
        ),
    ];
    common.extend(extra.iter().cloned());
    let svc = |name: &str, extra: Vec<String>| {
        Proc::start(
            name,
            bin,
            &std::iter::once(name.to_owned())
                .chain(extra)
                .collect::<Vec<_>>(),
            &common,
        )
    };
    let ingest = ingest_proc("ingest", ports[0], &common, session_timeout_ms);
    let project = svc(
        "project",
        vec!["--project-http".into(), format!("127.0.0.1:{}", ports[1])],
    );
    let relay = svc(
        "relay",
        vec!["--relay-http".into(), format!("127.0.0.1:{}", ports[2])],
    );
    let serve = svc(
        "serve",
        vec![
            "--api-http".into(),
            format!("127.0.0.1:{}", ports[3]),
            "--no-auth".into(),
        ],
    );
    for p in ports {
        wait_status(p, 200, 60, &format!("readiness on {p}"));
    }
    Services {
        common,
        ports,
        ingest,
        project,
        relay,
        serve,
    }
}

/// An ingest instance (all of them join one consumer group) answering HTTP on `port`.
pub(crate) fn ingest_proc(
    name: &str,
    port: u16,
    common: &[(String, String)],
    session_timeout_ms: u32,
) -> Proc {
    let session = format!("session.timeout.ms={session_timeout_ms}");
    let args: Vec<String> = [
        "ingest",
        "--http",
        &format!("127.0.0.1:{port}"),
        "--batch-linger-ms",
        "50",
        // The suite notices a killed member after 6 s instead of librdkafka's 45 s.
        "--kafka-option",
        &session,
        "--kafka-option",
        "heartbeat.interval.ms=1000",
    ]
    .map(str::to_owned)
    .to_vec();
    let mut args = args;
    if let Ok(d) = std::env::var("TIERLINE_E2E_KAFKA_DEBUG") {
        args.extend(["--kafka-option".to_owned(), format!("debug={d}")]);
    }
    Proc::start(name, env!("CARGO_BIN_EXE_tierline"), &args, common)
}

/// Partitions an ingest instance holds, from its `/readyz` body.
pub(crate) fn assigned(port: u16) -> Option<u64> {
    let (_, body) = http_get(port, "/readyz")?;
    serde_json::from_str::<serde_json::Value>(&body).ok()?["assigned_partitions"].as_u64()
}

/// Produces `records` (plus `poison` bad messages) with the Python client; returns how
/// many records it produced.
pub(crate) fn produce(
    brokers: &str,
    dir: &std::path::Path,
    records: &[Record],
    poison: usize,
    create: bool,
) -> u64 {
    let file = dir.join(format!("records-{}.jsonl", free_port()));
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let python = std::env::var("TIERLINE_PYTHON").unwrap_or_else(|_| "python3".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cmd = Command::new(&python);
    cmd.arg(root.join("tests/e2e/produce.py"))
        .arg(brokers)
        .arg(&file)
        .args(["--poison", &poison.to_string()]);
    if create {
        // On a cluster, topics are replicated to every broker (min.insync.replicas: one less).
        let replicas = brokers.split(',').count();
        cmd.args(["--create-topics", "--replication", &replicas.to_string()]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (scripts/test sets TIERLINE_PYTHON): {e}"));
    assert!(
        out.status.success(),
        "produce.py failed (needs confluent-kafka and fastavro):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["produced"].as_u64().unwrap()
}

/// Waits until `/readyz` on `port` answers `status`.
pub(crate) fn wait_status(port: u16, status: u16, secs: u64, what: &str) {
    until(what, secs, || {
        http_get(port, "/readyz")
            .filter(|(s, _)| *s == status)
            .map(|_| ())
    });
}

/// Waits (up to 3 minutes) until the store holds `expected` events; returns the count.
pub(crate) async fn wait_count(store: &tierline_store::PgStore, expected: i64) -> i64 {
    use tierline_store::EventStore;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let n = store.count().await.unwrap_or(-1);
        if n >= expected || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// (ce_id header, record type) of every message on `topic`.
pub(crate) fn read_topic(brokers: &str, topic: &str) -> Vec<(String, String)> {
    read_headers(brokers, topic, &["ce_id", "ce_type"])
        .into_iter()
        .map(|mut h| {
            let ty = h.pop().unwrap_or_default();
            (h.pop().unwrap_or_default(), ty)
        })
        .collect()
}

/// The values of the headers `names` of every message on `topic`.
pub(crate) fn read_headers(brokers: &str, topic: &str, names: &[&str]) -> Vec<Vec<String>> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("e2e-check-{}", free_port()))
        .create()
        .unwrap();
    let meta = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let parts = meta.topics()[0].partitions().len() as i32;
    let mut tpl = rdkafka::TopicPartitionList::new();
    let mut total = 0;
    for p in 0..parts {
        let (low, high) = c
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .unwrap();
        total += high - low;
        tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
            .unwrap();
    }
    c.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while (out.len() as i64) < total && Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(200)) {
            let header = |k: &str| {
                m.headers()
                    .and_then(|h| {
                        h.iter()
                            .find(|x| x.key == k)
                            .and_then(|x| x.value.map(|v| String::from_utf8_lossy(v).into_owned()))
                    })
                    .unwrap_or_default()
            };
            out.push(names.iter().map(|n| header(n)).collect());
        }
    }
    out
}

/// Events an ingest instance has appended, from its `/metrics`.
pub(crate) fn appended(port: u16) -> Option<u64> {
    let (_, body) = http_get(port, "/metrics")?;
    // One series per topic: their sum.
    let total: f64 = body
        .lines()
        .filter(|l| l.starts_with("tierline_ingest_events_appended_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    Some(total as u64)
}
