//! Tierline's event store: the source of truth. Every accepted event exactly once,
//! in a durable global order, never changed or deleted; consumer offsets committed in
//! the same transaction as the events they cover; rejected messages kept in
//! quarantine. Two backends behind one interface, chosen by URL scheme:
//! `postgres://…` for production, `sqlite://path` as the embedded default.

mod changes;
mod copy;
mod people;
mod postgres;
mod quarantine;
mod replay;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

use std::future::Future;

pub use changes::{Changes, EVENTS_CHANNEL};
pub use copy::CopyBuf;
pub use people::{ErasureRow, PersonRow};
pub use postgres::PgStore;
pub use quarantine::Replay;
pub use replay::{ReplayEvent, Replayed};
pub use sqlite::SqliteStore;
pub use types::*;

use tierline_events::Codec;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names no backend.
    #[error("unsupported store URL `{0}`: use postgres://… or sqlite://path")]
    UnsupportedUrl(String),
    /// A stored event or schema cannot be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// An event's writer schema is unknown to the codec, so it cannot be recorded.
    #[error("writer schema {0:#018x} is not in the catalog")]
    UnknownSchema(u64),
    /// The stored events carry transaction ids this server has not reached: they were
    /// restored from another cluster (`pg_dump`, logical replication). Reading in
    /// commit order would hide all of them, silently; the store refuses to run.
    #[error(
        "the event store was restored from another PostgreSQL cluster: its events carry transaction ids up to {stored}, but this server's next transaction id is {next}, so reading in commit order would hide every stored event. Fix: stop the server and advance its transaction counter past them with `pg_resetwal -x {fix} -D <data directory>` (as the postgres user), then start it again (docs/operations.md, \"Restoring a backup\")"
    )]
    CommitOrderBehind {
        /// The greatest stored transaction id.
        stored: u64,
        /// This server's next transaction id.
        next: u64,
        /// A safe value for `pg_resetwal -x`: the start of the next transaction-status
        /// segment past `stored`.
        fix: u64,
    },
}

impl StoreError {
    /// Whether retrying later may succeed (the database is down or overloaded), as
    /// opposed to a fault in the data or the program.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(e) => is_transient_sqlx(e),
            _ => false,
        }
    }
}

/// Whether a database error may go away by itself (connection lost, pool exhausted,
/// server shutting down, serialization failure): the one rule every service retries by.
pub fn is_transient_sqlx(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
    ) || e
        .as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| is_transient_sqlstate(&c))
}

/// SQLSTATE classes that mean "try again": connection exceptions (08), serialization
/// failures and deadlocks (40), insufficient resources (53), operator intervention
/// (57: admin shutdown, crash shutdown, cannot connect now).
fn is_transient_sqlstate(code: &str) -> bool {
    ["08", "40", "53", "57"]
        .iter()
        .any(|class| code.starts_with(class))
}

/// The store interface both backends implement. Every method is one transaction.
pub trait EventStore: Send + Sync {
    /// Creates or upgrades the schema, and records the codec's writer schemas.
    fn migrate(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Appends a batch in one transaction: new events get positions, known ones are
    /// reported as duplicates (same content) or conflicts (different content; these
    /// are quarantined in the same transaction); the offsets and quarantine rows of
    /// the batch commit with it. One outcome per event, in order.
    fn append(
        &self,
        batch: &AppendBatch,
    ) -> impl Future<Output = Result<AppendOutcome, StoreError>> + Send;

    /// Reads events after `after` along the global cursor, at most `limit`. A reader
    /// that has seen an event never later misses one that sorts before it.
    fn read_global(
        &self,
        after: Cursor,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, StoreError>> + Send;

    /// One supplier's events that pass `filter`, oldest first by (`occurred_at`, position),
    /// after `after`.
    fn read_supplier(
        &self,
        supplier_id: &str,
        filter: &SupplierFilter,
        after: Option<SupplierCursor>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, StoreError>> + Send;

    /// The stored next offset per partition of `topic` for consumer group `group`.
    fn consumer_offsets(
        &self,
        group: &str,
        topic: &str,
    ) -> impl Future<Output = Result<Vec<(i32, i64)>, StoreError>> + Send;

    /// Quarantined messages, oldest first.
    fn quarantined(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<QuarantineRow>, StoreError>> + Send;

    /// The writer schemas kept in the database.
    fn stored_schemas(&self) -> impl Future<Output = Result<Vec<StoredSchema>, StoreError>> + Send;

    /// Number of stored events.
    fn count(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Whether the database answers.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A store chosen by URL scheme.
#[derive(Debug, Clone)]
pub enum Store {
    /// PostgreSQL.
    Postgres(PgStore),
    /// SQLite.
    Sqlite(SqliteStore),
}

impl Store {
    /// Every stored `SupplierCertificateRecorded`, of every supplier.
    pub async fn certificates(&self) -> Result<Vec<StoredEvent>, StoreError> {
        match self {
            Store::Postgres(s) => s.certificates().await,
            Store::Sqlite(s) => s.certificates().await,
        }
    }

    /// One supplier's records of these kinds (few per supplier: profile and action
    /// records), by (`occurred_at`, position).
    pub async fn supplier_records(
        &self,
        supplier: &str,
        kinds: &[tierline_events::RecordKind],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        match self {
            Store::Postgres(s) => s.supplier_records(supplier, kinds).await,
            Store::Sqlite(s) => s.supplier_records(supplier, kinds).await,
        }
    }

    /// Suppliers with at least one record of this kind, sorted.
    pub async fn suppliers_with(
        &self,
        kind: tierline_events::RecordKind,
    ) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Postgres(s) => s.suppliers_with(kind).await,
            Store::Sqlite(s) => s.suppliers_with(kind).await,
        }
    }

    /// The stored event with this dedupe key (`source`, `event_id`), if any.
    pub async fn event(
        &self,
        source: &str,
        event_id: uuid::Uuid,
    ) -> Result<Option<StoredEvent>, StoreError> {
        match self {
            Store::Postgres(s) => s.event(source, event_id).await,
            Store::Sqlite(s) => s.event(source, event_id).await,
        }
    }

    /// Connects to `postgres://…` / `postgresql://…` or opens (creating) `sqlite://path`.
    pub async fn connect(url: &str, codec: Codec) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(PgStore::connect(url, codec).await?))
        } else if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(SqliteStore::open(url, codec).await?))
        } else {
            Err(StoreError::UnsupportedUrl(redact(url)))
        }
    }
}

/// A URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Postgres($s) => $call.await,
            Store::Sqlite($s) => $call.await,
        }
    };
}

impl EventStore for Store {
    async fn migrate(&self) -> Result<(), StoreError> {
        delegate!(self, s => s.migrate())
    }
    async fn append(&self, batch: &AppendBatch) -> Result<AppendOutcome, StoreError> {
        delegate!(self, s => s.append(batch))
    }
    async fn read_global(
        &self,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        delegate!(self, s => s.read_global(after, limit))
    }
    async fn read_supplier(
        &self,
        supplier_id: &str,
        filter: &SupplierFilter,
        after: Option<SupplierCursor>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        delegate!(self, s => s.read_supplier(supplier_id, filter, after, limit))
    }
    async fn consumer_offsets(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<Vec<(i32, i64)>, StoreError> {
        delegate!(self, s => s.consumer_offsets(group, topic))
    }
    async fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRow>, StoreError> {
        delegate!(self, s => s.quarantined(limit))
    }
    async fn stored_schemas(&self) -> Result<Vec<StoredSchema>, StoreError> {
        delegate!(self, s => s.stored_schemas())
    }
    async fn count(&self) -> Result<i64, StoreError> {
        delegate!(self, s => s.count())
    }
    async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self, s => s.ping())
    }
}

/// A shared store is a store.
impl<S: EventStore> EventStore for std::sync::Arc<S> {
    async fn migrate(&self) -> Result<(), StoreError> {
        (**self).migrate().await
    }
    async fn append(&self, batch: &AppendBatch) -> Result<AppendOutcome, StoreError> {
        (**self).append(batch).await
    }
    async fn read_global(
        &self,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        (**self).read_global(after, limit).await
    }
    async fn read_supplier(
        &self,
        supplier_id: &str,
        filter: &SupplierFilter,
        after: Option<SupplierCursor>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        (**self)
            .read_supplier(supplier_id, filter, after, limit)
            .await
    }
    async fn consumer_offsets(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<Vec<(i32, i64)>, StoreError> {
        (**self).consumer_offsets(group, topic).await
    }
    async fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRow>, StoreError> {
        (**self).quarantined(limit).await
    }
    async fn stored_schemas(&self) -> Result<Vec<StoredSchema>, StoreError> {
        (**self).stored_schemas().await
    }
    async fn count(&self) -> Result<i64, StoreError> {
        (**self).count().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        (**self).ping().await
    }
}

/// For benchmarks: the binary COPY rows the PostgreSQL fast path sends.
#[doc(hidden)]
pub fn pg_copy_rows(events: &[NewEvent]) -> Vec<u8> {
    let all: Vec<usize> = (0..events.len()).collect();
    copy::encode_events(events, &all)
}

/// For benchmarks: the columns of [`pg_copy_rows`].
#[doc(hidden)]
pub const PG_COPY_COLUMNS: &str = copy::EVENT_COLUMNS;

#[cfg(test)]
mod tests {
    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            super::redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(super::redact("sqlite://data/t.db"), "sqlite://data/t.db");
    }
}
