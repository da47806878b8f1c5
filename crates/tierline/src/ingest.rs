//! `tierline ingest`: the inbound topics into the event store.

use anyhow::{Context, Result};
use tierline_events::Codec;
use tokio::sync::watch;

/// Consumes until `stop` (or until the consumer stops on its own, an error).
pub(crate) async fn ingest(
    codec: Codec,
    store: tierline_store::Store,
    mut config: tierline_ingest::IngestConfig,
    limits: tierline_http::HttpLimits,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    config.http_limits = limits;
    tracing::info!(kafka = ?config.kafka, "starting ingest");
    let mut service =
        tierline_ingest::Ingest::start(config, codec, std::sync::Arc::new(store)).await?;
    let finished = async {
        while !service.is_finished() {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        _ = stop.wait_for(|s| *s) => {}
        () = finished => tracing::error!("the consumer stopped on its own"),
    }
    service.request_stop();
    service
        .join()
        .await
        .context("ingest did not stop cleanly")?;
    tracing::info!("ingest stopped; offsets are stored");
    Ok(())
}
