//! Restoring a `pg_dump` into a fresh cluster: the restored events carry the old
//! cluster's transaction ids, above the new cluster's, so reading in commit order would
//! hide all of them. Tierline refuses to run with the fix in its message; after the fix
//! (`pg_resetwal -x`), an event appended to the restored store and everything restored
//! are projected, and the projections answer. Timings of the drill are printed.
//!
//! Needs the PostgreSQL server binaries (scripts/ensure-postgres installs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod e2e_world;

use std::sync::Arc;
use std::time::Instant;

use e2e_world::PrivatePg;
use tierline_clock::FixedClock;
use tierline_events::{Codec, Record, Timestamp};
use tierline_projections::Projections;
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::{EventStore, PgStore, Store, StoreError};

fn inspection(n: u128, day: u32, defective: f64) -> Record {
    common::june_inspection("SUP-R", n, day, defective)
}

async fn append(store: &PgStore, records: &[Record]) {
    common::append_pg(store, records).await;
}

fn run(mut cmd: std::process::Command, what: &str) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_store_is_refused_until_the_cluster_is_past_its_transactions() {
    let dir = std::env::temp_dir().join(format!("tierline-restore-{}", common::free_port()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();

    // The old cluster: it has used a few thousand transaction ids, then stores a month
    // of inspections (one bad day raises an alert).
    let a = PrivatePg::new(&dir.join("a")).await;
    for _ in 0..3_000 {
        sqlx::query("SELECT pg_current_xact_id()")
            .execute(a.store.pool())
            .await
            .unwrap();
    }
    let records: Vec<Record> = (1..=28)
        .map(|d| inspection(u128::from(d), d, if d == 20 { 40.0 } else { 0.0 }))
        .collect();
    for chunk in records.chunks(7) {
        append(&a.store, chunk).await;
    }
    let dump = dir.join("tierline.sql");
    let started = Instant::now();
    let mut pg_dump = std::process::Command::new(a.bin.join("pg_dump"));
    pg_dump
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &a.port.to_string(),
            "-U",
            "postgres",
            "-f",
        ])
        .arg(&dump)
        .arg("postgres");
    run(pg_dump, "pg_dump");
    let dumped = started.elapsed();
    a.stop();

    // The new cluster: fresh, its transaction ids far below the old one's.
    let b = PrivatePg::new(&dir.join("b")).await;
    sqlx::query("CREATE DATABASE restored")
        .execute(b.store.pool())
        .await
        .unwrap();
    let started = Instant::now();
    let mut psql = std::process::Command::new(b.bin.join("psql"));
    psql.args([
        "-h",
        "127.0.0.1",
        "-p",
        &b.port.to_string(),
        "-U",
        "postgres",
        "-q",
    ])
    .args(["-v", "ON_ERROR_STOP=1", "-d", "restored", "-f"])
    .arg(&dump);
    run(psql, "restore");
    let restored = started.elapsed();
    let url = format!("postgres://postgres@127.0.0.1:{}/restored", b.port);

    // Tierline refuses it, and says how to fix it.
    let err = Store::connect(&url, Codec::default())
        .await
        .unwrap()
        .migrate()
        .await
        .unwrap_err();
    let StoreError::CommitOrderBehind { stored, next, fix } = &err else {
        panic!("{err}")
    };
    assert!(stored >= next && fix > stored, "{err}");
    assert!(
        err.to_string().contains(&format!("pg_resetwal -x {fix}")),
        "{err}"
    );

    // The fix: advance the new cluster's transaction counter past the restored ids.
    let started = Instant::now();
    b.stop();
    let mut reset = PrivatePg::as_postgres(&b.bin, "pg_resetwal");
    reset.arg("-x").arg(fix.to_string()).arg("-D").arg(&b.data);
    run(reset, "pg_resetwal");
    b.start();
    let fixed = started.elapsed();

    // Now it runs: a new event joins the restored ones, and everything is projected.
    let store = Store::connect(&url, Codec::default()).await.unwrap();
    store.migrate().await.unwrap();
    let Store::Postgres(pg) = &store else {
        panic!()
    };
    append(pg, &[inspection(29, 29, 0.0)]).await;
    let clock = FixedClock(Timestamp::parse_rfc3339("2026-06-30T12:00:00Z").unwrap());
    let started = Instant::now();
    let mut projector = Projector::open(
        store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    assert_eq!(projector.catch_up(&clock, 1000).await.unwrap(), 29);
    let projected = started.elapsed();
    let projections = Projections::of(&store);
    assert!(
        projections.pending_count().await.unwrap() > 0,
        "the bad day's alert is in the outbox"
    );
    eprintln!(
        "restore drill: pg_dump {dumped:?}, restore {restored:?}, pg_resetwal and restart {fixed:?}, projection of 29 events {projected:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
