//! The quarantine's replay log: `tierline quarantine list|show|replay` reads the
//! quarantined messages page by page and records every replay with who ran it and what
//! became of the message (appended, duplicate, conflict, rejected again).

use tierline_events::Timestamp;

use crate::types::{QuarantineDbRow, QuarantineRow};
use crate::{Store, StoreError};

/// One replay of a quarantined message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// When.
    pub replayed_at: Timestamp,
    /// Who ran it.
    pub replayed_by: String,
    /// `appended`, `duplicate`, `conflict` or `rejected`.
    pub outcome: String,
    /// The reason of a rejection, or where the event is stored.
    pub detail: String,
}

/// Outcomes after which nothing is left to do: the message is in the event store (now
/// or before), or its key is stored with other content (the stored event stands).
const SETTLED: &str = "('appended', 'duplicate', 'conflict')";

const COLUMNS_PG: &str = "id, (extract(epoch FROM received_at) * 1000)::int8 AS received_at, kafka_topic, kafka_partition, kafka_offset,
    message_key, message_value, headers::text AS headers, reason_code, reason";
const COLUMNS_SQLITE: &str = "id, received_at, kafka_topic, kafka_partition, kafka_offset, message_key, message_value, headers, reason_code, reason";

impl Store {
    /// Quarantined messages with ids above `after`, oldest first, at most `limit`.
    pub async fn quarantine_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<QuarantineRow>, StoreError> {
        let rows: Vec<QuarantineDbRow> = match self {
            Store::Postgres(s) => {
                let sql = format!(
                    "SELECT {COLUMNS_PG} FROM quarantine WHERE id > $1 ORDER BY id LIMIT $2"
                );
                sqlx::query_as(&sql)
                    .bind(after)
                    .bind(limit as i64)
                    .fetch_all(s.pool())
                    .await?
            }
            Store::Sqlite(s) => {
                let sql = format!(
                    "SELECT {COLUMNS_SQLITE} FROM quarantine WHERE id > ?1 ORDER BY id LIMIT ?2"
                );
                sqlx::query_as(&sql)
                    .bind(after)
                    .bind(limit as i64)
                    .fetch_all(s.pool())
                    .await?
            }
        };
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// One quarantined message.
    pub async fn quarantine_row(&self, id: i64) -> Result<Option<QuarantineRow>, StoreError> {
        Ok(self
            .quarantine_after(id - 1, 1)
            .await?
            .into_iter()
            .find(|r| r.id == id))
    }

    /// The quarantined messages an earlier replay settled (see [`SETTLED`]).
    pub async fn settled_quarantine(&self) -> Result<std::collections::HashSet<i64>, StoreError> {
        let sql = format!(
            "SELECT DISTINCT quarantine_id FROM quarantine_replays WHERE outcome IN {SETTLED}"
        );
        let ids: Vec<i64> = match self {
            Store::Postgres(s) => sqlx::query_scalar(&sql).fetch_all(s.pool()).await?,
            Store::Sqlite(s) => sqlx::query_scalar(&sql).fetch_all(s.pool()).await?,
        };
        Ok(ids.into_iter().collect())
    }

    /// The replays of a quarantined message, oldest first.
    pub async fn replays(&self, id: i64) -> Result<Vec<Replay>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = match self {
            Store::Postgres(s) => {
                sqlx::query_as(
                    "SELECT (extract(epoch FROM replayed_at) * 1000)::int8, replayed_by, outcome, detail
                     FROM quarantine_replays WHERE quarantine_id = $1 ORDER BY replayed_at",
                )
                .bind(id)
                .fetch_all(s.pool())
                .await?
            }
            Store::Sqlite(s) => {
                sqlx::query_as(
                    "SELECT replayed_at, replayed_by, outcome, detail
                     FROM quarantine_replays WHERE quarantine_id = ?1 ORDER BY replayed_at, rowid",
                )
                .bind(id)
                .fetch_all(s.pool())
                .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(at, by, outcome, detail)| Replay {
                replayed_at: Timestamp(at),
                replayed_by: by,
                outcome,
                detail,
            })
            .collect())
    }

    /// Deletes the quarantined messages received before `before`, with their replay
    /// log (the retention of the quarantine). Returns how many messages went.
    pub async fn prune_quarantine(&self, before: Timestamp) -> Result<u64, StoreError> {
        let deleted = match self {
            Store::Postgres(s) => {
                let mut tx = s.pool().begin().await?;
                let cutoff = "to_timestamp($1::float8 / 1000)";
                sqlx::query(&format!(
                    "DELETE FROM quarantine_replays WHERE quarantine_id IN
                     (SELECT id FROM quarantine WHERE received_at < {cutoff})"
                ))
                .bind(before.0)
                .execute(&mut *tx)
                .await?;
                let n = sqlx::query(&format!(
                    "DELETE FROM quarantine WHERE received_at < {cutoff}"
                ))
                .bind(before.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                n
            }
            Store::Sqlite(s) => {
                let mut tx = s.pool().begin().await?;
                sqlx::query(
                    "DELETE FROM quarantine_replays WHERE quarantine_id IN
                     (SELECT id FROM quarantine WHERE received_at < ?1)",
                )
                .bind(before.0)
                .execute(&mut *tx)
                .await?;
                let n = sqlx::query("DELETE FROM quarantine WHERE received_at < ?1")
                    .bind(before.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                n
            }
        };
        Ok(deleted)
    }

    /// Records a replay of quarantined message `id`.
    pub async fn record_replay(
        &self,
        id: i64,
        by: &str,
        outcome: &str,
        detail: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        match self {
            Store::Postgres(s) => {
                sqlx::query(
                    "INSERT INTO quarantine_replays (quarantine_id, replayed_by, outcome, detail) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(by)
                .bind(outcome)
                .bind(detail)
                .execute(s.pool())
                .await?;
            }
            Store::Sqlite(s) => {
                sqlx::query(
                    "INSERT INTO quarantine_replays (quarantine_id, replayed_at, replayed_by, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .bind(id)
                .bind(at.0)
                .bind(by)
                .bind(outcome)
                .bind(detail)
                .execute(s.pool())
                .await?;
            }
        }
        Ok(())
    }
}
