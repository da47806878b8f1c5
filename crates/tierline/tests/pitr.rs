//! Point-in-time recovery, rehearsed: a cluster archives its WAL (`archive_command`), a
//! base backup is taken (`pg_basebackup`), a month of events is stored, then a bad
//! import lands. The base backup is restored and the WAL replayed up to the instant
//! before the import (`recovery_target_time`); Tierline starts on it (the transaction
//! ids are the cluster's own: no refusal), holds exactly the events before the accident,
//! appends, and the projector takes everything. The drill's timings are printed.
//!
//! Needs the PostgreSQL server binaries (scripts/ensure-postgres installs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod e2e_world;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_world::PrivatePg;
use tierline_clock::FixedClock;
use tierline_events::{Codec, Record, Timestamp};
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::{EventStore, PgStore, Store};

fn inspection(n: u128, day: u32, defective: f64) -> Record {
    common::june_inspection("SUP-P", n, day, defective)
}

async fn append(store: &PgStore, records: &[Record]) {
    common::append_pg(store, records).await;
}

/// Runs a PostgreSQL tool as the postgres user.
fn tool(bin: &Path, name: &str, args: &[&str]) {
    let out = PrivatePg::as_postgres(bin, name)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn count(store: &PgStore) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_backup_and_the_archived_wal_recover_the_store_to_an_instant() {
    let dir = std::env::temp_dir().join(format!("tierline-pitr-{}", common::free_port()));
    let archive = dir.join("archive");
    for d in ["a", "b", "archive"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let _ = std::process::Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(&dir)
        .status();

    // The production cluster, archiving every WAL segment.
    let a = PrivatePg::new(&dir.join("a")).await;
    for setting in [
        "ALTER SYSTEM SET archive_mode = 'on'".to_owned(),
        format!(
            "ALTER SYSTEM SET archive_command = 'cp %p {}/%f'",
            archive.display()
        ),
    ] {
        sqlx::query(&setting).execute(a.store.pool()).await.unwrap();
    }
    a.store.pool().close().await;
    a.stop();
    a.start();
    let store = PgStore::connect(&a.url, Codec::default()).await.unwrap();

    // The nightly base backup.
    let base = dir.join("b").join("pg");
    let started = Instant::now();
    tool(
        &a.bin,
        "pg_basebackup",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &a.port.to_string(),
            "-U",
            "postgres",
            "-D",
            base.to_str().unwrap(),
            "-c",
            "fast",
        ],
    );
    let backed_up = started.elapsed();

    // A month of inspections during the day (one bad day raises an alert)...
    let good: Vec<Record> = (1..=28)
        .map(|d| inspection(u128::from(d), d, if d == 20 { 40.0 } else { 0.0 }))
        .collect();
    for chunk in good.chunks(7) {
        append(&store, chunk).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let target: String = sqlx::query_scalar("SELECT now()::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // ...then a bad import: 500 inspections from the wrong plant.
    let bad: Vec<Record> = (1000..1500).map(|n| inspection(n, 27, 99.0)).collect();
    append(&store, &bad).await;
    assert_eq!(count(&store).await, 528);
    // The segment holding all of it reaches the archive (as archive_timeout would).
    let segment: String = sqlx::query_scalar("SELECT pg_walfile_name(pg_switch_wal())")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !archive.join(&segment).exists() {
        assert!(Instant::now() < deadline, "{segment} was not archived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.pool().close().await;
    a.stop();

    // Recovery: the base backup, replayed up to the instant before the import.
    let started = Instant::now();
    let port = common::free_port();
    let conf = format!(
        "archive_mode = 'off'\nrestore_command = 'cp {}/%f %p'\nrecovery_target_time = '{target}'\nrecovery_target_action = 'promote'\n",
        archive.display()
    );
    let auto = base.join("postgresql.auto.conf");
    let mut text = std::fs::read_to_string(&auto).unwrap_or_default();
    text.push_str(&conf);
    std::fs::write(&auto, text).unwrap();
    std::fs::write(base.join("recovery.signal"), "").unwrap();
    let _ = std::process::Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(&base)
        .status();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let b = PrivatePg {
        bin: a.bin.clone(),
        data: base.clone(),
        port,
        url: url.clone(),
        store: PgStore::from_pool(sqlx::PgPool::connect_lazy(&url).unwrap(), Codec::default()),
    };
    b.start();
    let restored = PgStore::connect(&url, Codec::default()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sqlx::query_scalar::<_, bool>("SELECT pg_is_in_recovery()")
        .fetch_one(restored.pool())
        .await
        .unwrap()
    {
        assert!(Instant::now() < deadline, "recovery did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = started.elapsed();

    // Tierline starts on it: the month is there, the import is not.
    restored.migrate().await.unwrap();
    assert_eq!(count(&restored).await, 28, "recovered to {target}");
    append(&restored, &[inspection(29, 28, 0.0)]).await;
    let store = Store::Postgres(restored.clone());
    let started = Instant::now();
    let mut p = Projector::open(
        store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    let clock = FixedClock(Timestamp::parse_rfc3339("2026-06-28T12:00:00Z").unwrap());
    assert_eq!(p.catch_up(&clock, 1000).await.unwrap(), 29);
    let projected = started.elapsed();
    let alerts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM alert_episodes WHERE supplier_id = 'SUP-P'")
            .fetch_one(restored.pool())
            .await
            .unwrap();
    assert!(alerts > 0, "the bad day's alert");
    p.release().await;
    restored.pool().close().await;
    b.stop();
    eprintln!(
        "point-in-time recovery drill: base backup {:.0} ms, restore and WAL replay to the target {:.0} ms, projection {:.0} ms",
        backed_up.as_secs_f64() * 1000.0,
        recovered.as_secs_f64() * 1000.0,
        projected.as_secs_f64() * 1000.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
