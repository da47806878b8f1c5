//! `/livez`, `/readyz` and `/metrics`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tierline_store::EventStore;

use crate::{Health, Metrics};

struct AppState<S> {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    store: Arc<S>,
}

pub(crate) fn router<S: EventStore + 'static>(
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    store: Arc<S>,
) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz::<S>))
        .route("/metrics", get(metrics_text::<S>))
        .with_state(Arc::new(AppState {
            metrics,
            health,
            store,
        }))
}

async fn readyz<S: EventStore + 'static>(
    State(state): State<Arc<AppState<S>>>,
) -> impl IntoResponse {
    let database = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await,
        Ok(Ok(()))
    );
    let broker = state.health.broker_ok.load(Ordering::Relaxed);
    let assigned = state.health.assigned.load(Ordering::Relaxed);
    let gaps = state
        .health
        .retention_gaps
        .lock()
        .map(|g| g.clone())
        .unwrap_or_default();
    let ready = database && broker && assigned > 0;
    let body = serde_json::json!({
        "ready": ready,
        "database": if database { "ok" } else { "unreachable" },
        "broker": if broker { "ok" } else { "unreachable" },
        "assigned_partitions": assigned,
        "retention_gaps": gaps,
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

async fn metrics_text<S: EventStore + 'static>(
    State(state): State<Arc<AppState<S>>>,
) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}
