//! The ingest service's configuration (flags, each also an environment variable).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use tierline_kafka::KafkaArgs;

/// Ingest flags.
#[derive(Debug, Clone, Args)]
pub struct IngestConfig {
    /// Kafka connection.
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Schema Registry through which Confluent ids are resolved (optional).
    #[command(flatten)]
    pub registry: tierline_registry::RegistryArgs,
    /// Consumer group of the ingest instances.
    #[arg(long, env = "TIERLINE_INGEST_GROUP", default_value = "tierline-ingest")]
    pub group: String,
    /// Purchase-order topic.
    #[arg(
        long,
        env = "TIERLINE_TOPIC_PURCHASE_ORDERS",
        default_value = "srm.purchase-orders.v1"
    )]
    pub topic_purchase_orders: String,
    /// Deliveries topic.
    #[arg(
        long,
        env = "TIERLINE_TOPIC_DELIVERIES",
        default_value = "srm.deliveries.v1"
    )]
    pub topic_deliveries: String,
    /// Inspections topic.
    #[arg(
        long,
        env = "TIERLINE_TOPIC_INSPECTIONS",
        default_value = "srm.inspections.v1"
    )]
    pub topic_inspections: String,
    /// After-sales topic.
    #[arg(
        long,
        env = "TIERLINE_TOPIC_AFTER_SALES",
        default_value = "srm.after-sales.v1"
    )]
    pub topic_after_sales: String,
    /// Assessments, certificates, violations and risk signals topic (v2).
    #[arg(
        long,
        env = "TIERLINE_TOPIC_ASSESSMENTS",
        default_value = "srm.assessments.v1"
    )]
    pub topic_assessments: String,
    /// Supplier actions topic (v2: plans, status decisions, categories, answers).
    #[arg(
        long,
        env = "TIERLINE_TOPIC_SUPPLIER_ACTIONS",
        default_value = "srm.supplier-actions.v1"
    )]
    pub topic_supplier_actions: String,
    /// Dead-letter topic.
    #[arg(
        long,
        env = "TIERLINE_TOPIC_DEAD_LETTER",
        default_value = "srm.dead-letter.v1"
    )]
    pub topic_dead_letter: String,
    /// Most messages in one store transaction.
    #[arg(long, env = "TIERLINE_INGEST_BATCH_SIZE", default_value_t = 1000)]
    pub batch_size: usize,
    /// Longest a message waits for its batch to fill, in milliseconds.
    #[arg(long, env = "TIERLINE_INGEST_BATCH_LINGER_MS", default_value_t = 200)]
    pub batch_linger_ms: u64,
    /// Address of /livez, /readyz and /metrics.
    #[arg(long, env = "TIERLINE_INGEST_HTTP", default_value = "0.0.0.0:9101")]
    pub http: SocketAddr,
    /// Limits of that port (set by the binary from the shared `--http-*` flags).
    #[arg(skip)]
    pub http_limits: tierline_http::HttpLimits,
    /// When set (services on a test clock), the store records each batch at this
    /// clock's "now" instead of its own.
    #[arg(skip)]
    pub recording_clock: Option<tierline_clock::SharedClock>,
}

impl IngestConfig {
    /// Defaults, against these brokers (for tests and the embedded demo).
    pub fn with_brokers(brokers: impl Into<String>) -> Self {
        IngestConfig {
            kafka: KafkaArgs::plaintext(brokers),
            registry: tierline_registry::RegistryArgs::default(),
            group: "tierline-ingest".into(),
            topic_purchase_orders: "srm.purchase-orders.v1".into(),
            topic_deliveries: "srm.deliveries.v1".into(),
            topic_inspections: "srm.inspections.v1".into(),
            topic_after_sales: "srm.after-sales.v1".into(),
            topic_assessments: "srm.assessments.v1".into(),
            topic_supplier_actions: "srm.supplier-actions.v1".into(),
            topic_dead_letter: "srm.dead-letter.v1".into(),
            batch_size: 1000,
            batch_linger_ms: 200,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            http_limits: tierline_http::HttpLimits::default(),
            recording_clock: None,
        }
    }

    /// The six inbound topics.
    pub fn inbound_topics(&self) -> [&str; 6] {
        [
            &self.topic_purchase_orders,
            &self.topic_deliveries,
            &self.topic_inspections,
            &self.topic_after_sales,
            &self.topic_assessments,
            &self.topic_supplier_actions,
        ]
    }

    pub(crate) fn linger(&self) -> Duration {
        Duration::from_millis(self.batch_linger_ms)
    }
}
