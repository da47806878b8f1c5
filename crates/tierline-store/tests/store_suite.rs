//! One behaviour suite, run against both backends: each scenario is a function
//! generic over [`EventStore`], instantiated for PostgreSQL and SQLite below.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use tierline_events::{Codec, Record, Timestamp};
use tierline_store::*;

fn batch(events: Vec<NewEvent>) -> AppendBatch {
    AppendBatch {
        events,
        ..AppendBatch::default()
    }
}

/// Everything along the global cursor. On PostgreSQL the cursor waits for every
/// older transaction in the cluster (other tests' too), so read until the count.
async fn read_all<S: EventStore>(s: &S) -> Vec<StoredEvent> {
    let total = s.count().await.unwrap() as usize;
    let mut out = Vec::new();
    let mut cursor = Cursor::START;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while out.len() < total && std::time::Instant::now() < deadline {
        let page = s.read_global(cursor, 97).await.unwrap();
        match page.last() {
            Some(last) => {
                assert!(last.cursor > cursor);
                cursor = last.cursor;
                out.extend(page);
            }
            None => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
    assert!(s.read_global(cursor, 97).await.unwrap().is_empty());
    out
}

async fn appends_and_suppresses_duplicates<S: EventStore>(s: &S) {
    let evs = events(300, 1);
    let out = s.append(&batch(evs.clone())).await.unwrap();
    assert_eq!(out.new_count(), 300);
    assert_eq!(s.count().await.unwrap(), 300);
    // The same events again, in another order and split differently: all duplicates.
    let mut again = evs.clone();
    again.reverse();
    for chunk in again.chunks(70) {
        let out = s.append(&batch(chunk.to_vec())).await.unwrap();
        assert_eq!(out.duplicate_count(), chunk.len());
        assert!(
            out.results
                .iter()
                .all(|r| matches!(r, Appended::Duplicate { position: Some(_) }))
        );
    }
    // A batch mixing stored and new events stores exactly the new ones.
    let mut mixed = events(20, 2);
    mixed.extend(evs[..10].iter().cloned());
    let out = s.append(&batch(mixed)).await.unwrap();
    assert_eq!((out.new_count(), out.duplicate_count()), (20, 10));
    assert_eq!(s.count().await.unwrap(), 320);
    assert!(s.quarantined(10).await.unwrap().is_empty());
}

async fn stores_every_field_exactly<S: EventStore>(s: &S) {
    let evs = events(50, 3);
    s.append(&batch(evs.clone())).await.unwrap();
    let stored = read_all(s).await;
    assert_eq!(stored.len(), 50);
    let codec = Codec::default();
    for (e, st) in evs.iter().zip(&stored) {
        assert_eq!(
            (st.source.as_str(), st.event_id, st.supplier_id.as_str()),
            (e.source.as_str(), e.event_id, e.supplier_id.as_str())
        );
        assert_eq!(st.record_name, e.record_name());
        assert_eq!(st.occurred_at, e.occurred_at);
        assert_eq!((st.schema_id, st.fingerprint), (e.schema_id, e.fingerprint));
        assert_eq!(st.datum, e.datum(), "the datum is kept byte for byte");
        assert_eq!(st.origin, e.origin);
        assert_eq!(st.decode(&codec).unwrap(), e.record);
        assert!((st.recorded_at.0 - chrono::Utc::now().timestamp_millis()).abs() < 600_000);
    }
}

async fn conflicting_duplicates_are_quarantined<S: EventStore>(s: &S) {
    let evs = events(5, 4);
    s.append(&batch(evs.clone())).await.unwrap();
    // Same source + event_id, different content.
    let mut forged = evs[2].clone();
    let mut json = serde_json::to_value(&forged.record).unwrap();
    json["supplier_id"] = "SUP-FORGED".into();
    forged.record = serde_json::from_value::<Record>(json).unwrap();
    let out = s
        .append(&batch(vec![forged.clone(), events(1, 5).remove(0)]))
        .await
        .unwrap();
    assert!(matches!(
        out.results[0],
        Appended::Conflict { position: Some(_) }
    ));
    assert_eq!(out.results[1], Appended::New);
    let q = s.quarantined(10).await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].message.reason_code, CONFLICT_CODE);
    assert!(
        q[0].message.reason.contains("conflicting duplicate"),
        "{}",
        q[0].message.reason
    );
    assert_eq!(q[0].message.value, forged.value);
    assert_eq!(q[0].message.origin, forged.origin);
    // The stored event stands.
    let stored = read_all(s).await;
    let kept = stored
        .iter()
        .find(|e| e.event_id == evs[2].event_id)
        .unwrap();
    assert_eq!(kept.decode(&Codec::default()).unwrap(), evs[2].record);
}

async fn twins_inside_one_batch<S: EventStore>(s: &S) {
    let evs = events(3, 6);
    let mut changed = evs[1].clone();
    changed.record = events(1, 99).remove(0).record; // same key, other content
    let out = s
        .append(&batch(vec![
            evs[0].clone(),
            evs[1].clone(),
            evs[0].clone(),
            changed,
            evs[2].clone(),
        ]))
        .await
        .unwrap();
    assert_eq!(
        out.results,
        vec![
            Appended::New,
            Appended::New,
            Appended::Duplicate { position: None },
            Appended::Conflict { position: None },
            Appended::New
        ]
    );
    assert_eq!(s.count().await.unwrap(), 3);
    assert_eq!(s.quarantined(10).await.unwrap().len(), 1);
}

async fn offsets_commit_with_events_and_only_move_forward<S: EventStore>(s: &S) {
    let off = |p, n| OffsetUpdate {
        group: "g".into(),
        topic: "t".into(),
        partition: p,
        next_offset: n,
    };
    let b = AppendBatch {
        events: events(10, 7),
        offsets: vec![off(0, 10), off(1, 4)],
        quarantine: vec![],
        recorded_at: None,
    };
    s.append(&b).await.unwrap();
    assert_eq!(
        s.consumer_offsets("g", "t").await.unwrap(),
        vec![(0, 10), (1, 4)]
    );
    // Offsets alone (a batch of only duplicates or dead letters); a stale one is ignored.
    s.append(&AppendBatch {
        offsets: vec![off(0, 7), off(1, 9), off(2, 1)],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        s.consumer_offsets("g", "t").await.unwrap(),
        vec![(0, 10), (1, 9), (2, 1)]
    );
    assert!(s.consumer_offsets("other", "t").await.unwrap().is_empty());
}

async fn quarantine_keeps_the_original_message<S: EventStore>(s: &S) {
    let q = Quarantined {
        origin: Some(KafkaOrigin {
            topic: "srm.deliveries.v1".into(),
            partition: 2,
            offset: 41,
        }),
        key: Some(b"SUP-1".to_vec()),
        value: vec![0, 0, 0, 0x27, 0x0f, 0xff, 0x00],
        headers: vec![
            ("ce_id".into(), Some(b"abc".to_vec())),
            ("bin".into(), Some(vec![0xff, 0x00])),
            ("none".into(), None),
        ],
        reason_code: "unknown-schema-id".into(),
        reason: "unknown schema id 9999".into(),
    };
    let off = OffsetUpdate {
        group: "g".into(),
        topic: "srm.deliveries.v1".into(),
        partition: 2,
        next_offset: 42,
    };
    s.append(&AppendBatch {
        quarantine: vec![q.clone()],
        offsets: vec![off],
        ..Default::default()
    })
    .await
    .unwrap();
    let rows = s.quarantined(10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].message, q);
    assert_eq!(
        s.consumer_offsets("g", "srm.deliveries.v1").await.unwrap(),
        vec![(2, 42)]
    );
}

async fn a_failed_batch_writes_nothing<S: EventStore>(s: &S) {
    let mut evs = events(20, 8);
    evs[13].fingerprint = 0xdead_beef; // a writer schema nobody knows
    let b = AppendBatch {
        events: evs,
        offsets: vec![OffsetUpdate {
            group: "g".into(),
            topic: "t".into(),
            partition: 0,
            next_offset: 20,
        }],
        quarantine: vec![],
        recorded_at: None,
    };
    let err = s.append(&b).await.unwrap_err();
    assert!(
        matches!(err, StoreError::UnknownSchema(0xdead_beef)),
        "{err}"
    );
    assert_eq!(s.count().await.unwrap(), 0);
    assert!(s.consumer_offsets("g", "t").await.unwrap().is_empty());
}

async fn global_cursor_reads_everything_once_in_order<S: EventStore>(s: &S) {
    for seed in 0..5 {
        s.append(&batch(events(123, 100 + seed))).await.unwrap();
    }
    let all = read_all(s).await;
    assert_eq!(all.len(), 615);
    let cursors: Vec<Cursor> = all.iter().map(|e| e.cursor).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]));
    let keys: BTreeSet<_> = all.iter().map(|e| (e.source.clone(), e.event_id)).collect();
    assert_eq!(keys.len(), 615);
    // Reading from the middle continues exactly after it (everything is committed now).
    let rest = s.read_global(all[300].cursor, 10_000).await.unwrap();
    assert_eq!(rest.len(), 314);
    assert_eq!(rest[0].position, all[301].position);
}

async fn reads_one_supplier_oldest_first<S: EventStore>(s: &S) {
    let evs = events(400, 9);
    s.append(&batch(evs.clone())).await.unwrap();
    let supplier = evs[0].supplier_id.clone();
    let mut expected: Vec<(Timestamp, uuid::Uuid)> = evs
        .iter()
        .filter(|e| e.supplier_id == supplier)
        .map(|e| (e.occurred_at, e.event_id))
        .collect();
    expected.sort_by_key(|(t, _)| *t);
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .read_supplier(&supplier, &SupplierFilter::default(), after, 2)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.supplier_cursor());
        got.extend(page);
    }
    assert!(got.iter().all(|e| e.supplier_id == supplier));
    assert!(
        got.windows(2)
            .all(|w| w[0].supplier_cursor() < w[1].supplier_cursor())
    );
    assert_eq!(
        got.iter().map(|e| e.occurred_at).collect::<Vec<_>>(),
        expected.iter().map(|(t, _)| *t).collect::<Vec<_>>()
    );
    assert!(
        s.read_supplier("nobody", &SupplierFilter::default(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Filters: a time range (from inclusive, before exclusive) and a record name, on
    // the busiest supplier of a larger stream.
    let more = events(3000, 19);
    s.append(&batch(more.clone())).await.unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for e in &more {
        *counts.entry(e.supplier_id.clone()).or_insert(0) += 1;
    }
    let supplier = counts.iter().max_by_key(|(_, n)| **n).unwrap().0.clone();
    let got = s
        .read_supplier(&supplier, &SupplierFilter::default(), None, 10_000)
        .await
        .unwrap();
    assert!(got.len() >= 10, "{}", got.len());
    let (from, before) = (got[2].occurred_at, got[got.len() - 2].occurred_at);
    let name = got[3].record_name.clone();
    let filter = SupplierFilter {
        occurred_from: Some(from),
        occurred_before: Some(before),
        record_name: Some(name.clone()),
        newest_first: false,
    };
    let filtered = s
        .read_supplier(&supplier, &filter, None, 1000)
        .await
        .unwrap();
    let want: Vec<i64> = got
        .iter()
        .filter(|e| e.occurred_at >= from && e.occurred_at < before && e.record_name == name)
        .map(|e| e.position)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(
        filtered.iter().map(|e| e.position).collect::<Vec<_>>(),
        want
    );
    // Newest first, in pages of 3 continuing after the last one read: the reverse.
    let newest = SupplierFilter {
        newest_first: true,
        ..filter
    };
    let (mut pages, mut after) = (Vec::new(), None);
    loop {
        let page = s.read_supplier(&supplier, &newest, after, 3).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(tierline_store::SupplierCursor {
            occurred_at: last.occurred_at,
            position: last.position,
        });
        pages.extend(page.iter().map(|e| e.position));
    }
    let mut reversed = want.clone();
    reversed.reverse();
    assert_eq!(pages, reversed);
}

async fn a_batch_may_say_when_it_is_recorded<S: EventStore>(s: &S) {
    // A service on a test clock records at its "now"; without it, the store's clock.
    let at = tierline_events::Timestamp::parse_rfc3339("2031-02-03T04:05:06.789Z").unwrap();
    let mut b = batch(events(3, 31));
    b.recorded_at = Some(at);
    s.append(&b).await.unwrap();
    s.append(&batch(events(2, 32))).await.unwrap();
    let all = read_all(s).await;
    assert_eq!(all.len(), 5);
    assert!(
        all[..3].iter().all(|e| e.recorded_at == at),
        "{:?}",
        all[0].recorded_at
    );
    assert!(
        all[3..]
            .iter()
            .all(|e| e.recorded_at != at && e.recorded_at.0 > 0)
    );
}

async fn schemas_are_kept_so_replay_needs_no_registry<S: EventStore>(s: &S) {
    s.append(&batch(events(40, 10))).await.unwrap();
    let schemas = s.stored_schemas().await.unwrap();
    let codec = Codec::default();
    assert_eq!(schemas.len(), codec.catalog().schemas().count());
    // Every stored datum decodes with the stored definition alone (apache-avro, no catalog).
    for e in read_all(s).await {
        let def = schemas
            .iter()
            .find(|x| x.fingerprint == e.fingerprint)
            .expect("schema stored");
        let writer = apache_avro::Schema::parse_str(&def.definition).unwrap();
        #[allow(deprecated)]
        let value = apache_avro::from_avro_datum(&writer, &mut e.datum.as_slice(), None).unwrap();
        let apache_avro::types::Value::Record(fields) = value else {
            panic!("not a record")
        };
        assert!(fields.iter().any(|(k, _)| k == "supplier_id"));
        assert_eq!(def.record_name, e.record_name);
    }
}

macro_rules! suite {
    ($($scenario:ident),+ $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let db = super::pg().await;
                    super::$scenario(&db.store).await;
                    db.drop_db().await.unwrap();
                }
            )+
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let db = super::sqlite().await;
                    super::$scenario(&db.store).await;
                    db.cleanup().await;
                }
            )+
        }
    };
}

suite!(
    appends_and_suppresses_duplicates,
    stores_every_field_exactly,
    conflicting_duplicates_are_quarantined,
    twins_inside_one_batch,
    offsets_commit_with_events_and_only_move_forward,
    quarantine_keeps_the_original_message,
    a_failed_batch_writes_nothing,
    global_cursor_reads_everything_once_in_order,
    reads_one_supplier_oldest_first,
    schemas_are_kept_so_replay_needs_no_registry,
    a_batch_may_say_when_it_is_recorded,
);
