//! Publishes the outbox to the alerts topic: Avro with the same framing as inbound
//! values, CloudEvents binary-mode headers, an idempotent producer; a row is marked
//! published only after the broker acknowledged it, so a restart republishes what
//! was not marked, with the same ids.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::{PgPool, Row};
use tracing::{instrument, warn};

/// Errors of the relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The broker failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
}

/// Outbox to Kafka.
pub struct Relay {
    pool: PgPool,
    producer: FutureProducer,
    topic: String,
    metrics: std::sync::Arc<crate::Metrics>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// A relay with an idempotent producer built from `config`.
    pub fn new(
        pool: PgPool,
        mut config: ClientConfig,
        topic: impl Into<String>,
    ) -> Result<Relay, RelayError> {
        config.set("enable.idempotence", "true").set("acks", "all");
        Ok(Relay {
            pool,
            producer: config.create()?,
            topic: topic.into(),
            metrics: std::sync::Arc::new(crate::Metrics::relay()),
        })
    }

    /// Its metrics.
    pub fn metrics(&self) -> std::sync::Arc<crate::Metrics> {
        self.metrics.clone()
    }

    /// Publishes up to `limit` unpublished rows in outbox order; returns how many.
    #[instrument(skip(self), err)]
    pub async fn publish_pending(&self, limit: i64) -> Result<usize, RelayError> {
        let rows = sqlx::query(
            "SELECT id, supplier_id, value, headers::text FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            self.metrics.outbox_pending.set(0);
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(rows.len());
        let mut sends = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let key: String = row.try_get(1)?;
            let value: Vec<u8> = row.try_get(2)?;
            let headers_text: String = row.try_get(3)?;
            let headers_json: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&headers_text).unwrap_or_else(|e| {
                    // Published anyway (the value is the message); say what was lost.
                    warn!(outbox_id = id, error = %e, "outbox headers are not a JSON object: sent without them");
                    serde_json::Map::new()
                });
            let mut headers = OwnedHeaders::new_with_capacity(headers_json.len());
            for (k, v) in &headers_json {
                let text = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                headers = headers.insert(Header {
                    key: k,
                    value: Some(text.as_bytes()),
                });
            }
            let producer = self.producer.clone();
            let topic = self.topic.clone();
            sends.push(tokio::spawn(async move {
                let record = FutureRecord::to(&topic)
                    .key(&key)
                    .payload(&value)
                    .headers(headers);
                producer
                    .send(record, Duration::from_secs(30))
                    .await
                    .map(|_| ())
                    .map_err(|(e, _)| e)
            }));
            ids.push(id);
        }
        // In order: the first failure stops the marking, so nothing unsent is marked.
        let mut sent = Vec::with_capacity(ids.len());
        let mut failure = None;
        for (id, s) in ids.iter().zip(sends) {
            match s.await {
                Ok(Ok(())) if failure.is_none() => sent.push(*id),
                Ok(Err(e)) if failure.is_none() => failure = Some(e),
                _ => {}
            }
        }
        if !sent.is_empty() {
            sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
                .bind(&sent)
                .execute(&self.pool)
                .await?;
            self.metrics.messages_published.inc_by(sent.len() as u64);
        }
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        self.metrics.outbox_pending.set(pending);
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(sent.len()),
        }
    }
}
