//! The small shell every service shares: `/livez`, `/readyz` (a timed check of what
//! the service needs) and `/metrics` on an operator port, and the shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;

use crate::HttpLimits;

/// What a service's `/readyz` reports: whether it is ready, and a JSON object of its
/// checks (e.g. `{"database": "ok"}`).
#[derive(Debug, Clone)]
pub struct Readiness {
    /// 200 when true, 503 when false.
    pub ready: bool,
    /// The checks, merged into the body after `ready`.
    pub checks: serde_json::Map<String, serde_json::Value>,
}

/// A service's readiness check.
pub type ReadyCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Readiness> + Send>> + Send + Sync>;

/// A service's metrics in the text exposition format.
pub type MetricsText = Arc<dyn Fn() -> String + Send + Sync>;

/// How long `/readyz` waits for the database before calling it unreachable.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

impl Readiness {
    /// Ready when the database answered (`"database": "ok"` or `"unreachable"`).
    pub fn database(ok: bool) -> Readiness {
        let mut checks = serde_json::Map::new();
        checks.insert(
            "database".into(),
            (if ok { "ok" } else { "unreachable" }).into(),
        );
        Readiness { ready: ok, checks }
    }

    /// The response: 200 or 503, with `{"ready": …, …checks}`.
    pub fn into_response(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        let mut body = serde_json::Map::new();
        body.insert("ready".into(), self.ready.into());
        body.extend(self.checks);
        let status = if self.ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, axum::Json(serde_json::Value::Object(body))).into_response()
    }

    /// Adds a reported value that does not decide readiness.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Readiness {
        self.checks.insert(key.to_owned(), value.into());
        self
    }
}

/// The operator router: `/livez`, `/readyz`, `/metrics`.
pub fn ops_router(ready: ReadyCheck, metrics: MetricsText) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let check = ready();
                async move { check.await.into_response() }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let text = metrics();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        text,
                    )
                }
            }),
        )
}

/// Binds `addr` and serves `router` there in the background until the process ends.
pub async fn spawn_ops(
    addr: SocketAddr,
    router: Router,
    limits: HttpLimits,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, "operator endpoints: /livez /readyz /metrics");
    tokio::spawn(async move {
        if let Err(e) = crate::serve(listener, router, limits, std::future::pending()).await {
            tracing::error!(error = %e, "operator endpoints stopped");
        }
    });
    Ok(bound)
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM; Ctrl-C still stops");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = term => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
    }
}

/// A stop flag for service loops, set by [`shutdown_signal`] (or by the caller).
pub fn stop_on_signal() -> (
    tokio::sync::watch::Sender<bool>,
    tokio::sync::watch::Receiver<bool>,
) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let signal_tx = tx.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = signal_tx.send(true);
    });
    (tx, rx)
}
