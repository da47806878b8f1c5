//! The demo's services, as in production, on its SQLite store and the mock cluster:
//! ingest, the projector, the relay, and the API with the dashboard.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use tierline_clock::{Clock, SystemClock};
use tierline_events::Codec;
use tierline_store::Store;

/// The services of the demo, as in production, on the SQLite store.
pub(crate) struct Services {
    pub(crate) ingest: tierline_ingest::Ingest,
    pub(crate) projector: tokio::task::JoinHandle<Result<(), tierline_projector::ProjectorError>>,
    pub(crate) relay: tokio::task::JoinHandle<()>,
    pub(crate) projected: Arc<tierline_projector::ProjectorMetrics>,
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
}

pub(crate) async fn start_services(
    codec: &Codec,
    store: &Store,
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    clock: Arc<dyn Clock>,
    group: String,
) -> Result<Services> {
    let policy = Arc::new(tierline_scoring::Policy::default());
    let ingest_cfg = {
        let mut c = tierline_ingest::IngestConfig::with_brokers(cluster.bootstrap_servers());
        c.group = group;
        // Bigger transactions: the history arrives as fast as the store takes it.
        c.batch_size = 5000;
        // The demo serves the API only; ingest's operator port is any free one.
        c.http = "127.0.0.1:0".parse()?;
        c
    };
    for t in ingest_cfg
        .inbound_topics()
        .into_iter()
        .chain([ingest_cfg.topic_dead_letter.as_str(), ALERTS_TOPIC])
    {
        cluster
            .create_topic(t, 3, 1)
            .with_context(|| format!("creating topic {t}"))?;
    }
    let ingest = tierline_ingest::Ingest::start(ingest_cfg, codec.clone(), Arc::new(store.clone()))
        .await
        .context("starting ingest")?;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut projector =
        tierline_projector::Projector::open(store.clone(), codec.clone(), policy, "main")
            .await
            .context("opening the projector")?;
    let projected = projector.metrics();
    let projector = {
        let (clock, stop) = (clock.clone(), stop_rx.clone());
        tokio::spawn(async move {
            projector
                .run(clock.as_ref(), 20_000, Duration::from_millis(200), stop)
                .await
        })
    };
    let mut kafka = ClientConfig::new();
    kafka.set("bootstrap.servers", cluster.bootstrap_servers());
    let mut relay = tierline_relay::Relay::new(
        tierline_projections::Projections::of(store),
        kafka,
        ALERTS_TOPIC,
        Arc::new(SystemClock),
    )
    .context("creating the relay")?;
    if let Some(commits) = store.projection_commits() {
        relay = relay.woken_by(commits);
    }
    let relay =
        tokio::spawn(async move { relay.run(500, Duration::from_millis(200), stop_rx).await });
    Ok(Services {
        ingest,
        projector,
        relay,
        projected,
        stop,
    })
}

/// Where the demo publishes alerts and tier changes.
pub(crate) const ALERTS_TOPIC: &str = "srm.supplier-alerts.v1";

/// Serves the API and the dashboard on `addr` in the background, reading what the
/// projector writes, on `clock`.
pub(crate) async fn serve_api(
    store: &Store,
    codec: &Codec,
    clock: Arc<dyn Clock>,
    addr: SocketAddr,
    limits: tierline_http::HttpLimits,
) -> Result<SocketAddr> {
    let policy = Arc::new(tierline_scoring::Policy::default());
    let (router, _) = tierline_api::app(
        tierline_api::Reader::new(store.clone(), policy, codec.clone()),
        clock,
        &tierline_api::ApiConfig::new(tierline_api::ApiKeys::disabled()),
        Default::default(),
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr} (another demo running? use --http)"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        let serving = tierline_http::serve(listener, router, limits, std::future::pending());
        if let Err(e) = serving.await {
            tracing::error!(error = %e, "the API stopped");
        }
    });
    Ok(bound)
}

impl Services {
    /// Stops them: ingest has stored what it consumed, the projector and relay finished.
    pub(crate) async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.ingest.stop().await.context("stopping ingest")?;
        if let Ok(Err(e)) = self.projector.await {
            tracing::warn!(error = %e, "the projector stopped with an error");
        }
        let _ = self.relay.await;
        Ok(())
    }
}
