//! Waking readers when events are appended, instead of polling: on PostgreSQL the append
//! transaction sends `NOTIFY tierline_events` (delivered when it commits); on SQLite an
//! in-process signal shared by the clones of one opened store (the services of one
//! process). A reader still reads after waking or after its timeout, so a lost
//! notification, or another process appending to the same SQLite file, costs at most
//! the polling interval.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tracing::warn;

use crate::Store;

/// The channel the append transaction notifies on PostgreSQL.
pub const EVENTS_CHANNEL: &str = "tierline_events";

/// A subscription to appended events.
#[derive(Debug)]
pub enum Changes {
    /// PostgreSQL `LISTEN` (none if it could not be set up: polling only).
    Postgres(Option<PgListener>),
    /// The store's in-process signal.
    Sqlite(watch::Receiver<u64>),
}

impl Changes {
    /// Returns when events were appended, or after `limit`.
    pub async fn wait(&mut self, limit: Duration) {
        let woken = async {
            match self {
                Changes::Postgres(Some(l)) => {
                    if let Err(e) = l.recv().await {
                        warn!(error = %e, "listening for appended events failed; polling");
                        std::future::pending::<()>().await;
                    }
                }
                Changes::Postgres(None) => std::future::pending::<()>().await,
                Changes::Sqlite(rx) => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(limit, woken).await;
    }
}

impl Store {
    /// A subscription to events appended from now on.
    pub async fn changes(&self) -> Changes {
        match self {
            Store::Postgres(pg) => {
                let listener = async {
                    let mut l = PgListener::connect_with(pg.pool()).await?;
                    l.listen(EVENTS_CHANNEL).await?;
                    Ok::<_, sqlx::Error>(l)
                }
                .await;
                match listener {
                    Ok(l) => Changes::Postgres(Some(l)),
                    Err(e) => {
                        warn!(error = %e, "cannot listen for appended events; polling");
                        Changes::Postgres(None)
                    }
                }
            }
            Store::Sqlite(s) => Changes::Sqlite(s.appended()),
        }
    }
}
