//! The hardened HTTP layer against hostile and careless clients, on loopback: idle and
//! slow connections, floods past the connection cap, long keep-alive, shutdown with
//! half-sent requests, and the memory idle connections cost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tierline_http::{ConnStats, HttpLimits, serve_with_stats};
use tokio::sync::oneshot;

struct Server {
    addr: SocketAddr,
    stats: Arc<ConnStats>,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(limits: HttpLimits) -> Server {
    let router = Router::new().route("/livez", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stats = Arc::new(ConnStats::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve_with_stats(
        listener,
        router,
        limits,
        stats.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    Server {
        addr,
        stats,
        stop: Some(stop),
        done,
    }
}

/// A GET on a new connection: the status line, or `None` if the server closed it.
fn get_status(addr: SocketAddr, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.lines().next().map(str::to_owned)
}

/// Whether the server closes `s` within `secs` seconds (reads EOF or a reset).
fn closed_within(s: &mut TcpStream, secs: u64) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(secs))).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

fn limits() -> HttpLimits {
    HttpLimits {
        header_read_timeout: Duration::from_millis(400),
        ..HttpLimits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let server = start(limits()).await;
    let mut idle = TcpStream::connect(server.addr).unwrap();
    let closed = tokio::task::spawn_blocking(move || closed_within(&mut idle, 10))
        .await
        .unwrap();
    assert!(closed, "an idle connection was kept open");
    // And one that sent a request, then went idle on keep-alive, likewise.
    let mut kept = TcpStream::connect(server.addr).unwrap();
    write!(kept, "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let closed = tokio::task::spawn_blocking(move || closed_within(&mut kept, 10))
        .await
        .unwrap();
    assert!(closed, "an idle keep-alive connection was kept open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_headers_is_cut_off() {
    let server = start(limits()).await;
    let addr = server.addr;
    let cut = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        // One byte every 100 ms: the whole head would take 4 s.
        for b in b"GET /livez HTTP/1.1\r\nHost: trickle\r\nX: y\r\n\r\n" {
            if s.write_all(&[*b]).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        closed_within(&mut s, 1)
    })
    .await
    .unwrap();
    assert!(cut, "a slow-header client kept its connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_makes_room_and_health_still_answers() {
    let server = start(HttpLimits {
        max_connections: 50,
        header_read_timeout: Duration::from_secs(30),
        ..HttpLimits::default()
    })
    .await;
    let addr = server.addr;
    let held: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let status = tokio::task::spawn_blocking(move || get_status(addr, "/livez"))
        .await
        .unwrap();
    assert_eq!(status.as_deref(), Some("HTTP/1.1 200 OK"));
    let s = &server.stats;
    assert!(s.open.load(Ordering::Relaxed) <= 50, "held at most the cap");
    assert!(
        s.evicted.load(Ordering::Relaxed) >= 250,
        "idle ones made room"
    );
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_ends_after_the_request_cap() {
    let server = start(HttpLimits {
        max_requests_per_connection: 3,
        ..limits()
    })
    .await;
    let addr = server.addr;
    let text = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for _ in 0..3 {
            write!(s, "GET /livez HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        }
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        text
    })
    .await
    .unwrap();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    assert_eq!(text.matches("connection: close").count(), 1, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_half_sent_requests() {
    let mut server = start(HttpLimits {
        header_read_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_millis(200),
        ..HttpLimits::default()
    })
    .await;
    let mut half = TcpStream::connect(server.addr).unwrap();
    write!(half, "GET /livez HTTP/1.1\r\nHost:").unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    let _ = server.stop.take().unwrap().send(());
    let done = tokio::time::timeout(Duration::from_secs(10), &mut server.done).await;
    assert!(matches!(done, Ok(Ok(Ok(())))), "serve did not return");
    eprintln!("shutdown with a half-sent request: {:?}", t0.elapsed());
    assert!(closed_within(&mut half, 5));
}

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cost_little_memory_and_give_it_back() {
    const N: usize = 1000;
    let server = start(HttpLimits {
        max_connections: 2000,
        header_read_timeout: Duration::from_secs(60),
        ..HttpLimits::default()
    })
    .await;
    let addr = server.addr;
    // Warm up the runtime and allocator with a first round.
    let warm: Vec<TcpStream> = (0..N).map(|_| TcpStream::connect(addr).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib();
    let mut held: Vec<TcpStream> = (0..N).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // Half of them send half a request.
    for s in held.iter_mut().step_by(2) {
        s.write_all(b"GET /livez HTTP/1.1\r\nHost: half").unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.stats.open.load(Ordering::Relaxed) < N as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let holding = rss_kib();
    drop(held);
    while server.stats.open.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = rss_kib();
    let per_conn = holding.saturating_sub(before) as f64 / N as f64;
    eprintln!(
        "{N} idle connections (half with half a request): RSS {before} -> {holding} -> {after} KiB after they closed, {per_conn:.1} KiB per connection"
    );
    // The bound this layer keeps: a few KiB of buffers and task per connection.
    assert!(per_conn < 48.0, "{per_conn:.1} KiB per idle connection");
    assert!(
        after <= before + (N as u64 * 8),
        "memory was not given back: {before} -> {after} KiB"
    );
}
