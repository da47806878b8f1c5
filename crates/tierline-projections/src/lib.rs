//! Tierline's read model: the tables the projector derives from the event store, on
//! the store's own database (PostgreSQL or SQLite, chosen like the store by its URL).
//!
//! - daily indicator buckets with their exact-sum partials,
//! - the current scorecard per supplier and window,
//! - tier history, alert episodes with their publication state, published tiers,
//! - the outbox of messages the relay publishes,
//! - the projector's checkpoint and lease,
//! - events per source, record type and day ([`health`]: is each feed alive?).
//!
//! Everything here is derived and rebuildable from the store. The projector writes
//! through [`WriteTx`] (one transaction per step); the API and the relay read through
//! [`Projections`]. Each operation is written once per dialect where they differ; the
//! logic that decides *what* to write or how to finish a number lives with its caller.

/// Runs `$body` with `$p` bound to the pool, whichever the backend (the body is
/// compiled once per backend).
macro_rules! on_pool {
    ($self:expr, $p:ident => $body:expr) => {
        match $self {
            Projections::Postgres($p) => $body,
            Projections::Sqlite($p) => $body,
        }
    };
}

mod column;
pub mod health;
mod lease;
mod outbox;
mod read;
mod rows;
mod sources;
mod write;

pub use lease::Lease;
pub use read::{AlertQuery, AlertStatus, ListSort, SummaryQuery};
pub use rows::*;
pub use sources::count_page;
pub use write::{BulkRows, PageRows, WriteTx};

use sqlx::{PgPool, SqlitePool};
use tierline_store::Store;

/// Errors of the read model.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionsError {
    /// A query failed or the database is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row cannot be read back (written by a newer or broken build).
    #[error("stored projection is unreadable: {0}")]
    Corrupt(String),
}

impl ProjectionsError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ProjectionsError::Database(e) => tierline_store::is_transient_sqlx(e) || self.is_busy(),
            _ => false,
        }
    }

    /// SQLite's "database is busy/locked": another writer held it past the busy timeout.
    pub fn is_busy(&self) -> bool {
        match self {
            ProjectionsError::Database(e) => e
                .as_database_error()
                .and_then(|d| d.code())
                // Primary code 5 (BUSY) or 6 (LOCKED), also inside an extended code.
                .is_some_and(|c| c.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))),
            _ => false,
        }
    }
}

/// The read model's database: the event store's, on either backend.
#[derive(Debug, Clone)]
pub enum Projections {
    /// PostgreSQL (production).
    Postgres(PgPool),
    /// SQLite (the embedded default).
    Sqlite(SqlitePool),
}

impl Projections {
    /// The read model in `store`'s database.
    pub fn of(store: &Store) -> Projections {
        match store {
            Store::Postgres(s) => Projections::Postgres(s.pool().clone()),
            Store::Sqlite(s) => Projections::Sqlite(s.pool().clone()),
        }
    }

    /// Creates or upgrades the tables (the projector, relay and API all call it, so
    /// any may start first).
    pub async fn migrate(&self) -> Result<(), ProjectionsError> {
        let mut m = match self {
            Projections::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
            Projections::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
        };
        // The store's own migrations share the bookkeeping table.
        m.set_ignore_missing(true);
        on_pool!(self, p => m.run(p).await?);
        Ok(())
    }

    /// Begins the transaction a projector step writes in.
    pub async fn begin(&self) -> Result<WriteTx, ProjectionsError> {
        Ok(match self {
            Projections::Postgres(p) => WriteTx::Postgres(p.begin().await?),
            // Writing from the start: a deferred transaction that read first could not
            // upgrade once another writer committed.
            Projections::Sqlite(p) => WriteTx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Whether the database answers within `limit`.
    pub async fn ping(&self, limit: std::time::Duration) -> bool {
        let ping =
            async { on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ())) };
        matches!(tokio::time::timeout(limit, ping).await, Ok(Ok(())))
    }

    /// The PostgreSQL pool, when on PostgreSQL (for `LISTEN`).
    pub fn pg_pool(&self) -> Option<&PgPool> {
        match self {
            Projections::Postgres(p) => Some(p),
            Projections::Sqlite(_) => None,
        }
    }
}

/// The channel notified (on commit) whenever the projections change (PostgreSQL).
pub const PROJECTIONS_CHANNEL: &str = "tierline_projections";
