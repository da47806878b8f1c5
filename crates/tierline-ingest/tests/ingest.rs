//! The ingest service on librdkafka's mock cluster with the real PostgreSQL: each
//! fault is caused on purpose and the outcome counted (lost 0, duplicated 0).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use tierline_events::{Codec, Framing, Record, sample};
use tierline_ingest::*;
use tierline_store::testing::{PgTest, pg};
use tierline_store::{Cursor, EventStore, PgStore};

async fn db() -> PgTest {
    pg().await
        .expect("PostgreSQL is needed (scripts/test starts it)")
}

async fn offsets_total<S: EventStore>(store: &S, group: &str) -> i64 {
    let mut total = 0;
    for t in INBOUND {
        total += store
            .consumer_offsets(group, t)
            .await
            .unwrap()
            .iter()
            .map(|(_, o)| o)
            .sum::<i64>();
    }
    total
}

/// Every stored (source, event_id), read along the global cursor. On PostgreSQL the
/// cursor reads only transactions older than every running one, and other tests share
/// the server: it reads again (up to 30 s) until it sees every stored event.
async fn stored_keys<S: EventStore>(store: &S) -> Vec<(String, uuid::Uuid)> {
    let stored = store.count().await.unwrap() as usize;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mut out = Vec::new();
        let mut c = Cursor::START;
        loop {
            let page = store.read_global(c, 1000).await.unwrap();
            let Some(last) = page.last() else { break };
            c = last.cursor;
            out.extend(page.into_iter().map(|e| (e.source, e.event_id)));
        }
        if out.len() >= stored || std::time::Instant::now() > deadline {
            return out;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn keys(records: &[(Record, Msg)]) -> HashSet<(String, uuid::Uuid)> {
    records
        .iter()
        .filter_map(|(r, _)| r.envelope().map(|e| (e.source.to_owned(), e.event_id)))
        .collect()
}

async fn the_same_events_delivered_twice_are_stored_once<S: EventStore + 'static>(store: Arc<S>) {
    let k = kafka();
    let events = good(300, 1);
    let msgs: Vec<Msg> = events.iter().map(|(_, m)| m.clone()).collect();
    produce(&k, &msgs).await;
    produce(&k, &msgs).await; // a producer retrying after a timeout, say
    let ingest = Ingest::start(config(&k, "g1"), Codec::default(), store.clone())
        .await
        .unwrap();
    assert!(
        wait_for(60, || async { offsets_total(&store, "g1").await == 600 }).await,
        "not all consumed"
    );
    assert_eq!(store.count().await.unwrap(), 300);
    assert_eq!(
        stored_keys(&store)
            .await
            .into_iter()
            .collect::<HashSet<_>>(),
        keys(&events)
    );
    let (_, text) = http_get(ingest.http_addr, "/metrics");
    assert_eq!(
        metric(&text, "tierline_ingest_events_appended_total"),
        300.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "tierline_ingest_duplicates_suppressed_total"),
        300.0
    );
    assert_eq!(metric(&text, "tierline_ingest_dead_letters_total"), 0.0);
    assert!(text.contains("tierline_ingest_batch_seconds_bucket"));
    ingest.stop().await.unwrap();
}

async fn two_consumers_with_a_rebalance_mid_stream_lose_and_double_nothing<
    S: EventStore + 'static,
>(
    store: Arc<S>,
) {
    let k = kafka();
    let first = good(600, 2);
    let second = good(600, 3);
    let a = Ingest::start(config(&k, "g2"), Codec::default(), store.clone())
        .await
        .unwrap();
    produce(
        &k,
        &first.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
    )
    .await;
    assert!(wait_for(60, || async { store.count().await.unwrap() >= 200 }).await);
    // A second instance joins mid-stream: partitions are revoked and reassigned.
    let b = Ingest::start(config(&k, "g2"), Codec::default(), store.clone())
        .await
        .unwrap();
    let second_msgs: Vec<_> = second.iter().map(|(_, m)| m.clone()).collect();
    produce(&k, &second_msgs[..300]).await;
    // A cooperative rebalance hands partitions over in two rounds: the rest of the
    // stream comes once the second instance holds some.
    assert!(
        wait_for(30, || async {
            b.health.assigned.load(std::sync::atomic::Ordering::Relaxed) > 0
        })
        .await,
        "b never got partitions"
    );
    produce(&k, &second_msgs[300..]).await;
    assert!(
        wait_for(90, || async { offsets_total(&store, "g2").await == 1200 }).await,
        "not all consumed"
    );
    let stored = stored_keys(&store).await;
    let unique: HashSet<_> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), 1200, "lost or doubled");
    let mut expected = keys(&first);
    expected.extend(keys(&second));
    assert_eq!(unique, expected);
    let appended = |i: &Ingest| {
        metric(
            &http_get(i.http_addr, "/metrics").1,
            "tierline_ingest_events_appended_total",
        )
    };
    assert_eq!(
        appended(&a) + appended(&b),
        1200.0,
        "an event was appended twice"
    );
    assert!(appended(&b) > 0.0, "the second consumer did no work");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

async fn poison_messages_go_to_the_dead_letter_topic_and_good_ones_behind_them_are_stored<
    S: EventStore + 'static,
>(
    store: Arc<S>,
) {
    let k = kafka();
    let codec = Codec::default().with_max_message_bytes(4096);
    let events = good(120, 4);
    let topic = INBOUND[1];
    let valid = codec
        .to_bytes(&sample::goods_received(), Framing::Confluent)
        .unwrap();
    let mut invalid_rule = sample::goods_received();
    if let Record::GoodsReceived(g) = &mut invalid_rule {
        g.supplier_id = "SUP 42".into();
        g.event_id = uuid::Uuid::from_u128(77);
    }
    let mut invalid_bytes = Vec::new();
    codec.encode_unvalidated(&invalid_rule, Framing::Confluent, &mut invalid_bytes);
    let alert = codec
        .to_bytes(&sample::alert_raised(), Framing::Confluent)
        .unwrap();
    // Same source + event_id as a good event, other content.
    let (first_record, first_msg) = &events[0];
    let mut forged = first_record.clone();
    let mut json = serde_json::to_value(&forged).unwrap();
    json["supplier_id"] = "SUP-FORGED".into();
    forged = serde_json::from_value(json).unwrap();
    let forged_bytes = codec.to_bytes(&forged, Framing::Confluent).unwrap();
    let mut oversize = valid.clone();
    oversize.resize(5000, 0);
    let poison: Vec<(&str, Msg)> = vec![
        (
            "empty",
            Msg {
                topic: topic.into(),
                key: Some(b"k-empty".to_vec()),
                value: None,
                headers: vec![],
                partition: Some(0),
            },
        ),
        (
            "unknown-magic",
            Msg {
                topic: topic.into(),
                key: None,
                value: Some(b"\x07garbage".to_vec()),
                headers: vec![("trace".into(), b"t1".to_vec())],
                partition: Some(1),
            },
        ),
        (
            "unknown-schema-id",
            Msg {
                topic: topic.into(),
                key: None,
                value: Some([&[0u8, 0, 0, 0x27, 0x0f][..], &valid[5..]].concat()),
                headers: vec![],
                partition: Some(2),
            },
        ),
        (
            "truncated-datum",
            Msg {
                topic: topic.into(),
                key: None,
                value: Some(valid[..valid.len() - 3].to_vec()),
                headers: vec![],
                partition: Some(0),
            },
        ),
        (
            "invalid",
            Msg {
                topic: topic.into(),
                key: Some(b"SUP 42".to_vec()),
                value: Some(invalid_bytes),
                headers: vec![],
                partition: Some(1),
            },
        ),
        (
            "oversize",
            Msg {
                topic: topic.into(),
                key: None,
                value: Some(oversize),
                headers: vec![],
                partition: Some(2),
            },
        ),
        (
            "not-inbound",
            Msg {
                topic: topic.into(),
                key: None,
                value: Some(alert),
                headers: vec![],
                partition: Some(0),
            },
        ),
        (
            "invalid",
            Msg {
                topic: topic.into(),
                key: None,
                value: Some(valid.clone()),
                headers: vec![("ce_source".into(), b"someone-else".to_vec())],
                partition: Some(1),
            },
        ),
    ];
    // Poison first on every partition, good events behind it, the forged twin last.
    produce(
        &k,
        &poison.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
    )
    .await;
    produce(
        &k,
        &events.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
    )
    .await;
    let forged_msg = Msg {
        value: Some(forged_bytes),
        ..first_msg.clone()
    };
    produce(&k, &[forged_msg]).await;
    let ingest = Ingest::start(config(&k, "g3"), codec, store.clone())
        .await
        .unwrap();
    let total = (poison.len() + events.len() + 1) as i64;
    assert!(
        wait_for(60, || async { offsets_total(&store, "g3").await == total }).await,
        "not all consumed"
    );
    assert_eq!(
        store.count().await.unwrap(),
        120,
        "every good event is stored"
    );
    assert_eq!(
        stored_keys(&store)
            .await
            .into_iter()
            .collect::<HashSet<_>>(),
        keys(&events)
    );
    let q = store.quarantined(100).await.unwrap();
    assert_eq!(q.len(), poison.len() + 1);
    let dl = dead_letters(&k);
    assert_eq!(
        dl.len(),
        poison.len() + 1,
        "dead letters equal the poison injected"
    );
    for (reason, m) in &poison {
        let d = dl.iter().find(|d| {
            Some(&d.value) == m.value.as_ref().or(Some(&Vec::new()))
                && d.header(DLQ_REASON_CODE).as_deref() == Some(*reason)
        });
        let d = d.unwrap_or_else(|| panic!("no dead letter for {reason}"));
        assert_eq!(d.key, m.key, "{reason}: key kept");
        assert_eq!(d.header(DLQ_SOURCE_TOPIC).as_deref(), Some(topic));
        assert_eq!(
            d.header(DLQ_SOURCE_PARTITION),
            m.partition.map(|p| p.to_string())
        );
        assert!(
            d.header(DLQ_SOURCE_OFFSET)
                .is_some_and(|o| o.parse::<i64>().is_ok())
        );
        assert!(d.header(DLQ_REASON).is_some_and(|r| !r.is_empty()));
        for (hk, hv) in &m.headers {
            assert_eq!(
                d.header(hk).as_deref(),
                Some(String::from_utf8_lossy(hv).as_ref()),
                "{reason}: header {hk} kept"
            );
        }
        assert!(q.iter().any(|row| row.message.reason_code == *reason));
    }
    let conflict = dl
        .iter()
        .find(|d| d.header(DLQ_REASON_CODE).as_deref() == Some("conflicting-duplicate"))
        .expect("conflict dead-lettered");
    assert_eq!(conflict.key, first_msg.key);
    let (_, text) = http_get(ingest.http_addr, "/metrics");
    assert_eq!(
        metric(&text, "tierline_ingest_dead_letters_total"),
        (poison.len() + 1) as f64
    );
    ingest.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_is_waited_out_without_dead_letters_or_loss() {
    let k = kafka();
    let db = db().await;
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let url = db.url.replace(":5432/", &format!(":{}/", proxy.port));
    let store = Arc::new(PgStore::connect(&url, Codec::default()).await.unwrap());
    let direct = db.store.clone();
    let ingest = Ingest::start(config(&k, "g4"), Codec::default(), store.clone())
        .await
        .unwrap();
    let first = good(200, 5);
    produce(
        &k,
        &first.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
    )
    .await;
    assert!(wait_for(60, || async { direct.count().await.unwrap() == 200 }).await);
    assert!(
        wait_for(20, || async {
            http_get(ingest.http_addr, "/readyz").0 == 200
        })
        .await,
        "{}",
        http_get(ingest.http_addr, "/readyz").1
    );

    proxy.cut();
    let second = good(300, 6);
    produce(
        &k,
        &second.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
    )
    .await;
    assert!(
        wait_for(20, || async {
            http_get(ingest.http_addr, "/readyz").0 == 503
        })
        .await
    );
    let (_, body) = http_get(ingest.http_addr, "/readyz");
    assert!(body.contains("\"database\":\"unreachable\""), "{body}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        direct.count().await.unwrap(),
        200,
        "nothing can be stored while the database is away"
    );

    proxy.restore();
    assert!(
        wait_for(60, || async { direct.count().await.unwrap() == 500 }).await,
        "the backlog was not stored after the outage"
    );
    assert!(
        wait_for(20, || async {
            http_get(ingest.http_addr, "/readyz").0 == 200
        })
        .await
    );
    assert!(wait_for(30, || async { offsets_total(&direct, "g4").await == 500 }).await);
    let mut expected = keys(&first);
    expected.extend(keys(&second));
    let stored = stored_keys(&direct).await;
    assert_eq!(stored.len(), 500);
    assert_eq!(stored.into_iter().collect::<HashSet<_>>(), expected);
    assert!(
        direct.quarantined(10).await.unwrap().is_empty(),
        "a database outage is never the message's fault"
    );
    assert!(dead_letters(&k).is_empty());
    let (_, text) = http_get(ingest.http_addr, "/metrics");
    assert!(
        metric(&text, "tierline_ingest_store_retries_total") > 0.0,
        "{text}"
    );
    ingest.stop().await.unwrap();
    drop(proxy);
    db.drop_db().await.unwrap();
}

async fn a_retention_gap_is_reported_then_consumption_continues_from_the_log_start<
    S: EventStore + 'static,
>(
    store: Arc<S>,
) {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let k = kafka();
    // Ingest had consumed nothing of partition 0 yet (its stored offset is 0)...
    let offsets = vec![tierline_store::OffsetUpdate {
        group: "g5".into(),
        topic: INBOUND[1].into(),
        partition: 0,
        next_offset: 0,
    }];
    store
        .append(&tierline_store::AppendBatch {
            offsets,
            ..Default::default()
        })
        .await
        .unwrap();
    // ...when more than the broker keeps was written to it (the mock keeps ~5 MB).
    let codec = Codec::default();
    let msgs: Vec<Msg> = (0..4000u128)
        .map(|i| {
            let mut r = sample::goods_received();
            if let Record::GoodsReceived(g) = &mut r {
                g.event_id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0001_0000 + i);
                g.site = "x".repeat(2000);
            }
            Msg {
                topic: INBOUND[1].into(),
                key: None,
                value: Some(codec.to_bytes(&r, Framing::Confluent).unwrap()),
                headers: vec![],
                partition: Some(0),
            }
        })
        .collect();
    for chunk in msgs.chunks(500) {
        produce(&k, chunk).await;
    }
    let probe: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &k.brokers)
        .create()
        .unwrap();
    let (low, high) = probe
        .fetch_watermarks(INBOUND[1], 0, Duration::from_secs(5))
        .unwrap();
    assert!(
        low > 0,
        "the broker kept everything (low {low}, high {high}); write more"
    );
    assert_eq!(high, 4000);

    let ingest = Ingest::start(config(&k, "g5"), Codec::default(), store.clone())
        .await
        .unwrap();
    assert!(
        wait_for(60, || async {
            store
                .consumer_offsets("g5", INBOUND[1])
                .await
                .unwrap()
                .iter()
                .any(|&(p, o)| p == 0 && o == high)
        })
        .await,
        "did not continue to the end"
    );
    assert_eq!(
        store.count().await.unwrap(),
        high - low,
        "everything the broker still had is stored"
    );
    let (_, text) = http_get(ingest.http_addr, "/metrics");
    assert_eq!(
        metric(&text, "tierline_ingest_retention_lost_offsets_total"),
        low as f64,
        "{text}"
    );
    let (_, body) = http_get(ingest.http_addr, "/readyz");
    let detail: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail["retention_gaps"][0]["lost"], low, "{body}");
    assert_eq!(detail["retention_gaps"][0]["topic"], INBOUND[1]);
    assert_eq!(detail["retention_gaps"][0]["from_offset"], 0);
    ingest.stop().await.unwrap();
}

/// Each scenario above runs against both store backends.
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = super::db().await;
                    super::$name(std::sync::Arc::new(db.store.clone())).await;
                    db.drop_db().await.unwrap();
                }
            )+
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = tierline_store::testing::sqlite().await.unwrap();
                    super::$name(std::sync::Arc::new(db.store.clone())).await;
                    db.cleanup().await;
                }
            )+
        }
    };
}

on_both_stores!(
    the_same_events_delivered_twice_are_stored_once,
    two_consumers_with_a_rebalance_mid_stream_lose_and_double_nothing,
    poison_messages_go_to_the_dead_letter_topic_and_good_ones_behind_them_are_stored,
    a_retention_gap_is_reported_then_consumption_continues_from_the_log_start,
);
