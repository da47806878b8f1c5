//! `/livez`, `/readyz` and `/metrics` for the projector and the relay.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;
use sqlx::PgPool;

/// Serves the operator endpoints on `addr` in the background.
pub(crate) async fn serve(
    addr: SocketAddr,
    metrics: Arc<tierline_projector::Metrics>,
    pool: PgPool,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    let app = Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let pool = pool.clone();
                async move {
                    let ping = sqlx::query("SELECT 1").execute(&pool);
                    let ok = matches!(tokio::time::timeout(Duration::from_secs(2), ping).await, Ok(Ok(_)));
                    let body = serde_json::json!({ "ready": ok, "database": if ok { "ok" } else { "unreachable" } }).to_string();
                    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                    (status, [(header::CONTENT_TYPE, "application/json")], body)
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let text = metrics.encode();
                async move { ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text) }
            }),
        );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(addr = %listener.local_addr()?, "operator endpoints: /livez /readyz /metrics");
    tokio::spawn(async move {
        if let Err(e) = tierline_http::serve(listener, app, limits, std::future::pending()).await {
            tracing::error!(error = %e, "operator endpoints stopped");
        }
    });
    Ok(())
}
