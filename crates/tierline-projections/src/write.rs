//! The projector's writes, in one transaction per step: what it reads back of the
//! publication state, a page's rows ([`PageRows`]: PostgreSQL takes each table's rows as
//! arrays in one statement, SQLite, in the same process, one prepared statement per
//! row), a rebuild's bulk rows (binary COPY on PostgreSQL), and the checkpoint.

use std::collections::{HashMap, HashSet};

use sqlx::{Postgres, Sqlite, Transaction};
use tierline_events::Timestamp;
use uuid::Uuid;

use crate::column::{Day, Instant};
use crate::read::{EPISODE_COLUMNS, episode};
use crate::rows::{Checkpoint, EpisodeRow, Publication, PublishedState};
use crate::{PROJECTIONS_CHANNEL, ProjectionsError};

mod arrays;
mod bulk;
mod page;

pub use bulk::BulkRows;
pub use page::PageRows;

type Result<T> = std::result::Result<T, ProjectionsError>;

/// A projector step's transaction.
#[derive(Debug)]
pub enum WriteTx {
    /// On PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
    /// On SQLite.
    Sqlite(Transaction<'static, Sqlite>),
}

/// Runs `$body` with `$c` bound to the transaction's connection, whichever the backend
/// (the body is compiled once per backend).
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            WriteTx::Postgres(tx) => {
                let $c = &mut **tx;
                $body
            }
            WriteTx::Sqlite(tx) => {
                let $c = &mut **tx;
                $body
            }
        }
    };
}

impl WriteTx {
    /// The stored episodes of `suppliers`.
    pub async fn episodes_of(&mut self, suppliers: &[&str]) -> Result<Vec<EpisodeRow>> {
        use sqlx::Row;
        let mut out = Vec::new();
        match self {
            WriteTx::Postgres(tx) => {
                let sql = format!(
                    "SELECT {EPISODE_COLUMNS} FROM alert_episodes WHERE supplier_id = ANY($1)"
                );
                for r in sqlx::query(&sql)
                    .bind(suppliers)
                    .fetch_all(&mut **tx)
                    .await?
                {
                    out.push(episode!(&r));
                }
            }
            WriteTx::Sqlite(tx) => {
                let sql =
                    format!("SELECT {EPISODE_COLUMNS} FROM alert_episodes WHERE supplier_id = $1");
                for s in suppliers {
                    for r in sqlx::query(&sql).bind(s).fetch_all(&mut **tx).await? {
                        out.push(episode!(&r));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The tier last published for each of `suppliers` that has one.
    pub async fn published_tiers_of(
        &mut self,
        suppliers: &[&str],
    ) -> Result<HashMap<String, String>> {
        let sql = "SELECT supplier_id, tier FROM published_tiers WHERE supplier_id = ";
        Ok(match self {
            WriteTx::Postgres(tx) => sqlx::query_as(&format!("{sql} ANY($1)"))
                .bind(suppliers)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .collect(),
            WriteTx::Sqlite(tx) => {
                let mut out = HashMap::new();
                for s in suppliers {
                    let row: Option<(String, String)> = sqlx::query_as(&format!("{sql} $1"))
                        .bind(s)
                        .fetch_optional(&mut **tx)
                        .await?;
                    out.extend(row);
                }
                out
            }
        })
    }

    /// What was last published about each subject of `suppliers`.
    pub async fn published_states_of(
        &mut self,
        suppliers: &[&str],
    ) -> Result<HashMap<String, Vec<PublishedState>>> {
        let sql = "SELECT supplier_id, subject, state, announced FROM published_states WHERE supplier_id = ";
        let mut rows: Vec<(String, String, String, i32)> = Vec::new();
        match self {
            WriteTx::Postgres(tx) => {
                rows = sqlx::query_as(&format!("{sql} ANY($1)"))
                    .bind(suppliers)
                    .fetch_all(&mut **tx)
                    .await?;
            }
            WriteTx::Sqlite(tx) => {
                for s in suppliers {
                    rows.extend(
                        sqlx::query_as::<_, (String, String, String, i32)>(&format!("{sql} $1"))
                            .bind(s)
                            .fetch_all(&mut **tx)
                            .await?,
                    );
                }
            }
        }
        let mut out: HashMap<String, Vec<PublishedState>> = HashMap::new();
        for (supplier_id, subject, state, announced) in rows {
            out.entry(supplier_id.clone())
                .or_default()
                .push(PublishedState {
                    supplier_id,
                    subject,
                    state,
                    announced,
                });
        }
        Ok(out)
    }

    /// Which of `ids` the outbox already holds.
    pub async fn taken_messages(&mut self, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
        let mut out = HashSet::new();
        match self {
            WriteTx::Postgres(tx) => {
                out.extend(
                    sqlx::query_scalar::<_, Uuid>(
                        "SELECT message_id FROM outbox WHERE message_id = ANY($1)",
                    )
                    .bind(ids)
                    .fetch_all(&mut **tx)
                    .await?,
                );
            }
            WriteTx::Sqlite(tx) => {
                for id in ids {
                    let taken: bool = sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM outbox WHERE message_id = $1)",
                    )
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?;
                    if taken {
                        out.insert(*id);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Saves a projector's checkpoint (at `now`). On PostgreSQL, readers caching
    /// projections drop their caches when this transaction commits.
    pub async fn save_checkpoint(
        &mut self,
        name: &str,
        c: &Checkpoint,
        now: Timestamp,
    ) -> Result<()> {
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO projection_checkpoint (name, txid, position, projected_day, policy_version, policy_digest, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, position = excluded.position,
                     projected_day = excluded.projected_day, policy_version = excluded.policy_version,
                     policy_digest = excluded.policy_digest, updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(c.cursor.txid as i64)
            .bind(c.cursor.position)
            .bind(c.projected_day.map(Day))
            .bind(&c.policy_version)
            .bind(&c.policy_digest)
            .bind(Instant(now))
            .execute(conn)
            .await?;
        });
        self.notify().await
    }

    /// Empties the projections (publication state stays, so history is never
    /// re-announced) and drops `name`'s checkpoint.
    pub async fn reset(&mut self, name: &str) -> Result<()> {
        for sql in [
            "DELETE FROM indicator_daily",
            "DELETE FROM scorecards",
            "DELETE FROM tier_history",
            "DELETE FROM supplier_standing",
            "DELETE FROM alert_episodes WHERE published_state IS NULL",
            "DELETE FROM source_days",
        ] {
            on_tx!(self, c => {
                sqlx::query(sql).execute(c).await?;
            });
        }
        on_tx!(self, c => {
            sqlx::query("DELETE FROM projection_checkpoint WHERE name = $1")
                .bind(name)
                .execute(c)
                .await?;
        });
        self.notify().await
    }

    /// PostgreSQL: `NOTIFY` the projections channel on commit (SQLite readers cache
    /// nothing).
    async fn notify(&mut self) -> Result<()> {
        if let WriteTx::Postgres(tx) = self {
            sqlx::query(&format!("NOTIFY {PROJECTIONS_CHANNEL}"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => tx.commit().await?,
            WriteTx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
