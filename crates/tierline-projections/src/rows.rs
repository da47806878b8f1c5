//! The rows of the read model as Tierline's types (each backend converts at its edge).

use tierline_events::{Date, Timestamp};
use tierline_scoring::{Agg, Indicator};
use tierline_store::Cursor;
use uuid::Uuid;

/// Where a projector's projections are, and under which policy they were made.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The last event projected.
    pub cursor: Cursor,
    /// The day every supplier was last brought up to.
    pub projected_day: Option<Date>,
    /// The policy's version string.
    pub policy_version: String,
    /// The digest of the resolved policy (absent on checkpoints older than digests).
    pub policy_digest: Option<String>,
}

/// One indicator's total on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayBucket {
    /// The indicator.
    pub indicator: Indicator,
    /// The day.
    pub day: Date,
    /// Its exact numerator and denominator sums and sample count.
    pub total: Agg,
}

/// One tier-history day.
pub use tierline_scoring::TierDay;

/// A current scorecard as stored: the numbers a reader returns as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorecardRow {
    /// Window in days.
    pub window_days: u32,
    /// The day it was computed for.
    pub as_of: Date,
    /// Policy version.
    pub policy_version: String,
    /// Composite score (none below the coverage floor).
    pub composite: Option<f64>,
    /// Share of the dimension weights with data.
    pub coverage: f64,
    /// The supplier's tier on `as_of`.
    pub tier: String,
    /// Dimension subscores as a JSON object.
    pub dimensions: String,
    /// Indicator values as a JSON object.
    pub indicators: String,
    /// The supplier's first day with data.
    pub first_day: Option<Date>,
}

/// When an alert episode was announced, as stored with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Publication {
    /// NULL (never announced), RAISED, CLEARED or RETRACTED.
    pub state: Option<String>,
    /// Raises announced so far.
    pub announced: i32,
    /// When the last raise was enqueued.
    pub raised_at: Option<Timestamp>,
    /// When its resolution was enqueued.
    pub resolved_at: Option<Timestamp>,
    /// When it was retracted.
    pub retracted_at: Option<Timestamp>,
}

/// An alert episode row.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRow {
    /// Deterministic id.
    pub alert_id: Uuid,
    /// Supplier.
    pub supplier_id: String,
    /// Rule (the indicator's name).
    pub rule: String,
    /// WARNING or CRITICAL.
    pub level: String,
    /// The threshold crossed.
    pub threshold: f64,
    /// The rule's window.
    pub window_days: i32,
    /// First day over the threshold.
    pub started_on: Date,
    /// Value on that day.
    pub value_at_start: f64,
    /// First day back under it.
    pub ended_on: Option<Date>,
    /// Value on that day.
    pub value_at_end: Option<f64>,
    /// Its publication state.
    pub publication: Publication,
}

/// A message for the relay, written with the projections that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// Its CloudEvents id; unique in the outbox.
    pub message_id: Uuid,
    /// The Kafka key.
    pub supplier_id: String,
    /// Full Avro record name.
    pub record_name: String,
    /// The framed Avro value.
    pub value: Vec<u8>,
    /// Kafka headers as a JSON object of strings.
    pub headers: String,
    /// When it was enqueued.
    pub created_at: Timestamp,
}

/// An outbox row not yet published.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMessage {
    /// Outbox order.
    pub id: i64,
    /// The Kafka key.
    pub supplier_id: String,
    /// The framed Avro value.
    pub value: Vec<u8>,
    /// Kafka headers as a JSON object of strings.
    pub headers: String,
}

/// A row of the supplier list.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Supplier.
    pub supplier_id: String,
    /// Composite score.
    pub composite: Option<f64>,
    /// Tier.
    pub tier: String,
    /// Dimension subscores as a JSON object.
    pub dimensions: String,
    /// Alerts open on the list's day.
    pub open_alerts: i64,
    /// Latest `occurred_at` among its events.
    pub last_event_at: Option<Timestamp>,
}

/// What was last published about one subject of a supplier (`plan:{plan_id}`,
/// `status`): its state as the publisher wrote it, and how many messages it announced.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedState {
    /// The supplier.
    pub supplier_id: String,
    /// What it is about.
    pub subject: String,
    /// The publisher's record of what it last published (JSON).
    pub state: String,
    /// Messages published about the subject so far.
    pub announced: i32,
}

/// A supplier's standing as of a day, as the projector computed it: what the order gate
/// reads.
#[derive(Debug, Clone, PartialEq)]
pub struct StandingRow {
    /// The supplier.
    pub supplier_id: String,
    /// The day it is as of.
    pub as_of: Date,
    /// The status that day (`APPROVED` without a decision in force).
    pub status: String,
    /// The tier that day (`None`: not rated).
    pub tier: Option<String>,
    /// The credit that day.
    pub credit: f64,
    /// JSON array of the rules with a CRITICAL episode open that day.
    pub critical_open: String,
    /// JSON array of `[plan_id, indicator, review_date]` of the FAILED plans the gate
    /// counts that day.
    pub failed_plans: String,
}
