//! The services as processes, on both store backends: `tierline project` and `tierline
//! relay` start on a fresh database in either order, serve their operator endpoints and
//! stop cleanly on SIGTERM; a second projector stands by and takes over; `tierline run`
//! carries an inbound event to a published alert.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{free_port, http_get, wait_get};

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tierline_store::testing::{Backend, fresh};

use tierline_store::on_both_backends;

/// Kills a process if the test fails before it stops it.
struct Guard(u32);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .status();
    }
}

on_both_backends!(relay_then_projector_on_a_fresh_database);
async fn relay_then_projector_on_a_fresh_database(backend: Backend) {
    let db = fresh(backend).await.expect("a store");
    let bin = env!("CARGO_BIN_EXE_tierline");
    // The relay first: it creates the outbox itself. No broker is needed while the
    // outbox is empty.
    let relay_port = free_port();
    let mut relay = Command::new(bin)
        .args([
            "relay",
            "--store",
            &db.url,
            "--kafka-brokers",
            "127.0.0.1:1",
            "--log",
            "off",
        ])
        .args(["--relay-http", &format!("127.0.0.1:{relay_port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (status, body) = wait_get(relay_port, "/metrics");
    assert_eq!(status, 200);
    assert!(body.contains("tierline_outbox_pending 0"), "{body}");
    assert_eq!(wait_get(relay_port, "/readyz").0, 200);

    let project_port = free_port();
    let mut project = Command::new(bin)
        .args([
            "project",
            "--store",
            &db.url,
            "--pin-date",
            "2026-06-01",
            "--log",
            "off",
        ])
        .args(["--project-http", &format!("127.0.0.1:{project_port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (status, body) = wait_get(project_port, "/metrics");
    assert_eq!(status, 200);
    assert!(body.contains("tierline_events_projected_total"), "{body}");
    let (status, body) = wait_get(project_port, "/readyz");
    assert_eq!(status, 200, "{body}");

    for child in [&mut relay, &mut project] {
        assert!(
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
        let status = child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
    db.cleanup().await;
}

on_both_backends!(a_second_projector_reports_standby_and_takes_over_when_the_first_is_killed);
async fn a_second_projector_reports_standby_and_takes_over_when_the_first_is_killed(
    backend: Backend,
) {
    let db = fresh(backend).await.expect("a store");
    let start = |port: u16| {
        Command::new(env!("CARGO_BIN_EXE_tierline"))
            .args(["project", "--store", &db.url, "--pin-date", "2026-06-01"])
            .args(["--lease-ms", "1000", "--poll-ms", "50", "--log", "off"])
            .args(["--project-http", &format!("127.0.0.1:{port}")])
            .spawn()
            .unwrap()
    };
    let ports = [free_port(), free_port()];
    let mut first = start(ports[0]);
    let _g1 = Guard(first.id());
    let role = |port| {
        let (status, body) = wait_get(port, "/readyz");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["role"].as_str().unwrap().to_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while role(ports[0]) != "active" {
        assert!(
            Instant::now() < deadline,
            "the first projector never became active"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut second = start(ports[1]);
    let _g2 = Guard(second.id());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(role(ports[1]), "standby");
    assert_eq!(role(ports[0]), "active");
    first.kill().unwrap();
    first.wait().unwrap();
    let killed = Instant::now();
    while role(ports[1]) != "active" {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the standby never took over"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "{backend:?}: the standby projector took over {} ms after the active one was killed (lease 1000 ms)",
        killed.elapsed().as_millis()
    );
    Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(second.wait().unwrap().success());
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_requires_a_key_and_answers_with_one() {
    let db = fresh(Backend::Postgres)
        .await
        .expect("PostgreSQL is needed");
    let bin = env!("CARGO_BIN_EXE_tierline");
    // No key configured and no --no-auth: refuses to start, saying what to do.
    let out = Command::new(bin)
        .args(["serve", "--store", &db.url, "--api-http", "127.0.0.1:0"])
        .env_remove("TIERLINE_API_KEY_HASHES")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no API key configured") && err.contains("--no-auth"),
        "{err}"
    );
    // A key given by its digest (from `tierline hash-key`).
    let mut hash = Command::new(bin)
        .arg("hash-key")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    hash.stdin.take().unwrap().write_all(b"k-123").unwrap();
    let digest = String::from_utf8(hash.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(digest.trim().len(), 64);
    let port = free_port();
    let mut serve = Command::new(bin)
        .args([
            "serve",
            "--store",
            &db.url,
            "--log",
            "off",
            "--pin-date",
            "2026-06-01",
        ])
        .args(["--api-http", &format!("127.0.0.1:{port}")])
        .env("TIERLINE_API_KEY_HASHES", digest.trim())
        .spawn()
        .unwrap();
    assert_eq!(wait_get(port, "/readyz").0, 200);
    assert_eq!(wait_get(port, "/v1/tiers").0, 401);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /v1/tiers HTTP/1.0\r\nAuthorization: Bearer k-123\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.0 200"), "{text}");
    assert!(text.contains(r#""as_of":"2026-06-01""#), "{text}");
    let (status, page) = wait_get(port, "/");
    assert_eq!(status, 200);
    assert!(page.contains("Tierline"));
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(serve.wait().unwrap().success());
    db.cleanup().await;
}

on_both_backends!(run_hosts_every_service_from_inbound_event_to_published_alert);
async fn run_hosts_every_service_from_inbound_event_to_published_alert(backend: Backend) {
    use rdkafka::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use tierline_events::{Codec, Disposition, Framing, InspectionCompleted, Record, Timestamp};

    let db = fresh(backend).await.expect("a store");
    let cluster = rdkafka::mocking::MockCluster::new(1).unwrap();
    for t in [
        "srm.purchase-orders.v1",
        "srm.deliveries.v1",
        "srm.inspections.v1",
        "srm.after-sales.v1",
        "srm.dead-letter.v1",
        "srm.supplier-alerts.v1",
    ] {
        cluster.create_topic(t, 1, 1).unwrap();
    }
    let brokers = cluster.bootstrap_servers();
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut run = Command::new(env!("CARGO_BIN_EXE_tierline"))
        .args([
            "run",
            "--store",
            &db.url,
            "--kafka-brokers",
            &brokers,
            "--no-auth",
            "--log",
            "off",
        ])
        .args(["--http", &format!("127.0.0.1:{}", ports[0])])
        .args(["--project-http", &format!("127.0.0.1:{}", ports[1])])
        .args(["--relay-http", &format!("127.0.0.1:{}", ports[2])])
        .args(["--api-http", &format!("127.0.0.1:{}", ports[3])])
        .spawn()
        .unwrap();
    let _guard = Guard(run.id());
    for p in &ports {
        let deadline = Instant::now() + Duration::from_secs(60);
        while wait_get(*p, "/readyz").0 != 200 {
            assert!(Instant::now() < deadline, "port {p} never became ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // An inspection with three critical defects, now: a CRITICAL critical_defects alert.
    let now = Timestamp(chrono::Utc::now().timestamp_millis());
    let record: Record = InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0777),
        source: "qms".into(),
        occurred_at: now,
        supplier_id: "SUP-RUN".into(),
        inspection_id: "IN-1".into(),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "I".into(),
        inspected_quantity: 100.0,
        defective_quantity: 3.0,
        critical_defects: 3,
        disposition: Disposition::Rejected,
        posting_date: None,
    }
    .into();
    let bytes = Codec::default()
        .to_bytes(&record, Framing::Confluent)
        .unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to("srm.inspections.v1")
                .key("SUP-RUN")
                .payload(&bytes),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let want = tierline_scoring::alert_id(
        "SUP-RUN",
        "critical_defects",
        tierline_scoring::Level::Critical,
        now.date().unwrap(),
    );
    // Through the API...
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = wait_get(ports[3], "/v1/alerts?supplier_id=SUP-RUN&level=CRITICAL");
        assert_eq!(status, 200);
        if body.contains(&want.to_string()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the alert never reached the API: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ...and on the alerts topic, with its deterministic id.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", "run-test")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&["srm.supplier-alerts.v1"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut found = false;
    while !found && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            found = m.headers().is_some_and(|h| {
                h.iter()
                    .any(|x| x.key == "ce_id" && x.value == Some(want.to_string().as_bytes()))
            });
        }
    }
    assert!(
        found,
        "no SupplierAlertRaised with ce_id {want} on the alerts topic"
    );
    Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(
        run.wait().unwrap().success(),
        "tierline run did not stop cleanly"
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_produces_its_history_to_the_inbound_topics() {
    use rdkafka::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let cluster = rdkafka::mocking::MockCluster::new(1).unwrap();
    let topics = [
        "srm.purchase-orders.v1",
        "srm.deliveries.v1",
        "srm.inspections.v1",
        "srm.after-sales.v1",
        "srm.assessments.v1",
        "srm.supplier-actions.v1",
    ];
    for t in topics {
        cluster.create_topic(t, 2, 1).unwrap();
    }
    let brokers = cluster.bootstrap_servers();
    let out = Command::new(env!("CARGO_BIN_EXE_tierline"))
        .args([
            "simulate",
            "--kafka-brokers",
            &brokers,
            "--suppliers",
            "6",
            "--days",
            "40",
            "--log",
            "warn",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let produced: i64 = stdout
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {stdout:?}"));
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let mut on_topics = 0;
    for t in topics {
        for p in 0..2 {
            let (low, high) = c.fetch_watermarks(t, p, Duration::from_secs(5)).unwrap();
            let sparse = matches!(
                t,
                "srm.after-sales.v1" | "srm.assessments.v1" | "srm.supplier-actions.v1"
            );
            assert!(sparse || high > low, "{t}/{p} is empty");
            on_topics += high - low;
        }
    }
    assert!(produced > 500, "{stdout}");
    assert_eq!(on_topics, produced);
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// A bounded load test on loopback: `tierline serve`, under a descriptor limit of 1,024,
/// with 1,500 idle and half-sent connections (three times its connection cap) and a
/// client trickling its headers still answers health and API calls, its memory stays bounded, and SIGTERM is not
/// held up by the half-sent requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stays_healthy_under_idle_and_slow_connections() {
    let db = fresh(Backend::Postgres)
        .await
        .expect("PostgreSQL is needed");
    let bin = env!("CARGO_BIN_EXE_tierline");
    let port = free_port();
    // Under a descriptor limit of 1,024, which the 1,500 connections would exceed.
    let mut serve = Command::new("sh")
        .args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\"", bin])
        .args(["serve", "--store", &db.url, "--log", "off", "--no-auth"])
        .args(["--api-http", &format!("127.0.0.1:{port}")])
        .args(["--http-max-connections", "500"])
        .spawn()
        .unwrap();
    assert_eq!(wait_get(port, "/readyz").0, 200);
    assert_eq!(wait_get(port, "/v1/tiers").0, 200);
    let before = rss_kib(serve.id());
    let mut held = Vec::new();
    for n in 0..1500 {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        if n % 2 == 1 {
            let _ = s.write_all(b"GET /v1/tiers HTTP/1.1\r\nHost: half");
        }
        held.push(s);
    }
    let trickle = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        for b in b"GET /livez HTTP/1.1\r\nHost: slow\r\n" {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(http_get(port, "/livez").map(|r| r.0), Some(200));
    assert_eq!(http_get(port, "/readyz").map(|r| r.0), Some(200));
    assert_eq!(http_get(port, "/v1/tiers").map(|r| r.0), Some(200));
    let holding = rss_kib(serve.id());
    let per_conn = holding.saturating_sub(before) as f64 / 1500.0;
    eprintln!(
        "serve under 1,500 idle/half connections (cap 500): RSS {before} -> {holding} KiB, {per_conn:.1} KiB per connection opened"
    );
    // Bound: 64 MiB over the idle process for the whole flood (it was ~530 MiB).
    assert!(
        holding < before + 64 * 1024,
        "RSS {before} -> {holding} KiB"
    );
    let t0 = std::time::Instant::now();
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(serve.wait().unwrap().success());
    eprintln!(
        "SIGTERM with half-sent requests held: stopped in {:?}",
        t0.elapsed()
    );
    drop(held);
    let _ = trickle.join();
    db.cleanup().await;
}
