//! The relay's side of the outbox: pending rows in order, marking them published.

use sqlx::Row;
use tierline_events::Timestamp;

use crate::column::{Instant, JsonText, pg_ts};
use crate::rows::PendingMessage;
use crate::{Projections, ProjectionsError};

type Result<T> = std::result::Result<T, ProjectionsError>;

impl Projections {
    /// Up to `limit` unpublished messages in outbox order.
    pub async fn pending_messages(&self, limit: usize) -> Result<Vec<PendingMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = "SELECT id, supplier_id, value, headers FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1";
        on_pool!(self, p => {
            let rows = sqlx::query(sql).bind(limit).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(PendingMessage {
                    id: r.try_get("id")?,
                    supplier_id: r.try_get("supplier_id")?,
                    value: r.try_get("value")?,
                    headers: r.try_get::<JsonText, _>("headers")?.0,
                });
            }
            Ok(out)
        })
    }

    /// Marks messages published at `at`.
    pub async fn mark_published(&self, ids: &[i64], at: Timestamp) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        match self {
            // One statement for the batch on PostgreSQL; SQLite is in-process.
            Projections::Postgres(p) => {
                sqlx::query("UPDATE outbox SET published_at = $2 WHERE id = ANY($1)")
                    .bind(ids)
                    .bind(pg_ts(at))
                    .execute(p)
                    .await?;
            }
            Projections::Sqlite(p) => {
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                for id in ids {
                    sqlx::query("UPDATE outbox SET published_at = $2 WHERE id = $1")
                        .bind(id)
                        .bind(Instant(at))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Messages not yet published.
    pub async fn pending_count(&self) -> Result<i64> {
        let sql = "SELECT count(*) FROM outbox WHERE published_at IS NULL";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await?))
    }
}
