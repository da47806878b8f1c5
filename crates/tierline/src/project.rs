//! `tierline project` (the projector service) and `tierline rebuild`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tierline_events::Codec;
use tierline_http::{HttpLimits, READY_TIMEOUT, Readiness, ops_router, spawn_ops};
use tierline_projector::Projector;
use tierline_store::Store;
use tokio::sync::watch;

use crate::args::{ClockArgs, PolicyArgs, ProjectorArgs, StoreArgs};

/// What the projector and `rebuild` share.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ProjectionArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
    #[command(flatten)]
    pub(crate) clock: ClockArgs,
    /// Most supplier ledgers the projector keeps in memory (each a supplier's events by
    /// entity); others are reloaded from the store when an event or the daily rollover
    /// needs them. Results do not depend on it; memory and reload work do.
    #[arg(long, env = "TIERLINE_LEDGER_CACHE", default_value_t = tierline_projector::DEFAULT_LEDGER_CACHE)]
    pub(crate) ledger_cache: usize,
}

/// The projector's name (its checkpoint and lease); shards will each have one.
const NAME: &str = "main";

async fn open(
    codec: Codec,
    args: &ProjectionArgs,
    store: Store,
    lease: Duration,
) -> Result<Projector> {
    let policy = args.policy.load()?;
    tracing::info!(version = %policy.version, "scoring policy");
    let mut p = Projector::open_with_lease(store, codec, policy, NAME, lease)
        .await
        .context("opening the projector")?;
    p.set_ledger_cache(args.ledger_cache);
    Ok(p)
}

/// Runs the projector until `stop`: on standby while another holds the lease.
pub(crate) async fn project(
    codec: Codec,
    store: Store,
    args: ProjectionArgs,
    service: ProjectorArgs,
    limits: HttpLimits,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let clock = args.clock.clock()?;
    let mut p = open(codec, &args, store, service.lease()).await?;
    let (metrics, projections) = (p.metrics(), p.projections().clone());
    let ready_metrics = metrics.clone();
    let ready = Arc::new(move || {
        let (projections, metrics) = (projections.clone(), ready_metrics.clone());
        Box::pin(async move {
            let role = if metrics.active.get() == 1 {
                "active"
            } else {
                "standby"
            };
            Readiness::database(projections.ping(READY_TIMEOUT).await).with("role", role)
        }) as _
    });
    let text = Arc::new(move || metrics.encode());
    spawn_ops(service.project_http, ops_router(ready, text), limits)
        .await
        .with_context(|| format!("binding {}", service.project_http))?;
    p.run(
        clock.as_ref(),
        service.batch,
        Duration::from_millis(service.poll_ms),
        stop,
    )
    .await?;
    Ok(())
}

/// Drops the projections and replays the whole store into them.
pub(crate) async fn rebuild(codec: Codec, args: ProjectionArgs) -> Result<()> {
    let store = args.store.open(codec.clone()).await?;
    let clock = args.clock.clock()?;
    let mut p = open(codec, &args, store, tierline_projector::LEASE_TTL).await?;
    let start = std::time::Instant::now();
    let n = p
        .rebuild(clock.as_ref())
        .await
        .context("rebuilding (a running projector holds the lease? stop it first)")?;
    p.release().await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "rebuilt {n} events in {secs:.1} s ({:.0} events/s)",
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}
