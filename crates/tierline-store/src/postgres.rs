//! The PostgreSQL backend.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};
use tierline_events::{Codec, Timestamp};
use tracing::{debug, instrument};
use uuid::Uuid;

use crate::copy::{EVENT_COLUMNS, encode_events};
use crate::types::*;
use crate::{EventStore, StoreError};

/// The PostgreSQL event store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    codec: Codec,
    /// Fingerprints known to be in the `schemas` table.
    known_schemas: Arc<Mutex<HashSet<u64>>>,
}

fn ts(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.0).unwrap_or_default()
}

/// A batch's own `recorded_at`, for this transaction: the column defaults of `events`
/// and `quarantine` read it (`tierline.recorded_at`, migration 0002), so the COPY path
/// needs no extra column.
async fn recorded_at(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    batch: &AppendBatch,
) -> Result<(), StoreError> {
    if let Some(t) = batch.recorded_at {
        sqlx::query("SELECT set_config('tierline.recorded_at', $1, true)")
            .bind(t.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Wakes listeners of appended events when this transaction commits.
async fn notify_appended(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), StoreError> {
    sqlx::query(&format!("NOTIFY {}", crate::EVENTS_CHANNEL))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn from_ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp(t.timestamp_millis())
}

/// `idle_in_transaction_session_timeout` of Tierline's own sessions.
pub(crate) const IDLE_IN_TRANSACTION_TIMEOUT: &str = "10min";

impl PgStore {
    /// Connects a pool to `url` (its sessions end a transaction left idle for ten
    /// minutes).
    pub async fn connect(url: &str, codec: Codec) -> Result<Self, StoreError> {
        // A Tierline session never waits inside an open transaction for long; if one
        // does (a hung process), the server ends it after ten minutes, so it cannot hide
        // later commits from the projector's snapshot-safe reads for longer
        // (docs/operations.md "Stuck transactions").
        let options: PgConnectOptions = url.parse::<PgConnectOptions>()?.options([(
            "idle_in_transaction_session_timeout",
            IDLE_IN_TRANSACTION_TIMEOUT,
        )]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Self::from_pool(pool, codec))
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: PgPool, codec: Codec) -> Self {
        PgStore {
            pool,
            codec,
            known_schemas: Arc::default(),
        }
    }

    /// Refuses a store whose events carry transaction ids at or past this server's next
    /// one (restored from another cluster): see [`StoreError::CommitOrderBehind`].
    pub async fn check_commit_order(&self) -> Result<(), StoreError> {
        let (stored, next): (Option<String>, String) = sqlx::query_as(
            "SELECT (SELECT txid::text FROM events ORDER BY txid DESC LIMIT 1),
                    pg_snapshot_xmax(pg_current_snapshot())::text",
        )
        .fetch_one(&self.pool)
        .await?;
        let parse = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| StoreError::Corrupt(format!("transaction id `{s}`")))
        };
        let next = parse(&next)?;
        match stored.as_deref().map(parse).transpose()? {
            Some(stored) if stored >= next => {
                // pg_resetwal -x wants the first id of a transaction-status segment
                // (1,048,576 ids each) so that the server creates the segment itself.
                let segment = 1u64 << 20;
                let fix = (stored & 0xffff_ffff) / segment * segment + segment;
                Err(StoreError::CommitOrderBehind { stored, next, fix })
            }
            _ => Ok(()),
        }
    }

    /// The pool (for tests and tools that need raw SQL).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Writes any writer schema of `events` not yet in the `schemas` table.
    async fn ensure_schemas(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        events: &[NewEvent],
    ) -> Result<(), StoreError> {
        let missing: Vec<u64> = {
            let known = self
                .known_schemas
                .lock()
                .map_err(|_| StoreError::Corrupt("schema cache poisoned".into()))?;
            let mut m: Vec<u64> = events
                .iter()
                .map(|e| e.fingerprint)
                .filter(|f| !known.contains(f))
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        for fp in &missing {
            let info = self
                .codec
                .catalog()
                .schema_by_fingerprint(*fp)
                .ok_or(StoreError::UnknownSchema(*fp))?;
            sqlx::query(
                "INSERT INTO schemas (fingerprint, schema_id, record_name, version, definition) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (fingerprint) DO NOTHING",
            )
            .bind(*fp as i64)
            .bind(info.id.map(|i| i as i32))
            .bind(info.kind.full_name())
            .bind(info.version as i32)
            .bind(info.json.as_ref())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    fn remember_schemas(&self, events: &[NewEvent]) {
        if let Ok(mut known) = self.known_schemas.lock() {
            known.extend(events.iter().map(|e| e.fingerprint));
        }
    }

    /// Fast path: one index probe per event finds what is already stored (a redelivery,
    /// a producer's retry); the rest goes in by binary COPY and the stored twins are
    /// classified in the same transaction. Looking first keeps a batch with a few
    /// duplicates on the COPY (the stream carries about one in a hundred), instead of a
    /// COPY that fails and a slow retry. A concurrent writer can still store one of them
    /// in between: the COPY then fails with a unique violation.
    async fn append_copy(
        &self,
        batch: &AppendBatch,
        unique: &[usize],
        results: &mut [Appended],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        recorded_at(&mut tx, batch).await?;
        self.ensure_schemas(&mut tx, &batch.events).await?;
        let mut conflicts = twin_conflicts(&batch.events, results);
        let fresh = self
            .classify_stored_twins(&mut tx, batch, unique, results, &mut conflicts)
            .await?;
        if !fresh.is_empty() {
            let mut copy = tx
                .copy_in_raw(&format!(
                    "COPY events ({EVENT_COLUMNS}) FROM STDIN (FORMAT binary)"
                ))
                .await?;
            copy.send(encode_events(&batch.events, &fresh)).await?;
            copy.finish().await?;
            notify_appended(&mut tx).await?;
        }
        write_offsets_and_quarantine(
            &mut tx,
            &batch.offsets,
            batch.quarantine.iter().chain(conflicts.iter()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Slow path, when a concurrent writer raced the fast one: insert what is new, then
    /// classify the rest against what is stored.
    async fn append_checked(
        &self,
        batch: &AppendBatch,
        unique: &[usize],
        results: &mut [Appended],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        recorded_at(&mut tx, batch).await?;
        self.ensure_schemas(&mut tx, &batch.events).await?;
        let ev = |i: &usize| &batch.events[*i];
        let rows = sqlx::query(
            "INSERT INTO events (source, event_id, supplier_id, record_name, occurred_at, schema_id, fingerprint, datum,
                                 kafka_topic, kafka_partition, kafka_offset)
             SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::int4[],
                                  $7::int8[], $8::bytea[], $9::text[], $10::int4[], $11::int8[])
             ON CONFLICT (source, event_id) DO NOTHING
             RETURNING source, event_id",
        )
        .bind(unique.iter().map(|i| ev(i).source.clone()).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).event_id).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).supplier_id.clone()).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).record_name().to_owned()).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ts(ev(i).occurred_at)).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).schema_id.map(|s| s as i32)).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).fingerprint as i64).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).datum().to_vec()).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).origin.as_ref().map(|o| o.topic.clone())).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).origin.as_ref().map(|o| o.partition)).collect::<Vec<_>>())
        .bind(unique.iter().map(|i| ev(i).origin.as_ref().map(|o| o.offset)).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
        let inserted: HashSet<(String, Uuid)> = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<Uuid, _>(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let known: Vec<usize> = unique
            .iter()
            .copied()
            .filter(|i| !inserted.contains(&(ev(i).source.clone(), ev(i).event_id)))
            .collect();
        if !inserted.is_empty() {
            notify_appended(&mut tx).await?;
        }
        let mut conflicts = twin_conflicts(&batch.events, results);
        let missing = self
            .classify_stored_twins(&mut tx, batch, &known, results, &mut conflicts)
            .await?;
        if let Some(e) = missing.first().map(ev) {
            return Err(StoreError::Corrupt(format!(
                "{} {} neither inserted nor stored",
                e.source, e.event_id
            )));
        }
        write_offsets_and_quarantine(
            &mut tx,
            &batch.offsets,
            batch.quarantine.iter().chain(conflicts.iter()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Looks up which of the batch's events at `indices` are already stored (one query,
    /// one probe of the `events_dedupe` index each) and classifies those: duplicates, or
    /// conflicts (added to `conflicts` for quarantine). Returns the indices not stored.
    async fn classify_stored_twins(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        batch: &AppendBatch,
        indices: &[usize],
        results: &mut [Appended],
        conflicts: &mut Vec<Quarantined>,
    ) -> Result<Vec<usize>, StoreError> {
        let ev = |i: &usize| &batch.events[*i];
        let rows = sqlx::query(
            "SELECT e.source, e.event_id, e.position, e.fingerprint, e.datum FROM events e
             JOIN UNNEST($1::text[], $2::uuid[]) AS k (source, event_id) ON e.source = k.source AND e.event_id = k.event_id",
        )
        .bind(indices.iter().map(|i| ev(i).source.clone()).collect::<Vec<_>>())
        .bind(indices.iter().map(|i| ev(i).event_id).collect::<Vec<_>>())
        .fetch_all(&mut **tx)
        .await?;
        let mut stored = HashMap::with_capacity(rows.len());
        for row in &rows {
            let key: (String, Uuid) = (row.try_get(0)?, row.try_get(1)?);
            let value: (i64, i64, Vec<u8>) = (row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            stored.insert(key, value);
        }
        let mut not_stored = Vec::with_capacity(indices.len());
        for &i in indices {
            let e = ev(&i);
            // Most batches hold no stored twin: no key to build for them.
            let found = if stored.is_empty() {
                None
            } else {
                stored.get(&(e.source.clone(), e.event_id))
            };
            match found {
                Some((position, fp, datum)) => {
                    results[i] = classify_stored(&self.codec, e, *position, *fp, datum, conflicts)?;
                }
                None => not_stored.push(i),
            }
        }
        Ok(not_stored)
    }

    fn stored_event(row: &sqlx::postgres::PgRow) -> Result<StoredEvent, sqlx::Error> {
        let position: i64 = row.try_get("position")?;
        let txid: i64 = row.try_get("tx")?;
        Ok(StoredEvent {
            position,
            cursor: Cursor {
                txid: txid as u64,
                position,
            },
            source: row.try_get("source")?,
            event_id: row.try_get("event_id")?,
            supplier_id: row.try_get("supplier_id")?,
            record_name: row.try_get("record_name")?,
            occurred_at: from_ts(row.try_get("occurred_at")?),
            recorded_at: from_ts(row.try_get("recorded_at")?),
            schema_id: row
                .try_get::<Option<i32>, _>("schema_id")?
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
    ($($rest:literal),*) => {
        concat!("SELECT position, txid::text::int8 AS tx, source, event_id, supplier_id, record_name, occurred_at, \
            recorded_at, schema_id, fingerprint, datum, kafka_topic, kafka_partition, kafka_offset FROM events ", $($rest),*)
    };
}

mod records;

async fn write_offsets_and_quarantine<'a>(
    tx: &mut Transaction<'_, Postgres>,
    offsets: &[OffsetUpdate],
    quarantine: impl Iterator<Item = &'a Quarantined>,
) -> Result<(), sqlx::Error> {
    if !offsets.is_empty() {
        // Offsets only move forward: a consumer that lost its partition cannot pull it back.
        sqlx::query(
            "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int4[], $4::int8[])
             ON CONFLICT (group_id, topic, partition) DO UPDATE
             SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()",
        )
        .bind(offsets.iter().map(|o| o.group.clone()).collect::<Vec<_>>())
        .bind(offsets.iter().map(|o| o.topic.clone()).collect::<Vec<_>>())
        .bind(offsets.iter().map(|o| o.partition).collect::<Vec<_>>())
        .bind(offsets.iter().map(|o| o.next_offset).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    for q in quarantine {
        sqlx::query(
            "INSERT INTO quarantine (kafka_topic, kafka_partition, kafka_offset, message_key, message_value, headers, reason_code, reason)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)",
        )
        .bind(q.origin.as_ref().map(|o| o.topic.clone()))
        .bind(q.origin.as_ref().map(|o| o.partition))
        .bind(q.origin.as_ref().map(|o| o.offset))
        .bind(q.key.as_deref())
        .bind(&q.value)
        .bind(headers_json(&q.headers))
        .bind(&q.reason_code)
        .bind(&q.reason)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(e) if e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "23505"))
}

impl EventStore for PgStore {
    #[instrument(skip(self), err)]
    async fn migrate(&self) -> Result<(), StoreError> {
        // Other crates keep their own migrations in the same table (the projector's).
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        let mut tx = self.pool.begin().await?;
        for info in self.codec.catalog().schemas() {
            sqlx::query(
                "INSERT INTO schemas (fingerprint, schema_id, record_name, version, definition) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (fingerprint) DO NOTHING",
            )
            .bind(info.fingerprint as i64)
            .bind(info.id.map(|i| i as i32))
            .bind(info.kind.full_name())
            .bind(info.version as i32)
            .bind(info.json.as_ref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if let Ok(mut known) = self.known_schemas.lock() {
            known.extend(self.codec.catalog().schemas().map(|s| s.fingerprint));
        }
        self.check_commit_order().await
    }

    #[instrument(skip_all, fields(events = batch.events.len(), offsets = batch.offsets.len(), quarantine = batch.quarantine.len()), err)]
    async fn append(&self, batch: &AppendBatch) -> Result<AppendOutcome, StoreError> {
        let (unique, twins) = dedupe_in_batch(&batch.events);
        let mut results = vec![Appended::New; batch.events.len()];
        for (i, r) in &twins {
            results[*i] = *r;
        }
        match self.append_copy(batch, &unique, &mut results).await {
            Ok(()) => {
                self.remember_schemas(&batch.events);
                return Ok(AppendOutcome { results });
            }
            Err(e) if is_unique_violation(&e) => {
                debug!("a concurrent writer stored some of the batch; classifying them")
            }
            Err(e) => return Err(e),
        }
        self.append_checked(batch, &unique, &mut results).await?;
        self.remember_schemas(&batch.events);
        Ok(AppendOutcome { results })
    }

    #[instrument(skip(self), err, level = "debug")]
    async fn read_global(
        &self,
        after: Cursor,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        // Only rows of transactions older than every running one: their set is final,
        // so nothing can later commit behind the cursor.
        let sql = select_events!(
            "WHERE (txid, position) > ($1::text::xid8, $2) AND txid < pg_snapshot_xmin(pg_current_snapshot()) ",
            "ORDER BY txid, position LIMIT $3"
        );
        let rows = sqlx::query(sql)
            .bind(after.txid.to_string())
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
                    "WHERE supplier_id = $1 AND (occurred_at, position) < ($2, $3)
                       AND ($5::timestamptz IS NULL OR occurred_at >= $5) AND ($6::timestamptz IS NULL OR occurred_at < $6)
                       AND ($7::text IS NULL OR record_name = $7)
                     ORDER BY occurred_at DESC, position DESC LIMIT $4"
                ),
                SUPPLIER_END,
            )
        } else {
            (
                select_events!(
                    "WHERE supplier_id = $1 AND (occurred_at, position) > ($2, $3)
                       AND ($5::timestamptz IS NULL OR occurred_at >= $5) AND ($6::timestamptz IS NULL OR occurred_at < $6)
                       AND ($7::text IS NULL OR record_name = $7)
                     ORDER BY occurred_at, position LIMIT $4"
                ),
                SUPPLIER_START,
            )
        };
        let after = after.unwrap_or(start);
        let rows = sqlx::query(sql)
            .bind(supplier_id)
            .bind(ts(after.occurred_at))
            .bind(after.position)
            .bind(limit as i64)
            .bind(filter.occurred_from.map(ts))
            .bind(filter.occurred_before.map(ts))
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
        let rows = sqlx::query_as::<_, (i32, i64)>(
            "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 ORDER BY partition",
        )
        .bind(group)
        .bind(topic)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    async fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRow>, StoreError> {
        let rows = sqlx::query_as::<_, QuarantineDbRow>(
            "SELECT id, (extract(epoch FROM received_at) * 1000)::int8 AS received_at, kafka_topic, kafka_partition, kafka_offset,
                    message_key, message_value, headers::text AS headers, reason_code, reason
             FROM quarantine ORDER BY id LIMIT $1",
        )
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn stored_schemas(&self) -> Result<Vec<StoredSchema>, StoreError> {
        let rows = sqlx::query_as::<_, SchemaDbRow>(
            "SELECT fingerprint, schema_id::int8, record_name, version::int8, definition FROM schemas ORDER BY record_name, version",
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
