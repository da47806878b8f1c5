//! Test support shared by the crates that test against a real store: a fresh
//! PostgreSQL database per test on the real server, and a fresh SQLite file.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{Connection, Executor, PgConnection};
use tierline_events::Codec;

use crate::{EventStore, PgStore, SqliteStore, StoreError};

/// Admin URL of the test server: `TIERLINE_TEST_PG`, default the local one.
pub fn admin_url() -> String {
    std::env::var("TIERLINE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

static N: AtomicUsize = AtomicUsize::new(0);

/// A name no other test uses.
pub fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh, migrated PostgreSQL database; [`PgTest::drop_db`] removes it.
#[derive(Debug)]
pub struct PgTest {
    /// The store on it.
    pub store: PgStore,
    /// Database name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

/// Creates and migrates a fresh database on the test server.
pub async fn pg() -> Result<PgTest, StoreError> {
    let name = unique_name("tierline_test");
    let admin = admin_url();
    let mut conn = PgConnection::connect(&admin).await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin);
    let url = format!("{base}/{name}");
    let store = PgStore::connect(&url, Codec::default()).await?;
    store.migrate().await?;
    Ok(PgTest { store, name, url })
}

impl PgTest {
    /// Drops the database.
    pub async fn drop_db(self) -> Result<(), StoreError> {
        self.store.pool().close().await;
        let mut conn = PgConnection::connect(&admin_url()).await?;
        conn.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await?;
        Ok(())
    }
}

/// A fresh, migrated SQLite store in a temporary directory.
#[derive(Debug)]
pub struct SqliteTest {
    /// The store.
    pub store: SqliteStore,
    /// Its directory.
    pub dir: std::path::PathBuf,
}

/// Creates and migrates a fresh SQLite store.
pub async fn sqlite() -> Result<SqliteTest, StoreError> {
    let dir = std::env::temp_dir().join(unique_name("tierline-sqlite"));
    std::fs::create_dir_all(&dir).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let url = format!("sqlite://{}", dir.join("events.db").display());
    let store = SqliteStore::open(&url, Codec::default()).await?;
    store.migrate().await?;
    Ok(SqliteTest { store, dir })
}

impl SqliteTest {
    /// Closes and removes it.
    pub async fn cleanup(self) {
        self.store.pool().close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The benches' raw-COPY baseline: one transaction that copies binary COPY rows (from
/// [`crate::pg_copy_rows`]) into `table`, a table made identical to `events` (`CREATE
/// TABLE … (LIKE events INCLUDING ALL)`: same columns, defaults, indexes and unique key,
/// no trigger, no foreign key).
pub async fn raw_copy(conn: &mut PgConnection, table: &str, rows: &[u8]) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary)",
            crate::PG_COPY_COLUMNS
        ))
        .await?;
    copy.send(rows).await?;
    copy.finish().await?;
    tx.commit().await?;
    Ok(())
}

/// The store backends, for tests that run on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh database on the test server.
    Postgres,
    /// A fresh SQLite file.
    Sqlite,
}

impl Backend {
    /// Both.
    pub const ALL: [Backend; 2] = [Backend::Postgres, Backend::Sqlite];
}

#[derive(Debug)]
enum Fresh {
    Postgres(PgTest),
    Sqlite(SqliteTest),
}

/// A fresh, migrated store on either backend; [`TestStore::cleanup`] removes it.
#[derive(Debug)]
pub struct TestStore {
    /// The store.
    pub store: crate::Store,
    /// Its URL.
    pub url: String,
    fresh: Fresh,
}

/// Creates and migrates a fresh store on `backend`.
pub async fn fresh(backend: Backend) -> Result<TestStore, StoreError> {
    Ok(match backend {
        Backend::Postgres => {
            let t = pg().await?;
            TestStore {
                store: crate::Store::Postgres(t.store.clone()),
                url: t.url.clone(),
                fresh: Fresh::Postgres(t),
            }
        }
        Backend::Sqlite => {
            let t = sqlite().await?;
            TestStore {
                store: crate::Store::Sqlite(t.store.clone()),
                url: format!("sqlite://{}", t.dir.join("events.db").display()),
                fresh: Fresh::Sqlite(t),
            }
        }
    })
}

impl TestStore {
    /// Removes the database.
    pub async fn cleanup(self) {
        match self.fresh {
            Fresh::Postgres(t) => {
                let _ = t.drop_db().await;
            }
            Fresh::Sqlite(t) => t.cleanup().await,
        }
    }
}

/// Runs an `async fn(Backend)` test once per store backend: `on_both_backends!(name);`
/// next to `async fn name(backend: Backend)` makes `name::on_postgres` and
/// `name::on_sqlite` (multi-threaded Tokio tests).
#[macro_export]
macro_rules! on_both_backends {
    ($test:ident) => {
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                super::$test($crate::testing::Backend::Postgres).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$test($crate::testing::Backend::Sqlite).await;
            }
        }
    };
}
