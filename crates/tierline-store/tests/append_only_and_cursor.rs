//! The database itself refuses to change history, and the PostgreSQL global cursor
//! never skips an event that commits late.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use sqlx::Row;
use tierline_store::*;

fn batch(events: Vec<NewEvent>) -> AppendBatch {
    AppendBatch {
        events,
        ..AppendBatch::default()
    }
}

#[tokio::test]
async fn postgres_refuses_update_delete_and_truncate() {
    let db = pg().await;
    db.store.append(&batch(events(3, 20))).await.unwrap();
    for sql in [
        "UPDATE events SET supplier_id = 'X'",
        "UPDATE events SET datum = '\\x00'::bytea WHERE position = 1",
        "DELETE FROM events WHERE position = 1",
        "DELETE FROM events",
        "TRUNCATE events",
        "TRUNCATE events CASCADE",
    ] {
        let err = sqlx::query(sql)
            .execute(db.store.pool())
            .await
            .expect_err(sql);
        assert!(
            err.to_string().contains("the event store is append-only"),
            "{sql}: {err}"
        );
    }
    assert_eq!(db.store.count().await.unwrap(), 3);
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn sqlite_refuses_update_and_delete() {
    let db = sqlite().await;
    db.store.append(&batch(events(3, 21))).await.unwrap();
    for sql in [
        "UPDATE events SET supplier_id = 'X'",
        "DELETE FROM events WHERE position = 1",
        "DELETE FROM events",
    ] {
        let err = sqlx::query(sql)
            .execute(db.store.pool())
            .await
            .expect_err(sql);
        assert!(
            err.to_string().contains("the event store is append-only"),
            "{sql}: {err}"
        );
    }
    assert_eq!(db.store.count().await.unwrap(), 3);
    db.cleanup().await;
}

/// Reads along the cursor until `n` events arrived. Other tests' open transactions
/// on the same server hold the cursor back for a while (xmin is cluster-wide), so
/// this waits rather than reading once.
async fn read_n(s: &PgStore, mut after: Cursor, n: usize) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while out.len() < n && tokio::time::Instant::now() < deadline {
        let page = s.read_global(after, 1000).await.unwrap();
        match page.last() {
            Some(last) => {
                after = last.cursor;
                out.extend(page);
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    out
}

/// Inserts one event in a transaction the test controls, as a slow appender would.
async fn insert_in(tx: &mut sqlx::PgConnection, e: &NewEvent) -> i64 {
    sqlx::query(
        "INSERT INTO events (source, event_id, supplier_id, record_name, occurred_at, schema_id, fingerprint, datum)
         VALUES ($1, $2, $3, $4, to_timestamp($5::float8 / 1000), $6, $7, $8) RETURNING position",
    )
    .bind(&e.source)
    .bind(e.event_id)
    .bind(&e.supplier_id)
    .bind(e.record_name())
    .bind(e.occurred_at.0 as f64)
    .bind(e.schema_id.map(|i| i as i32))
    .bind(e.fingerprint as i64)
    .bind(e.datum())
    .fetch_one(&mut *tx)
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn a_late_commit_is_never_skipped_by_the_global_cursor() {
    let db = pg().await;
    let s = &db.store;
    s.append(&batch(events(5, 30))).await.unwrap();
    let seen = read_n(s, Cursor::START, 5).await;
    assert_eq!(seen.len(), 5);
    let cursor = seen.last().unwrap().cursor;

    // A slow appender takes a position and holds its transaction open...
    let slow_event = events(1, 31).remove(0);
    let mut slow = s.pool().begin().await.unwrap();
    let slow_position = insert_in(&mut slow, &slow_event).await;
    // ...while a fast one commits events with higher positions.
    s.append(&batch(events(10, 32))).await.unwrap();
    let committed: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert!(committed > slow_position);

    // A reader by position alone would now read past the open transaction's position:
    let naive: Vec<i64> =
        sqlx::query_scalar("SELECT position FROM events WHERE position > $1 ORDER BY position")
            .bind(cursor.position)
            .fetch_all(s.pool())
            .await
            .unwrap();
    assert_eq!(
        naive.len(),
        10,
        "the hazard is real: committed rows past an uncommitted position"
    );
    // The global cursor holds back instead.
    assert!(s.read_global(cursor, 100).await.unwrap().is_empty());

    slow.commit().await.unwrap();
    let after = read_n(s, cursor, 11).await;
    assert_eq!(after.len(), 11);
    assert!(
        s.read_global(after[10].cursor, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        after[0].position, slow_position,
        "the late commit comes first: its transaction is older"
    );
    assert!(after.windows(2).all(|w| w[0].cursor < w[1].cursor));
    db.drop_db().await.unwrap();
}

#[tokio::test]
async fn an_aborted_appender_leaves_no_trace_and_blocks_nothing_after() {
    let db = pg().await;
    let s = &db.store;
    let mut slow = s.pool().begin().await.unwrap();
    insert_in(&mut slow, &events(1, 40).remove(0)).await;
    s.append(&batch(events(4, 41))).await.unwrap();
    assert!(s.read_global(Cursor::START, 100).await.unwrap().is_empty());
    slow.rollback().await.unwrap();
    assert_eq!(read_n(s, Cursor::START, 4).await.len(), 4);
    db.drop_db().await.unwrap();
}

/// Writers append concurrently (some transactions held open a while) while a reader
/// tails the cursor: the reader ends with every event exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appenders_and_a_tailing_reader() {
    const TOTAL: usize = 4 * 25 * 20;
    let db = pg().await;
    let store = Arc::new(db.store.clone());
    let mut writers = Vec::new();
    for w in 0..4u64 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for b in 0..25u64 {
                let evs = events(20, 1000 + w * 100 + b);
                if b % 5 == 0 {
                    // Hold an appending transaction open across other commits.
                    let mut tx = store.pool().begin().await.unwrap();
                    for e in &evs {
                        insert_in(&mut tx, e).await;
                    }
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    tx.commit().await.unwrap();
                } else {
                    store.append(&batch(evs)).await.unwrap();
                }
            }
        }));
    }
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut cursor = Cursor::START;
            let mut seen = Vec::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            // Until every event arrived (or time is up); then one more read must be empty.
            while seen.len() < TOTAL && tokio::time::Instant::now() < deadline {
                let page = store.read_global(cursor, 50).await.unwrap();
                match page.last() {
                    Some(last) => {
                        assert!(last.cursor > cursor);
                        cursor = last.cursor;
                        seen.extend(page.into_iter().map(|e| (e.source, e.event_id)));
                    }
                    None => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
            assert!(store.read_global(cursor, 50).await.unwrap().is_empty());
            seen
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "an event was read twice");
    assert_eq!(
        seen.len() as i64,
        store.count().await.unwrap(),
        "an event was skipped"
    );
    assert_eq!(seen.len(), TOTAL);
    db.drop_db().await.unwrap();
}

/// A COPY replay reads exactly what paging along the cursor reads (from the start and
/// from a middle cursor), holds back an open transaction's rows as the cursor does,
/// and reports where the cursor continues.
#[tokio::test]
async fn a_copy_replay_reads_what_the_cursor_reads() {
    let db = pg().await;
    let s = &db.store;
    for seed in 0..4 {
        s.append(&batch(events(700, 50 + seed))).await.unwrap();
    }
    let paged = read_n(s, Cursor::START, 2800).await;
    assert_eq!(paged.len(), 2800);
    let replay = |after: Cursor| async move {
        let mut got = Vec::new();
        let done = s
            .replay(
                after,
                None,
                |e: ReplayEvent<'_>| -> Result<(), StoreError> {
                    got.push((e.cursor, e.fingerprint, e.datum.to_vec()));
                    Ok(())
                },
            )
            .await
            .unwrap();
        got.sort_by_key(|(c, _, _)| *c);
        (done, got)
    };
    let expect = |from: usize| -> Vec<(Cursor, u64, Vec<u8>)> {
        paged[from..]
            .iter()
            .map(|e| (e.cursor, e.fingerprint, e.datum.clone()))
            .collect()
    };
    let (done, got) = replay(Cursor::START).await;
    assert_eq!(got, expect(0));
    assert_eq!(done.events, 2800);
    assert_eq!(done.last, paged[2799].cursor);
    let (done, got) = replay(paged[1000].cursor).await;
    assert_eq!(got, expect(1001));
    assert_eq!(done.last, paged[2799].cursor);
    let mut upto = 0;
    let done = s
        .replay(
            Cursor::START,
            Some(paged[1999].cursor),
            |_| -> Result<(), StoreError> {
                upto += 1;
                Ok(())
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (upto, done.events, done.last),
        (2000, 2000, paged[1999].cursor)
    );

    // An open transaction's row and every later commit wait, as on the cursor.
    let mut slow = s.pool().begin().await.unwrap();
    insert_in(&mut slow, &events(1, 60).remove(0)).await;
    s.append(&batch(events(5, 61))).await.unwrap();
    let (done, got) = replay(paged[2799].cursor).await;
    assert_eq!((done.events, got.len()), (0, 0));
    assert_eq!(
        done.last, paged[2799].cursor,
        "nothing read: the cursor stays"
    );
    slow.commit().await.unwrap();
    // Other tests' transactions on the same server can hold the horizon back a while.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut done = replay(paged[2799].cursor).await.0;
    while done.events < 6 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        done = replay(paged[2799].cursor).await.0;
    }
    assert_eq!(done.events, 6);
    assert!(s.read_global(done.last, 10).await.unwrap().is_empty());
    db.drop_db().await.unwrap();
}

/// A writer that stores some of a batch's events after the append looked for them and
/// before its COPY: the COPY waits on that writer's transaction, fails with a unique
/// violation once it commits, and the batch is classified on the slow path: every event
/// stored once, the raced ones reported as duplicates with their positions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_append_survives_a_racing_writer() {
    use sqlx::Connection;
    let db = pg().await;
    let evs = events(40, 31);
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut other = conn.begin().await.unwrap();
    tierline_store::testing::raw_copy(&mut other, "events", &pg_copy_rows(&evs[..10]))
        .await
        .unwrap();
    let store = db.store.clone();
    let b = batch(evs.clone());
    let append = tokio::spawn(async move { store.append(&b).await });
    // The append's COPY now waits for the uncommitted twins.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the append never waited on the other writer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    other.commit().await.unwrap();
    let out = append.await.unwrap().unwrap();
    assert_eq!((out.new_count(), out.duplicate_count()), (30, 10));
    assert!(
        out.results[..10]
            .iter()
            .all(|r| matches!(r, Appended::Duplicate { position: Some(_) }))
    );
    assert_eq!(db.store.count().await.unwrap(), 40);
    db.drop_db().await.unwrap();
}
