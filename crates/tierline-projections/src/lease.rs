//! One projector per name at a time. A projector holds a lease on its name, renews it
//! while it runs, and fences every commit with it: a step commits only while its
//! projector still holds the lease, so a projector that lost it (stalled past the
//! lease, or another took over) can never write alongside the new holder. Shards of a
//! later projector each hold their own name's lease.

use std::time::Duration;

use crate::write::WriteTx;
use crate::{Projections, ProjectionsError};

type Result<T> = std::result::Result<T, ProjectionsError>;

/// Who holds which lease, for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The projector's name (the checkpoint's key).
    pub name: String,
    /// This process's unique holder id.
    pub holder: String,
    /// How long a lease lasts unless renewed: the takeover time after a crash.
    pub ttl: Duration,
}

fn ttl_ms(l: &Lease) -> i64 {
    i64::try_from(l.ttl.as_millis()).unwrap_or(i64::MAX)
}

impl Projections {
    /// Takes the lease if free or expired, renews it if held by `lease.holder`;
    /// returns whether it is held now.
    pub async fn acquire_lease(&self, lease: &Lease) -> Result<bool> {
        Ok(match self {
            Projections::Postgres(p) => sqlx::query_scalar::<_, String>(
                "INSERT INTO projector_lease (name, holder, expires_at)
                 VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
                 ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                 WHERE projector_lease.holder = EXCLUDED.holder OR projector_lease.expires_at < clock_timestamp()
                 RETURNING holder",
            )
            .bind(&lease.name)
            .bind(&lease.holder)
            .bind(ttl_ms(lease) as f64)
            .fetch_optional(p)
            .await?
            .is_some(),
            // One machine: the process clock is the database's.
            Projections::Sqlite(p) => {
                let now = chrono::Utc::now().timestamp_millis();
                sqlx::query_scalar::<_, String>(
                    "INSERT INTO projector_lease (name, holder, expires_at) VALUES ($1, $2, $3 + $4)
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                     WHERE projector_lease.holder = excluded.holder OR projector_lease.expires_at < $3
                     RETURNING holder",
                )
                .bind(&lease.name)
                .bind(&lease.holder)
                .bind(now)
                .bind(ttl_ms(lease))
                .fetch_optional(p)
                .await?
                .is_some()
            }
        })
    }

    /// Gives the lease up (on a clean stop), so a standby takes over at once.
    pub async fn release_lease(&self, lease: &Lease) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM projector_lease WHERE name = $1 AND holder = $2")
                .bind(&lease.name)
                .bind(&lease.holder)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}

impl WriteTx {
    /// Renews the lease inside the step's transaction; false if another holds it now
    /// (the step must not commit). On PostgreSQL the row stays locked until commit, so
    /// no takeover can slip in between.
    pub async fn fence(&mut self, lease: &Lease) -> Result<bool> {
        let n = match self {
            WriteTx::Postgres(tx) => sqlx::query(
                "UPDATE projector_lease SET expires_at = clock_timestamp() + $3 * interval '1 millisecond'
                 WHERE name = $1 AND holder = $2",
            )
            .bind(&lease.name)
            .bind(&lease.holder)
            .bind(ttl_ms(lease) as f64)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
            WriteTx::Sqlite(tx) => sqlx::query(
                "UPDATE projector_lease SET expires_at = $3 WHERE name = $1 AND holder = $2",
            )
            .bind(&lease.name)
            .bind(&lease.holder)
            .bind(chrono::Utc::now().timestamp_millis() + ttl_ms(lease))
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        };
        Ok(n == 1)
    }
}
