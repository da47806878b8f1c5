//! The projector tails the event store's global cursor and keeps, in the same
//! PostgreSQL database: daily indicator buckets, the current scorecard per supplier
//! and window, tier history, alert episodes, and an outbox of alert and tier-change
//! messages. Projection updates, outbox rows and the checkpoint commit in one
//! transaction. The [`Relay`] publishes the outbox to Kafka.
//!
//! Without projection tables (the SQLite store of the demo), [`MemoryProjection`]
//! keeps the same read model in memory, rebuilt from the store on start.
//!
//! The scoring itself is `tierline-scoring` (pure); this crate is the shell around it:
//! the clock, SQL and Kafka live here.

mod announce;
mod clock;
mod memory;
pub mod metrics;
mod projector;
mod relay;

pub use memory::{MemoryProjection, Snapshot, SupplierView};
pub use metrics::Metrics;
pub use projector::{
    Clock, FixedClock, PROJECTIONS_CHANNEL, Projector, ProjectorError, SystemClock, migrate,
};
pub use relay::{Relay, RelayError};
