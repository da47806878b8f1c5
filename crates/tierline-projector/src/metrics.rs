//! What an operator watches on the projector.

use std::sync::atomic::AtomicU64;

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

/// Labels naming a source and a record type it sends.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    /// The events' `source`.
    pub source: String,
    /// Record short name, e.g. `GoodsReceived`.
    pub record: String,
}

/// The projector's metrics (the relay exports its own).
#[derive(Debug)]
pub struct ProjectorMetrics {
    /// Events applied to the projections.
    pub events_projected: Counter,
    /// Events in the store past the projector's cursor (by position).
    pub projection_lag_events: Gauge,
    /// Seconds since the oldest event past the cursor was recorded (0 when caught up).
    pub projection_lag_seconds: Gauge<f64, AtomicU64>,
    /// Age in seconds of the oldest transaction open on the database (PostgreSQL).
    pub oldest_transaction_seconds: Gauge<f64, AtomicU64>,
    /// Suppliers whose ledger is in memory (the ledger cache).
    pub suppliers: Gauge,
    /// Ledgers loaded from the store (on first need, or again after eviction).
    pub ledgers_loaded: Counter,
    /// Messages written to the outbox, by record.
    pub messages_enqueued: Family<RecordLabel, Counter>,
    /// 1 while this projector holds its lease and projects, 0 on standby.
    pub active: Gauge,
    /// Seconds since a source last sent a record type.
    pub source_silence_seconds: Family<SourceLabel, Gauge<f64, AtomicU64>>,
    /// 1 while a source is stale for a record type (docs/operations.md "Source health").
    pub source_stale: Family<SourceLabel, Gauge>,
    /// Events a source sent of a record type yesterday (UTC).
    pub source_events_yesterday: Family<SourceLabel, Gauge>,
    /// A source's mean daily events of a record type over the 28 days before today.
    pub source_baseline_daily_events: Family<SourceLabel, Gauge<f64, AtomicU64>>,
    registry: Registry,
}

impl Default for ProjectorMetrics {
    fn default() -> Self {
        let mut m = ProjectorMetrics {
            events_projected: Counter::default(),
            projection_lag_events: Gauge::default(),
            projection_lag_seconds: Gauge::default(),
            oldest_transaction_seconds: Gauge::default(),
            suppliers: Gauge::default(),
            ledgers_loaded: Counter::default(),
            messages_enqueued: Family::default(),
            active: Gauge::default(),
            source_silence_seconds: Family::default(),
            source_stale: Family::default(),
            source_events_yesterday: Family::default(),
            source_baseline_daily_events: Family::default(),
            registry: Registry::with_prefix("tierline"),
        };
        let r = &mut m.registry;
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
            "projection_lag_seconds",
            "Seconds since the oldest stored event the projector has not applied was recorded",
            m.projection_lag_seconds.clone(),
        );
        r.register(
            "oldest_transaction_seconds",
            "Age of the oldest open transaction on the database (it holds projection back)",
            m.oldest_transaction_seconds.clone(),
        );
        r.register(
            "suppliers",
            "Suppliers whose ledger is in the projector's cache",
            m.suppliers.clone(),
        );
        r.register(
            "ledgers_loaded",
            "Supplier ledgers loaded from the store (first need or after eviction)",
            m.ledgers_loaded.clone(),
        );
        r.register(
            "alerts_enqueued",
            "Alert and tier-change messages written to the outbox",
            m.messages_enqueued.clone(),
        );
        r.register(
            "projector_active",
            "1 while this projector holds its lease, 0 on standby",
            m.active.clone(),
        );
        r.register(
            "source_silence_seconds",
            "Seconds since a source last sent a record type",
            m.source_silence_seconds.clone(),
        );
        r.register(
            "source_stale",
            "1 while a source has been silent for longer than it usually pauses",
            m.source_stale.clone(),
        );
        r.register(
            "source_events_yesterday",
            "Events a source sent of a record type yesterday (UTC)",
            m.source_events_yesterday.clone(),
        );
        r.register(
            "source_baseline_daily_events",
            "A source's mean daily events of a record type over the 28 days before today",
            m.source_baseline_daily_events.clone(),
        );
        m
    }
}

impl ProjectorMetrics {
    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
