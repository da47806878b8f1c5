//! Ingest's `/readyz` on the shared operator shell (`tierline-http`): the database,
//! the broker, at least one assigned partition, and the schema registry if one is set.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use tierline_http::{READY_TIMEOUT, Readiness, ops_router};
use tierline_store::EventStore;

use crate::{Health, Metrics};

pub(crate) fn router<S: EventStore + 'static>(
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    store: Arc<S>,
) -> Router {
    let ready = Arc::new(move || {
        let (health, store) = (health.clone(), store.clone());
        Box::pin(async move {
            let database = matches!(
                tokio::time::timeout(READY_TIMEOUT, store.ping()).await,
                Ok(Ok(()))
            );
            let broker = health.broker_ok.load(Ordering::Relaxed);
            let assigned = health.assigned.load(Ordering::Relaxed);
            let registry_down = health.registry_down.load(Ordering::Relaxed);
            let registry = match (
                health.registry_configured.load(Ordering::Relaxed),
                registry_down,
            ) {
                (false, _) => "not configured",
                (true, false) => "ok",
                (true, true) => "unreachable",
            };
            let gaps = health
                .retention_gaps
                .lock()
                .map(|g| g.clone())
                .unwrap_or_default();
            let mut r = Readiness::database(database)
                .with("broker", if broker { "ok" } else { "unreachable" })
                .with("assigned_partitions", assigned)
                .with("schema_registry", registry)
                .with(
                    "retention_gaps",
                    serde_json::to_value(gaps).unwrap_or_default(),
                );
            r.ready = database && broker && assigned > 0 && !registry_down;
            r
        }) as _
    });
    ops_router(ready, Arc::new(move || metrics.encode()))
}
