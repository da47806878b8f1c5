//! The SQLite backend: the embedded default. One writer at a time (SQLite's own
//! rule), so positions follow commit order and the cursor needs no transaction id.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use tierline_events::{Codec, Timestamp};
use tracing::instrument;
use uuid::Uuid;

use crate::types::*;
use crate::{EventStore, StoreError};

/// The SQLite event store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    codec: Codec,
    /// Bumped after each append that stored events (see `changes`).
    appended: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// Bumped after each projection commit of this process (see `changes`).
    pub(crate) projected: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `sqlite://path`.
    pub async fn open(url: &str, codec: Codec) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL is durable against process crashes; FULL adds power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            pool,
            codec,
            appended: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            projected: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
        })
    }

    /// Writes a consistent copy of the whole database (event store and read model) to
    /// a new file at `path`, online: `VACUUM INTO` reads one snapshot while writers go
    /// on.
    pub async fn backup_into(&self, path: &str) -> Result<(), StoreError> {
        sqlx::query("VACUUM INTO ?1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The pool (for tests and tools that need raw SQL).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Wakes on each append of this store (and its clones) that stored events.
    pub(crate) fn appended(&self) -> tokio::sync::watch::Receiver<u64> {
        self.appended.subscribe()
    }

    async fn ensure_schema(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        fp: u64,
    ) -> Result<(), StoreError> {
        let info = self
            .codec
            .catalog()
            .schema_by_fingerprint(fp)
            .ok_or(StoreError::UnknownSchema(fp))?;
        sqlx::query(
            "INSERT INTO schemas (fingerprint, schema_id, record_name, version, definition) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(fp as i64)
        .bind(info.id.map(i64::from))
        .bind(info.kind.full_name())
        .bind(i64::from(info.version))
        .bind(info.json.as_ref())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    fn stored_event(row: &SqliteRow) -> Result<StoredEvent, sqlx::Error> {
        let position: i64 = row.try_get("position")?;
        Ok(StoredEvent {
            position,
            cursor: Cursor { txid: 0, position },
            source: row.try_get("source")?,
            event_id: row.try_get::<Uuid, _>("event_id")?,
            supplier_id: row.try_get("supplier_id")?,
            record_name: row.try_get("record_name")?,
            occurred_at: Timestamp(row.try_get("occurred_at")?),
            recorded_at: Timestamp(row.try_get("recorded_at")?),
            schema_id: row
                .try_get::<Option<i64>, _>("schema_id")?
                .map(|i| i as u32),
            fingerprint: row.try_get::<i64, _>("fingerprint")? as u64,
            datum: row.try_get("datum")?,
            origin: origin(
                row.try_get("kafka_topic")?,
                row.try_get("kafka_partition")?,
                row.try_get("kafka_offset")?,
            ),
        })
    }
}

macro_rules! select_events {
    ($rest:literal) => {
        concat!("SELECT position, source, event_id, supplier_id, record_name, occurred_at, recorded_at, schema_id, \
            fingerprint, datum, kafka_topic, kafka_partition, kafka_offset FROM events ", $rest)
    };
}

impl SqliteStore {
    /// Every stored certificate record, of every supplier (a partial index serves it).
    pub async fn certificates(&self) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(select_events!(
            "WHERE record_name = 'io.tierline.v1.SupplierCertificateRecorded' ORDER BY supplier_id, position"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(Self::stored_event)
            .collect::<Result<_, _>>()?)
    }

    /// One supplier's records of these kinds, by (`occurred_at`, position), over the
    /// partial index of profile and action records.
    pub async fn supplier_records(
        &self,
        supplier: &str,
        kinds: &[tierline_events::RecordKind],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{} {}", select_events!(""), supplier_records_where(kinds));
        let rows = sqlx::query(&sql)
            .bind(supplier)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(Self::stored_event)
            .collect::<Result<_, _>>()?)
    }

    /// Suppliers with at least one record of this kind, sorted.
    pub async fn suppliers_with(
        &self,
        kind: tierline_events::RecordKind,
    ) -> Result<Vec<String>, StoreError> {
        let sql = suppliers_with_sql(kind);
        Ok(sqlx::query_scalar(&sql).fetch_all(&self.pool).await?)
    }

    /// The stored event with this dedupe key, if any.
    pub async fn event(
        &self,
        source: &str,
        event_id: Uuid,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(select_events!("WHERE source = ?1 AND event_id = ?2"))
            .bind(source)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(Self::stored_event).transpose()?)
    }
}

impl EventStore for SqliteStore {
    #[instrument(skip(self), err)]
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        // The read model's migrations (tierline-projections) share the bookkeeping table.
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        let mut tx = self.pool.begin().await?;
        for info in self.codec.catalog().schemas() {
            self.ensure_schema(&mut tx, info.fingerprint).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[instrument(skip_all, fields(events = batch.events.len(), offsets = batch.offsets.len(), quarantine = batch.quarantine.len()), err)]
    async fn append(&self, batch: &AppendBatch) -> Result<AppendOutcome, StoreError> {
        let (unique, twins) = dedupe_in_batch(&batch.events);
        let mut results = vec![Appended::New; batch.events.len()];
        for (i, r) in &twins {
            results[*i] = *r;
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut fps: Vec<u64> = batch.events.iter().map(|e| e.fingerprint).collect();
        fps.sort_unstable();
        fps.dedup();
        for fp in fps {
            self.ensure_schema(&mut tx, fp).await?;
        }
        let recorded_at = batch.recorded_at.map_or_else(now_ms, |t| t.0);
        let mut conflicts = Vec::new();
        for &i in &unique {
            let e = &batch.events[i];
            let inserted = sqlx::query(
                "INSERT INTO events (source, event_id, supplier_id, record_name, occurred_at, recorded_at, schema_id, fingerprint,
                                     datum, kafka_topic, kafka_partition, kafka_offset)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, event_id) DO NOTHING",
            )
            .bind(&e.source)
            .bind(e.event_id)
            .bind(&e.supplier_id)
            .bind(e.record_name())
            .bind(e.occurred_at.0)
            .bind(recorded_at)
            .bind(e.schema_id.map(i64::from))
            .bind(e.fingerprint as i64)
            .bind(e.datum())
            .bind(e.origin.as_ref().map(|o| o.topic.as_str()))
            .bind(e.origin.as_ref().map(|o| o.partition))
            .bind(e.origin.as_ref().map(|o| o.offset))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                continue;
            }
            let row = sqlx::query(
                "SELECT position, fingerprint, datum FROM events WHERE source = ? AND event_id = ?",
            )
            .bind(&e.source)
            .bind(e.event_id)
            .fetch_one(&mut *tx)
            .await?;
            let position: i64 = row.try_get(0)?;
            let fp: i64 = row.try_get(1)?;
            let datum: Vec<u8> = row.try_get(2)?;
            results[i] = classify_stored(&self.codec, e, position, fp, &datum, &mut conflicts)?;
        }
        conflicts.extend(twin_conflicts(&batch.events, &results));
        for o in &batch.offsets {
            sqlx::query(
                "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (group_id, topic, partition) DO UPDATE
                 SET next_offset = MAX(next_offset, excluded.next_offset), updated_at = excluded.updated_at",
            )
            .bind(&o.group)
            .bind(&o.topic)
            .bind(o.partition)
            .bind(o.next_offset)
            .bind(recorded_at)
            .execute(&mut *tx)
            .await?;
        }
        for q in batch.quarantine.iter().chain(conflicts.iter()) {
            sqlx::query(
                "INSERT INTO quarantine (received_at, kafka_topic, kafka_partition, kafka_offset, message_key, message_value, headers,
                                         reason_code, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(recorded_at)
            .bind(q.origin.as_ref().map(|o| o.topic.as_str()))
            .bind(q.origin.as_ref().map(|o| o.partition))
            .bind(q.origin.as_ref().map(|o| o.offset))
            .bind(q.key.as_deref())
            .bind(&q.value)
            .bind(headers_json(&q.headers))
            .bind(&q.reason_code)
            .bind(&q.reason)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if results.contains(&Appended::New) {
            self.appended.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(AppendOutcome { results })
    }

    #[instrument(skip(self), err, level = "debug")]
    async fn read_global(
        &self,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(select_events!(
            "WHERE position > ? ORDER BY position LIMIT ?"
        ))
        .bind(after.position)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(Self::stored_event)
            .collect::<Result<_, _>>()?)
    }

    #[instrument(skip(self), err, level = "debug")]
    async fn read_supplier(
        &self,
        supplier_id: &str,
        filter: &SupplierFilter,
        after: Option<SupplierCursor>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let (sql, start) = if filter.newest_first {
            (
                select_events!(
                    "WHERE supplier_id = ?1 AND (occurred_at < ?2 OR (occurred_at = ?2 AND position < ?3))
                       AND (?5 IS NULL OR occurred_at >= ?5) AND (?6 IS NULL OR occurred_at < ?6) AND (?7 IS NULL OR record_name = ?7)
                     ORDER BY occurred_at DESC, position DESC LIMIT ?4"
                ),
                SUPPLIER_END,
            )
        } else {
            (
                select_events!(
                    "WHERE supplier_id = ?1 AND (occurred_at > ?2 OR (occurred_at = ?2 AND position > ?3))
                       AND (?5 IS NULL OR occurred_at >= ?5) AND (?6 IS NULL OR occurred_at < ?6) AND (?7 IS NULL OR record_name = ?7)
                     ORDER BY occurred_at, position LIMIT ?4"
                ),
                SUPPLIER_START,
            )
        };
        let after = after.unwrap_or(start);
        let rows = sqlx::query(sql)
            .bind(supplier_id)
            .bind(after.occurred_at.0)
            .bind(after.position)
            .bind(limit as i64)
            .bind(filter.occurred_from.map(|t| t.0))
            .bind(filter.occurred_before.map(|t| t.0))
            .bind(filter.record_name.as_deref())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(Self::stored_event)
            .collect::<Result<_, _>>()?)
    }

    async fn consumer_offsets(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<Vec<(i32, i64)>, StoreError> {
        Ok(sqlx::query_as::<_, (i32, i64)>(
            "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = ? AND topic = ? ORDER BY partition",
        )
        .bind(group)
        .bind(topic)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRow>, StoreError> {
        let rows = sqlx::query_as::<_, QuarantineDbRow>(
            "SELECT id, received_at, kafka_topic, kafka_partition, kafka_offset, message_key, message_value, headers, reason_code, reason
             FROM quarantine ORDER BY id LIMIT ?",
        )
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn stored_schemas(&self) -> Result<Vec<StoredSchema>, StoreError> {
        let rows = sqlx::query_as::<_, SchemaDbRow>(
            "SELECT fingerprint, schema_id, record_name, version, definition FROM schemas ORDER BY record_name, version",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
