//! Waking readers when events are appended, instead of polling: on PostgreSQL the append
//! transaction sends `NOTIFY tierline_events` (delivered when it commits); on SQLite an
//! in-process signal shared by the clones of one opened store (the services of one
//! process). A reader still reads after its timeout, so a lost notification, or another
//! process appending to the same SQLite file, costs at most the polling interval.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tracing::warn;

use crate::Store;

/// The channel the append transaction notifies on PostgreSQL.
pub const EVENTS_CHANNEL: &str = "tierline_events";

/// A subscription to a wake-up signal: appended events, or (see
/// [`Changes::listen`]) any PostgreSQL channel.
#[derive(Debug)]
pub enum Changes {
    /// PostgreSQL `LISTEN` (none if it could not be set up or broke: polling only).
    Postgres(Option<PgListener>),
    /// An in-process signal.
    Local(watch::Receiver<u64>),
    /// Nothing to wait for but the timeout.
    Poll,
}

impl Changes {
    /// Listens on a PostgreSQL channel; on failure, polling only (logged once).
    pub async fn listen(pool: &sqlx::PgPool, channel: &str) -> Changes {
        let listener = async {
            let mut l = PgListener::connect_with(pool).await?;
            l.listen(channel).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        match listener {
            Ok(l) => Changes::Postgres(Some(l)),
            Err(e) => {
                warn!(error = %e, channel, "cannot listen for notifications; polling");
                Changes::Postgres(None)
            }
        }
    }

    /// Returns `true` when signalled, `false` after `limit` without a signal.
    pub async fn wait(&mut self, limit: Duration) -> bool {
        let woken = async {
            match self {
                Changes::Postgres(Some(l)) => {
                    if let Err(e) = l.recv().await {
                        warn!(error = %e, "listening for notifications failed; polling from now on");
                        *self = Changes::Postgres(None);
                        std::future::pending::<()>().await;
                    }
                }
                Changes::Local(rx) => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                Changes::Postgres(None) | Changes::Poll => std::future::pending::<()>().await,
            }
        };
        tokio::time::timeout(limit, woken).await.is_ok()
    }
}

impl Store {
    /// A subscription to events appended from now on.
    pub async fn changes(&self) -> Changes {
        match self {
            Store::Postgres(pg) => Changes::listen(pg.pool(), EVENTS_CHANNEL).await,
            Store::Sqlite(s) => Changes::Local(s.appended()),
        }
    }

    /// SQLite: a signal bumped after each projection commit of this process (see
    /// [`Store::signal_projected`]). PostgreSQL: none (readers listen to the read model's
    /// channel instead).
    pub fn projection_commits(&self) -> Option<watch::Receiver<u64>> {
        match self {
            Store::Postgres(_) => None,
            Store::Sqlite(s) => Some(s.projected.subscribe()),
        }
    }

    /// Tells this process's readers of the read model that a projection committed
    /// (SQLite; on PostgreSQL the commit's `NOTIFY` does).
    pub fn signal_projected(&self) {
        if let Store::Sqlite(s) = self {
            s.projected.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}
