//! What an operator watches on the relay.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The relay's metrics.
#[derive(Debug)]
pub struct RelayMetrics {
    /// Outbox messages the broker acknowledged.
    pub messages_published: Counter,
    /// Outbox messages not yet published.
    pub outbox_pending: Gauge,
    registry: Registry,
}

impl Default for RelayMetrics {
    fn default() -> Self {
        let mut m = RelayMetrics {
            messages_published: Counter::default(),
            outbox_pending: Gauge::default(),
            registry: Registry::with_prefix("tierline"),
        };
        m.registry.register(
            "alerts_published",
            "Outbox messages acknowledged by the broker",
            m.messages_published.clone(),
        );
        m.registry.register(
            "outbox_pending",
            "Outbox messages not yet published",
            m.outbox_pending.clone(),
        );
        m
    }
}

impl RelayMetrics {
    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
