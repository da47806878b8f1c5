//! Test databases: a fresh PostgreSQL database per test on the real server, and a
//! fresh SQLite file.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{Connection, Executor, PgConnection};
use tierline_events::{Codec, Framing, sample};
use tierline_store::*;

/// Admin URL of the test server: `TIERLINE_TEST_PG`, default the local one.
pub fn admin_url() -> String {
    std::env::var("TIERLINE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

static N: AtomicUsize = AtomicUsize::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh, migrated PostgreSQL database, dropped by [`PgTest::drop_db`].
pub struct PgTest {
    pub store: PgStore,
    pub name: String,
    pub url: String,
}

pub async fn pg() -> PgTest {
    let name = unique_name("tierline_test");
    let admin = admin_url();
    let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is needed at {admin} (set TIERLINE_TEST_PG; scripts/test starts it): {e}"
        )
    });
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("admin URL needs a database"),
    };
    let store = PgStore::connect(&url, Codec::default()).await.unwrap();
    store.migrate().await.unwrap();
    PgTest { store, name, url }
}

impl PgTest {
    pub async fn drop_db(self) {
        self.store.pool().close().await;
        let mut conn = PgConnection::connect(&admin_url()).await.unwrap();
        conn.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await
            .unwrap();
    }
}

/// A fresh, migrated SQLite store in a temporary file.
pub struct SqliteTest {
    pub store: SqliteStore,
    pub dir: std::path::PathBuf,
}

pub async fn sqlite() -> SqliteTest {
    let dir = std::env::temp_dir().join(unique_name("tierline-sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("events.db").display());
    let store = SqliteStore::open(&url, Codec::default()).await.unwrap();
    store.migrate().await.unwrap();
    SqliteTest { store, dir }
}

impl SqliteTest {
    pub async fn cleanup(self) {
        self.store.pool().close().await;
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// `n` valid inbound events of the realistic mix, as ingest would build them.
pub fn events(n: usize, seed: u64) -> Vec<NewEvent> {
    let codec = Codec::default();
    sample::mix(n, seed)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let framing = if i % 3 == 0 {
                Framing::SingleObject
            } else {
                Framing::Confluent
            };
            let bytes = codec.to_bytes(&r, framing).unwrap();
            let decoded = codec.decode(&bytes).unwrap();
            NewEvent::from_decoded(decoded, bytes)
                .unwrap()
                .with_message(
                    KafkaOrigin {
                        topic: "srm.test.v1".into(),
                        partition: (i % 3) as i32,
                        offset: i as i64,
                    },
                    Some(r.supplier_id().as_bytes().to_vec()),
                    vec![("ce_source".into(), Some(b"test".to_vec()))],
                )
        })
        .collect()
}
