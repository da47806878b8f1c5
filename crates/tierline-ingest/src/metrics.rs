//! What an operator watches, in Prometheus text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels naming a topic.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabel {
    /// Topic.
    pub topic: String,
}

/// Labels naming a partition.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: String,
}

/// Labels of a dead letter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeadLetterLabels {
    /// Source topic.
    pub topic: String,
    /// Reason code.
    pub reason: String,
}

/// Labels naming an outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// Outcome.
    pub outcome: String,
}

/// The ingest service's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// Events stored.
    pub events_appended: Family<TopicLabel, Counter>,
    /// Exact duplicates dropped.
    pub duplicates_suppressed: Family<TopicLabel, Counter>,
    /// Messages dead-lettered.
    pub dead_letters: Family<DeadLetterLabels, Counter>,
    /// Seconds from a batch's first message to its commit.
    pub batch_seconds: Histogram,
    /// Messages behind the high watermark, per partition.
    pub consumer_lag: Family<PartitionLabels, Gauge>,
    /// Offsets the broker deleted before anyone consumed them.
    pub retention_lost_offsets: Family<PartitionLabels, Counter>,
    /// Store appends retried after a failure that was not the data's fault.
    pub store_retries: Counter,
    /// Dead-letter produce attempts retried.
    pub dead_letter_retries: Counter,
    /// Schema registry lookups of ids not yet held, by outcome (`fetched`, `missing`,
    /// `rejected`, `failed`).
    pub schema_registry_lookups: Family<OutcomeLabel, Counter>,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            events_appended: Family::default(),
            duplicates_suppressed: Family::default(),
            dead_letters: Family::default(),
            batch_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            consumer_lag: Family::default(),
            retention_lost_offsets: Family::default(),
            store_retries: Counter::default(),
            dead_letter_retries: Counter::default(),
            schema_registry_lookups: Family::default(),
            registry: Registry::with_prefix("tierline_ingest"),
        };
        m.register()
    }
}

impl Metrics {
    fn register(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "events_appended",
            "Events stored in the event store",
            self.events_appended.clone(),
        );
        r.register(
            "duplicates_suppressed",
            "Exact duplicates dropped",
            self.duplicates_suppressed.clone(),
        );
        r.register(
            "dead_letters",
            "Messages sent to the dead-letter topic and quarantined",
            self.dead_letters.clone(),
        );
        r.register(
            "batch_seconds",
            "Seconds from a batch's first message to its commit",
            self.batch_seconds.clone(),
        );
        r.register(
            "consumer_lag",
            "Messages behind the high watermark",
            self.consumer_lag.clone(),
        );
        r.register(
            "retention_lost_offsets",
            "Offsets deleted by the broker before they were consumed",
            self.retention_lost_offsets.clone(),
        );
        r.register(
            "store_retries",
            "Store appends retried after a transient failure",
            self.store_retries.clone(),
        );
        r.register(
            "dead_letter_retries",
            "Dead-letter produces retried",
            self.dead_letter_retries.clone(),
        );
        r.register(
            "schema_registry_lookups",
            "Schema registry lookups of ids not held yet, by outcome",
            self.schema_registry_lookups.clone(),
        );
        self
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
