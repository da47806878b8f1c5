//! `tierline relay`: the outbox to the alerts topic.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tierline_http::{HttpLimits, READY_TIMEOUT, Readiness, ops_router, spawn_ops};
use tierline_projections::Projections;
use tierline_registry::{OutboundIds, RegistryArgs};
use tierline_relay::Relay;
use tokio::sync::watch;

use crate::args::{ClockArgs, RelayArgs};

/// With `--schema-registry-register`: the registry ids the relay publishes with.
pub(crate) fn outbound(registry: &RegistryArgs) -> Result<Option<OutboundIds>> {
    if !registry.register {
        return Ok(None);
    }
    let client = registry
        .client()?
        .context("--schema-registry-register needs --schema-registry-url")?;
    tracing::info!(registry = %client.url(), "publishing with the registry's schema ids");
    Ok(Some(OutboundIds::new(
        client,
        tierline_events::Catalog::builtin(),
    )))
}

/// Publishes the outbox until `stop`.
pub(crate) async fn relay(
    store: &tierline_store::Store,
    clock: &ClockArgs,
    kafka: &tierline_kafka::KafkaArgs,
    args: &RelayArgs,
    outbound: Option<OutboundIds>,
    limits: HttpLimits,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let projections = Projections::of(store);
    let mut relay = Relay::new(
        projections.clone(),
        kafka.client_config()?,
        &args.alerts_topic,
        clock.clock()?,
    )?;
    // SQLite: woken by the projector of this process (PostgreSQL: by its NOTIFY).
    if let Some(commits) = store.projection_commits() {
        relay = relay.woken_by(commits);
    }
    if let Some(outbound) = outbound {
        relay = relay.with_registry(outbound);
    }
    let ready = Arc::new(move || {
        let projections = projections.clone();
        Box::pin(async move { Readiness::database(projections.ping(READY_TIMEOUT).await) }) as _
    });
    let metrics = relay.metrics();
    let text = Arc::new(move || metrics.encode());
    spawn_ops(args.relay_http, ops_router(ready, text), limits)
        .await
        .with_context(|| format!("binding {}", args.relay_http))?;
    tracing::info!(topic = %args.alerts_topic, kafka = ?kafka, "relay publishing the outbox");
    relay.run(500, Duration::from_millis(200), stop).await;
    Ok(())
}
