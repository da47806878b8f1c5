//! `tierline run`: every service in one process (each also runs alone as its command).

use anyhow::Result;
use tierline_events::Codec;
use tokio::sync::watch;

use crate::args::{ApiArgs, ProjectorArgs, RelayArgs};
use crate::project::ProjectionArgs;

/// Everything `run` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) projection: ProjectionArgs,
    #[command(flatten)]
    pub(crate) ingest: Box<tierline_ingest::IngestConfig>,
    #[command(flatten)]
    pub(crate) projector: ProjectorArgs,
    #[command(flatten)]
    pub(crate) relay: RelayArgs,
    #[command(flatten)]
    pub(crate) api: Box<ApiArgs>,
}

/// Runs ingest, the projector, the relay and the API side by side until `stop`; if one
/// fails, the others are stopped and the process reports it (the orchestrator restarts
/// it).
pub(crate) async fn run(
    codec: Codec,
    args: RunArgs,
    limits: tierline_http::HttpLimits,
    stop_tx: watch::Sender<bool>,
) -> Result<()> {
    let stop = stop_tx.subscribe();
    let RunArgs {
        projection,
        mut ingest,
        projector,
        relay,
        api,
    } = args;
    ingest.recording_clock = projection.clock.recording_clock();
    let kafka = ingest.kafka.clone();
    let outbound = crate::relay::outbound(&ingest.registry)?;
    // One store (one pool, one migration) for every service of the process.
    let store = projection.store.open(codec.clone()).await?;
    let tasks: Vec<(&str, tokio::task::JoinHandle<Result<()>>)> = vec![
        ("ingest", {
            let (codec, store, limits, stop) =
                (codec.clone(), store.clone(), limits.clone(), stop.clone());
            tokio::spawn(
                async move { crate::ingest::ingest(codec, store, *ingest, limits, stop).await },
            )
        }),
        (
            "projector",
            tokio::spawn(crate::project::project(
                codec.clone(),
                store.clone(),
                projection.clone(),
                projector,
                limits.clone(),
                stop.clone(),
            )),
        ),
        ("relay", {
            let (store, p, limits, stop) = (
                store.clone(),
                projection.clone(),
                limits.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                crate::relay::relay(&store, &p.clock, &kafka, &relay, outbound, limits, stop).await
            })
        }),
        (
            "api",
            tokio::spawn(async move {
                let p = projection;
                crate::serve::serve(codec, store, &p.policy, &p.clock, &api, limits, stop).await
            }),
        ),
    ];
    let mut names: Vec<&str> = tasks.iter().map(|(n, _)| *n).collect();
    tracing::info!(services = ?names, "running");
    let mut handles: Vec<_> = tasks.into_iter().map(|(_, h)| h).collect();
    let mut failure = None;
    while !handles.is_empty() {
        let (result, k, rest) = futures_util::future::select_all(handles).await;
        // `select_all` swap-removes the finished future: mirror it.
        let name = names.swap_remove(k);
        match result {
            Ok(Ok(())) => tracing::info!(service = name, "stopped"),
            Ok(Err(e)) if failure.is_none() => failure = Some(e.context(format!("{name} failed"))),
            Err(e) if failure.is_none() => failure = Some(anyhow::anyhow!("{name} panicked: {e}")),
            _ => {}
        }
        // One stopped: stop the others, so the process ends whole.
        let _ = stop_tx.send(true);
        handles = rest;
    }
    failure.map_or(Ok(()), Err)
}
