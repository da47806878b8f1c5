//! Publishes the outbox to the alerts topic: Avro with the same framing as inbound
//! values, CloudEvents binary-mode headers, an idempotent producer; a row is marked
//! published only after the broker acknowledged it, so a restart republishes what
//! was not marked, with the same ids. Runs on either store backend.

mod metrics;

use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tierline_clock::Clock;
use tierline_projections::{PendingMessage, Projections, ProjectionsError};
use tierline_registry::OutboundIds;
use tierline_store::Changes;
use tracing::{instrument, warn};

pub use metrics::RelayMetrics;

/// Errors of the relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The database failed.
    #[error(transparent)]
    Projections(#[from] ProjectionsError),
    /// The broker failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The schema registry could not register an outbound schema.
    #[error(transparent)]
    Registry(#[from] tierline_registry::RegistryError),
}

/// Outbox to Kafka.
pub struct Relay {
    projections: Projections,
    producer: FutureProducer,
    topic: String,
    clock: Arc<dyn Clock>,
    metrics: Arc<RelayMetrics>,
    /// An in-process signal of projection commits.
    wake: Option<tokio::sync::watch::Receiver<u64>>,
    /// With a schema registry: publish with its ids instead of the catalog's.
    outbound: Option<OutboundIds>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// Kafka headers from the outbox's JSON object (values that are not strings are sent
/// as their JSON text).
fn headers(id: i64, text: &str) -> OwnedHeaders {
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).unwrap_or_else(|e| {
            // Published anyway (the value is the message); say what was lost.
            warn!(outbox_id = id, error = %e, "outbox headers are not a JSON object: sent without them");
            serde_json::Map::new()
        });
    let mut headers = OwnedHeaders::new_with_capacity(json.len());
    for (k, v) in &json {
        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        headers = headers.insert(Header {
            key: k,
            value: Some(text.as_bytes()),
        });
    }
    headers
}

impl Relay {
    /// A relay with an idempotent producer built from `config`.
    pub fn new(
        projections: Projections,
        mut config: ClientConfig,
        topic: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Result<Relay, RelayError> {
        config.set("enable.idempotence", "true").set("acks", "all");
        Ok(Relay {
            projections,
            producer: config.create()?,
            topic: topic.into(),
            clock,
            metrics: Arc::new(RelayMetrics::default()),
            wake: None,
            outbound: None,
        })
    }

    /// Publishes with the registry's schema ids: each outbound schema is registered
    /// (subject by record name) before its first message, so consumers with standard
    /// registry deserializers read the topic.
    pub fn with_registry(mut self, outbound: OutboundIds) -> Relay {
        self.outbound = Some(outbound);
        self
    }

    /// Its metrics.
    pub fn metrics(&self) -> Arc<RelayMetrics> {
        self.metrics.clone()
    }

    /// Publishes up to `limit` unpublished rows in outbox order; returns how many.
    #[instrument(skip(self), err)]
    pub async fn publish_pending(&self, limit: usize) -> Result<usize, RelayError> {
        let rows = self.projections.pending_messages(limit).await?;
        if rows.is_empty() {
            self.metrics.outbox_pending.set(0);
            return Ok(0);
        }
        // Every value is framed before any is sent: a registry failure sends nothing.
        let mut values = Vec::with_capacity(rows.len());
        for m in &rows {
            values.push(match &self.outbound {
                Some(outbound) => outbound.reframe(m.value.clone()).await?,
                None => m.value.clone(),
            });
        }
        let sends: Vec<_> = rows
            .iter()
            .zip(values)
            .map(|(m, value)| self.send(m, value))
            .collect();
        // In order: the first failure stops the marking, so nothing unsent is marked.
        let mut sent = Vec::with_capacity(rows.len());
        let mut failure = None;
        for (m, s) in rows.iter().zip(sends) {
            match s.await {
                Ok(Ok(())) if failure.is_none() => sent.push(m.id),
                Ok(Err(e)) if failure.is_none() => failure = Some(e),
                _ => {}
            }
        }
        self.projections
            .mark_published(&sent, self.clock.now())
            .await?;
        self.metrics.messages_published.inc_by(sent.len() as u64);
        self.metrics
            .outbox_pending
            .set(self.projections.pending_count().await?);
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(sent.len()),
        }
    }

    fn send(
        &self,
        m: &PendingMessage,
        value: Vec<u8>,
    ) -> tokio::task::JoinHandle<Result<(), rdkafka::error::KafkaError>> {
        let producer = self.producer.clone();
        let topic = self.topic.clone();
        let (key, headers) = (m.supplier_id.clone(), headers(m.id, &m.headers));
        tokio::spawn(async move {
            let record = FutureRecord::to(&topic)
                .key(&key)
                .payload(&value)
                .headers(headers);
            producer
                .send(record, Duration::from_secs(30))
                .await
                .map(|_| ())
                .map_err(|(e, _)| e)
        })
    }

    /// Publishes until `stop` turns true: at once while there is work, else when the
    /// projector commits (PostgreSQL `NOTIFY`, or the signal given to
    /// [`Relay::woken_by`]) or every `idle` (failures are logged and retried).
    pub async fn run(
        &self,
        batch: usize,
        idle: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut commits = self.commits().await;
        while !*stop.borrow() {
            match self.publish_pending(batch).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => warn!(error = %e, "publishing failed; retrying"),
            }
            tokio::select! {
                _ = commits.wait(idle) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Wakes on `commits`, the in-process signal of projection commits
    /// (`Store::projection_commits`, SQLite), rather than polling alone.
    pub fn woken_by(mut self, commits: tokio::sync::watch::Receiver<u64>) -> Relay {
        self.wake = Some(commits);
        self
    }

    /// What wakes the relay: the in-process signal, else PostgreSQL's notification of
    /// projection commits, else nothing (polling).
    async fn commits(&self) -> Changes {
        if let Some(rx) = &self.wake {
            return Changes::Local(rx.clone());
        }
        match self.projections.pg_pool() {
            Some(pool) => Changes::listen(pool, tierline_projections::PROJECTIONS_CHANNEL).await,
            None => Changes::Poll,
        }
    }
}
