//! The projector tails the event store's global cursor and keeps the read model
//! (`tierline-projections`) in the store's own database, PostgreSQL or SQLite: daily
//! indicator buckets, the current scorecard per supplier and window, tier history,
//! alert episodes, and an outbox of alert and tier-change messages. Projection
//! updates, outbox rows and the checkpoint commit in one transaction, fenced by the
//! projector's lease, so only one projector per name ever writes.
//!
//! The scoring itself is `tierline-scoring` (pure); this crate is the shell around it.
//! The relay (`tierline-relay`) publishes the outbox.

mod announce;
mod metrics;
mod projector;

pub use metrics::ProjectorMetrics;
pub use projector::{DEFAULT_LEDGER_CACHE, LEASE_TTL, Projector, ProjectorError, Role};
