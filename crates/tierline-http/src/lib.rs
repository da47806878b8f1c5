//! Every HTTP port of Tierline (the API, and the `/livez` `/readyz` `/metrics` ports of
//! ingest, the projector and the relay) is served here, behind one layer that an
//! unauthenticated client cannot exhaust:
//!
//! - **A connection cap.** At most [`HttpLimits::max_connections`] connections are held
//!   (keep it well under the process's descriptor limit). A new connection at the cap
//!   evicts the oldest connection that is not serving a request (idle, or still sending
//!   its headers); if every held connection is serving one, the new one is closed at
//!   once. So a flood of idle sockets churns instead of locking out health probes.
//! - **Header-read and idle timeouts.** A connection must deliver a request's headers
//!   within [`HttpLimits::header_read_timeout`], also between keep-alive requests
//!   (hyper starts that timer whenever the connection is idle).
//! - **A keep-alive cap.** After [`HttpLimits::max_requests_per_connection`] requests
//!   the response says `Connection: close`.
//! - **A bounded shutdown.** On shutdown idle connections close at once and requests in
//!   flight get [`HttpLimits::shutdown_grace`] to finish.

mod registry;
mod service;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt;
use tracing::{debug, warn};

pub use registry::ConnStats;
use registry::Registry;
pub use service::{
    MetricsText, READY_TIMEOUT, Readiness, ReadyCheck, ops_router, shutdown_signal, spawn_ops,
    stop_on_signal,
};

/// The limits of one HTTP port.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Connections held at most.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, and to start the next request
    /// on a kept-alive connection.
    pub header_read_timeout: Duration,
    /// Requests served on one connection before it is closed.
    pub max_requests_per_connection: u32,
    /// Largest buffer a connection may grow for a request's head.
    pub max_buf_size: usize,
    /// Time requests in flight get to finish once shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            max_requests_per_connection: 1000,
            max_buf_size: 64 * 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// The limits as flags (every flag also an environment variable), shared by every
/// service's HTTP port.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Connections each HTTP port holds at most; at the cap, idle ones make room. Keep
    /// it well below the descriptor limit (`ulimit -n`).
    #[arg(
        long,
        env = "TIERLINE_HTTP_MAX_CONNECTIONS",
        default_value_t = 512,
        global = true
    )]
    pub http_max_connections: usize,
    /// Milliseconds a client has to send a request's headers (also between keep-alive
    /// requests).
    #[arg(
        long,
        env = "TIERLINE_HTTP_HEADER_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub http_header_timeout_ms: u64,
    /// Requests served on one connection before it is closed.
    #[arg(
        long,
        env = "TIERLINE_HTTP_MAX_REQUESTS_PER_CONNECTION",
        default_value_t = 1000,
        global = true
    )]
    pub http_max_requests_per_connection: u32,
    /// Milliseconds requests in flight get to finish on shutdown.
    #[arg(
        long,
        env = "TIERLINE_HTTP_SHUTDOWN_GRACE_MS",
        default_value_t = 5000,
        global = true
    )]
    pub http_shutdown_grace_ms: u64,
}

impl HttpArgs {
    /// The limits these flags give.
    pub fn limits(&self) -> HttpLimits {
        HttpLimits {
            max_connections: self.http_max_connections.max(1),
            header_read_timeout: Duration::from_millis(self.http_header_timeout_ms.max(1)),
            max_requests_per_connection: self.http_max_requests_per_connection.max(1),
            shutdown_grace: Duration::from_millis(self.http_shutdown_grace_ms),
            ..HttpLimits::default()
        }
    }
}

/// What a connection shares with the registry.
#[derive(Debug, Default)]
struct ConnCtl {
    /// A request is being served.
    busy: AtomicBool,
    requests: AtomicU32,
}

/// Serves `router` on `listener` until `shutdown` resolves, within `limits`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_stats(listener, router, limits, Arc::default(), shutdown).await
}

/// [`serve`], counting connections into `stats` (for a service's metrics).
pub async fn serve_with_stats(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: HttpLimits,
    stats: Arc<ConnStats>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Every handler turned into a route once, here: `axum::serve` does it per connection
    // (~360 KiB each for the API's router), and calling a router that has not done it
    // converts the matched handler on every request.
    let router: Router = router.with_state(());
    let registry = Registry::new(limits.max_connections.max(1), stats);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Out of descriptors or memory: back off; held connections still work.
                warn!(error = %e, "accept failed; retrying shortly");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = registry.admit() else {
            debug!("connection refused: every held connection is serving a request");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let ctl = slot.ctl.clone();
        let service = PerConnection {
            router: router.clone(),
            ctl: ctl.clone(),
            max_requests: limits.max_requests_per_connection.max(1),
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(limits.max_buf_size.max(8192))
            .keep_alive(true);
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let task = tokio::spawn(async move {
            // Errors here are the client's (reset, timeout, bad request): not ours.
            if let Err(e) = conn.await {
                debug!(error = %e, "connection ended");
            }
            drop(slot);
        });
        registry.started(&ctl, task.abort_handle());
    }
    drop(listener);
    registry.drain(limits.shutdown_grace).await;
    Ok(())
}

/// Accept errors that concern one connection only (the next accept can succeed).
fn is_per_connection(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// The router as one connection's service: marks the connection busy while a request
/// is served, and closes it after its last allowed request.
#[derive(Clone)]
struct PerConnection {
    router: Router,
    ctl: Arc<ConnCtl>,
    max_requests: u32,
}

impl hyper::service::Service<Request<Incoming>> for PerConnection {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let (router, ctl, max) = (self.router.clone(), self.ctl.clone(), self.max_requests);
        ctl.busy.store(true, Ordering::Release);
        let n = ctl.requests.fetch_add(1, Ordering::AcqRel) + 1;
        Box::pin(async move {
            let result = router.oneshot(req.map(Body::new)).await;
            ctl.busy.store(false, Ordering::Release);
            let Ok(mut res) = result;
            if n >= max {
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(res)
        })
    }
}
