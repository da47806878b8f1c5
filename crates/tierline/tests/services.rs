//! `tierline project` and `tierline relay` start on a fresh database in either order,
//! serve their operator endpoints, and stop cleanly on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default(),
    ))
}

fn wait_get(port: u16, path: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = get(port, path) {
            return r;
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_then_projector_on_a_fresh_database() {
    let db = tierline_store::testing::pg()
        .await
        .expect("PostgreSQL is needed");
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
        .args(["--http", &format!("127.0.0.1:{relay_port}")])
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
        .args(["--http", &format!("127.0.0.1:{project_port}")])
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
    db.drop_db().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_requires_a_key_and_answers_with_one() {
    let db = tierline_store::testing::pg()
        .await
        .expect("PostgreSQL is needed");
    let bin = env!("CARGO_BIN_EXE_tierline");
    // No key configured and no --no-auth: refuses to start, saying what to do.
    let out = Command::new(bin)
        .args(["serve", "--store", &db.url, "--http", "127.0.0.1:0"])
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
        .args(["--http", &format!("127.0.0.1:{port}")])
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
    db.drop_db().await.unwrap();
}
