//! The benchmarks' HTTP load generator: keep-alive HTTP/1.1 connections, latencies
//! per request.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A numeric environment setting, or `default`.
pub(crate) fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Serves `router` on a free local port as in production (tierline-http), except the
/// keep-alive request cap: this load generator does not reconnect.
pub(crate) async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = tierline_http::HttpLimits {
        max_requests_per_connection: u32::MAX,
        ..Default::default()
    };
    tokio::spawn(async move {
        tierline_api::serve(listener, router, limits, std::future::pending())
            .await
            .unwrap()
    });
    addr
}

/// The API on `store` served twice: with the response cache (the default) and without;
/// their addresses in that order.
pub(crate) async fn serve_cached_and_not(
    store: &tierline_store::Store,
    policy: &Arc<tierline_scoring::Policy>,
    clock: tierline_clock::FixedClock,
    extra: fn(axum::Router) -> axum::Router,
) -> (std::net::SocketAddr, std::net::SocketAddr) {
    let mut addrs = Vec::new();
    for cache in [true, false] {
        let mut config = tierline_api::ApiConfig::new(tierline_api::ApiKeys::from_keys([KEY]));
        config.cache = cache;
        let (router, _) = tierline_api::app(
            tierline_api::Reader::new(
                store.clone(),
                policy.clone(),
                tierline_events::Codec::default(),
            ),
            Arc::new(clock),
            &config,
            Arc::new(tierline_api::HttpMetrics::default()),
        );
        addrs.push(serve(extra(router)).await);
    }
    (addrs[0], addrs[1])
}

/// A fresh store on `BENCH_STORE` (`postgres`, the default, or `sqlite`).
pub(crate) async fn fresh_store() -> tierline_store::testing::TestStore {
    let backend = match std::env::var("BENCH_STORE").as_deref() {
        Ok("sqlite") => tierline_store::testing::Backend::Sqlite,
        _ => tierline_store::testing::Backend::Postgres,
    };
    eprintln!("read model on {backend:?}");
    tierline_store::testing::fresh(backend).await.unwrap()
}

/// The API key the benchmarks serve with.
pub(crate) const KEY: &str = "bench-key";

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    body_at: usize,
}

impl Conn {
    pub(crate) async fn open(addr: std::net::SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            body_at: 0,
        }
    }

    /// Sends GET `path` and reads the whole response; returns the status.
    pub(crate) async fn get(&mut self, path: &str) -> u16 {
        self.request("GET", path, None, KEY).await
    }

    /// Sends a request (a JSON body for a POST) with key `key`, reads the whole
    /// response, returns the status; the body is [`Conn::body`].
    pub(crate) async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        key: &str,
    ) -> u16 {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {key}\r\n");
        if let Some(b) = body {
            req.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                b.len()
            ));
        }
        req.push_str("\r\n");
        if let Some(b) = body {
            req.push_str(b);
        }
        self.stream.write_all(req.as_bytes()).await.unwrap();
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).unwrap();
                let status: u16 = head[9..12].parse().unwrap();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .expect("content-length");
                while self.buf.len() < end + 4 + len {
                    let n = self.stream.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                self.body_at = end + 4;
                return status;
            }
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The body of the last response.
    pub(crate) fn body(&self) -> &[u8] {
        self.buf.get(self.body_at..).unwrap_or_default()
    }
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

pub(crate) struct Run {
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Requests answered.
    pub(crate) requests: usize,
}

/// `connections` connections for `seconds`; each request's path from `path(i)`.
/// With `rate` (requests/s in all), requests are paced: latency at that load.
pub(crate) async fn load(
    addr: std::net::SocketAddr,
    connections: usize,
    seconds: f64,
    rate: Option<f64>,
    path: Arc<dyn Fn(u64) -> String + Send + Sync>,
) -> Run {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    load_until(
        addr,
        connections,
        rate,
        path,
        Arc::new(move || Instant::now() >= until),
    )
    .await
}

/// [`load`] until `done()`: every answer must be 200.
pub(crate) async fn load_until(
    addr: std::net::SocketAddr,
    connections: usize,
    rate: Option<f64>,
    path: Arc<dyn Fn(u64) -> String + Send + Sync>,
    done: Arc<dyn Fn() -> bool + Send + Sync>,
) -> Run {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (path, done) = (path.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let mut lat = Vec::new();
            let mut i = c as u64;
            let period = rate.map(|r| Duration::from_secs_f64(connections as f64 / r));
            let mut next = Instant::now();
            while !done() {
                if let Some(p) = period {
                    let now = Instant::now();
                    if next > now {
                        tokio::time::sleep(next - now).await;
                    }
                    next += p;
                }
                let t = Instant::now();
                let status = conn.get(&path(i)).await;
                assert_eq!(status, 200);
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                i += connections as u64;
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() as f64 - 1.0) * p).round() as usize];
    Run {
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        requests: all.len(),
    }
}
