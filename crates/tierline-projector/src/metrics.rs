//! What an operator watches on the projector and the relay.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels naming an outgoing record.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RecordLabel {
    /// Record short name, e.g. `SupplierAlertRaised`.
    pub record: String,
}

/// Projector and relay metrics: [`Metrics::projector`] exports the projector's,
/// [`Metrics::relay`] the relay's, so no process exports a counter it never moves (a
/// constant 0 for published messages from the projector made the outbox-stuck alert
/// fire while the relay was publishing).
#[derive(Debug)]
pub struct Metrics {
    /// Events applied to the projections.
    pub events_projected: Counter,
    /// Events in the store past the projector's cursor (by position).
    pub projection_lag_events: Gauge,
    /// Suppliers with a ledger.
    pub suppliers: Gauge,
    /// Messages written to the outbox, by record.
    pub messages_enqueued: Family<RecordLabel, Counter>,
    /// Outbox messages the broker acknowledged.
    pub messages_published: Counter,
    /// Outbox messages not yet published.
    pub outbox_pending: Gauge,
    registry: Registry,
}

/// Which process the metrics are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Projector,
    Relay,
}

impl Metrics {
    /// The projector's: events projected, lag, suppliers, messages enqueued.
    pub fn projector() -> Metrics {
        Metrics::for_role(Role::Projector)
    }

    /// The relay's: messages published, outbox pending.
    pub fn relay() -> Metrics {
        Metrics::for_role(Role::Relay)
    }

    fn for_role(role: Role) -> Self {
        let mut m = Metrics {
            events_projected: Counter::default(),
            projection_lag_events: Gauge::default(),
            suppliers: Gauge::default(),
            messages_enqueued: Family::default(),
            messages_published: Counter::default(),
            outbox_pending: Gauge::default(),
            registry: Registry::with_prefix("tierline"),
        };
        let r = &mut m.registry;
        if role == Role::Relay {
            r.register(
                "alerts_published",
                "Outbox messages acknowledged by the broker",
                m.messages_published.clone(),
            );
            r.register(
                "outbox_pending",
                "Outbox messages not yet published",
                m.outbox_pending.clone(),
            );
            return m;
        }
        r.register(
            "events_projected",
            "Events applied to the projections",
            m.events_projected.clone(),
        );
        r.register(
            "projection_lag_events",
            "Stored events past the projector's cursor",
            m.projection_lag_events.clone(),
        );
        r.register(
            "suppliers",
            "Suppliers with a ledger in the projector",
            m.suppliers.clone(),
        );
        r.register(
            "alerts_enqueued",
            "Alert and tier-change messages written to the outbox",
            m.messages_enqueued.clone(),
        );
        m
    }
}

impl Metrics {
    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
