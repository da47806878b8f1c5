//! The ingest service: the four inbound topics into the event store, exactly once in
//! effect. Each batch's events, quarantine rows and partition offsets commit in one
//! store transaction; assignment resumes from the offsets in the database; bad
//! messages go to the dead-letter topic and quarantine without stopping the partition;
//! failures that are not the message's fault are retried, never dead-lettered.

mod config;
mod consumer;
mod http;
pub mod metrics;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub use config::IngestConfig;
pub use consumer::{
    DLQ_REASON, DLQ_REASON_CODE, DLQ_SOURCE_OFFSET, DLQ_SOURCE_PARTITION, DLQ_SOURCE_TOPIC,
};
pub use metrics::Metrics;
use tierline_events::Codec;
use tierline_store::EventStore;
use tracing::{error, info};

/// Errors of the ingest service.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The Kafka configuration is unusable.
    #[error(transparent)]
    Config(#[from] tierline_kafka::KafkaConfigError),
    /// The Kafka client failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The schema registry flags are unusable.
    #[error(transparent)]
    Registry(#[from] tierline_registry::RegistryError),
    /// The HTTP listener failed.
    #[error("http listener: {0}")]
    Http(#[from] std::io::Error),
    /// Stopping, the last batch could not be made durable (it will be read again).
    #[error("stopped before the last batch was durable; it will be consumed again on restart")]
    Unfinished,
    /// The consumer thread died.
    #[error("consumer thread failed: {0}")]
    Thread(String),
}

/// A range of offsets the broker deleted before it was consumed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RetentionGap {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// First offset lost.
    pub from_offset: i64,
    /// The log start found instead.
    pub to_offset: i64,
    /// Offsets lost.
    pub lost: i64,
}

/// What `/readyz` reports.
#[derive(Debug, Default)]
pub struct Health {
    /// Partitions currently assigned.
    pub assigned: AtomicUsize,
    /// The last broker probe answered.
    pub broker_ok: AtomicBool,
    /// A schema registry is configured.
    pub registry_configured: AtomicBool,
    /// The schema registry failed to answer the last lookup (consumption waits).
    pub registry_down: AtomicBool,
    /// Retention gaps seen since start.
    pub retention_gaps: Mutex<Vec<RetentionGap>>,
}

/// A running ingest service.
pub struct Ingest {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<(), IngestError>>>,
    http: Option<tokio::task::JoinHandle<()>>,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    /// Its health.
    pub health: Arc<Health>,
    /// Where /livez, /readyz and /metrics listen.
    pub http_addr: std::net::SocketAddr,
}

impl Ingest {
    /// Starts the consumer (on its own thread) and the HTTP endpoints. Must be called
    /// inside a multi-threaded tokio runtime.
    pub async fn start<S: EventStore + 'static>(
        cfg: IngestConfig,
        codec: Codec,
        store: Arc<S>,
    ) -> Result<Ingest, IngestError> {
        let metrics = Arc::new(Metrics::default());
        let health = Arc::new(Health::default());
        let (codec, resolver) = match cfg.registry.client()? {
            Some(client) => {
                info!(registry = %client.url(), "schema ids resolve through the registry");
                health.registry_configured.store(true, Ordering::Relaxed);
                let codec = codec.with_registry(cfg.registry.cache);
                let resolver = codec
                    .registry_ids()
                    .map(|ids| tierline_registry::Resolver::new(client, ids.clone()));
                (codec, resolver)
            }
            None => (codec, None),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let listener = tokio::net::TcpListener::bind(cfg.http).await?;
        let http_addr = listener.local_addr()?;
        let app = http::router(metrics.clone(), health.clone(), store.clone());
        let limits = cfg.http_limits.clone();
        let http = tokio::spawn(async move {
            let serving = tierline_http::serve(listener, app, limits, std::future::pending());
            if let Err(e) = serving.await {
                error!(error = %e, "http server stopped");
            }
        });
        info!(%http_addr, "ingest http endpoints: /livez /readyz /metrics");
        let rt = tokio::runtime::Handle::current();
        let (m, h, s) = (metrics.clone(), health.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("ingest-consumer".into())
            .spawn(move || consumer::run(cfg, (codec, resolver), store, rt, m, h, s))
            .map_err(IngestError::Http)?;
        Ok(Ingest {
            stop,
            thread: Some(thread),
            http: Some(http),
            metrics,
            health,
            http_addr,
        })
    }

    /// Asks the consumer to stop fetching, finish its batch and leave the group.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether the consumer thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stops and waits.
    pub async fn stop(mut self) -> Result<(), IngestError> {
        self.request_stop();
        self.join().await
    }

    /// Waits for the consumer to end (after [`Ingest::request_stop`] or a failure).
    pub async fn join(&mut self) -> Result<(), IngestError> {
        let result = match self.thread.take() {
            Some(t) => tokio::task::spawn_blocking(move || t.join())
                .await
                .map_err(|e| IngestError::Thread(e.to_string()))?
                .map_err(|_| IngestError::Thread("panicked".into()))?,
            None => Ok(()),
        };
        if let Some(h) = self.http.take() {
            h.abort();
        }
        result
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
