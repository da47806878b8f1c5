//! `tierline quarantine list|show|replay` on both store backends: a message rejected
//! by an older release is appended on replay, garbage stays rejected, a message whose
//! event is stored already is a duplicate, a conflicting one stays out; every attempt is
//! recorded with who ran it, and replaying again appends nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

use tierline_events::{Codec, Framing, Record, sample};
use tierline_store::testing::{Backend, fresh};
use tierline_store::{AppendBatch, EventStore, NewEvent, Quarantined};

fn cli(store: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tierline"))
        .args(["quarantine", "--store", store])
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn quarantined(value: Vec<u8>, code: &str) -> Quarantined {
    Quarantined {
        origin: None,
        key: Some(b"SUP-00042".to_vec()),
        value,
        headers: vec![(
            "ce_type".into(),
            Some(b"io.tierline.v1.GoodsReceived".to_vec()),
        )],
        reason_code: code.into(),
        reason: format!("rejected: {code}"),
    }
}

async fn replay_on(backend: Backend) {
    let db = fresh(backend).await.unwrap();
    let codec = Codec::default();
    let stored = sample::goods_received();
    let bytes = |r: &Record| codec.to_bytes(r, Framing::Confluent).unwrap();
    let mut other = stored.clone();
    let mut conflicting = stored.clone();
    if let (Record::GoodsReceived(o), Record::GoodsReceived(c)) = (&mut other, &mut conflicting) {
        o.event_id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_abcd);
        o.receipt_id = "GR-REPLAYED".into();
        c.quantity += 1.0;
    }
    let event =
        NewEvent::from_decoded(codec.decode(&bytes(&stored)).unwrap(), bytes(&stored)).unwrap();
    db.store
        .append(&AppendBatch {
            events: vec![event],
            quarantine: vec![
                // What an older release without this schema dead-lettered.
                quarantined(bytes(&other), "unknown-schema-id"),
                quarantined(b"\x07junk".to_vec(), "unknown-magic"),
                quarantined(bytes(&stored), "unknown-schema-id"),
                quarantined(bytes(&conflicting), "unknown-schema-id"),
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    let url = db.url.clone();

    let out = cli(&url, &["list"]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(listed.lines().count(), 4, "{listed}");
    assert!(listed.contains("unknown-magic"), "{listed}");

    let out = cli(&url, &["replay"]);
    assert!(!out.status.success(), "a replay says who runs it");
    let out = cli(&url, &["replay", "--by", "ops-anna"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("1 appended, 1 already stored, 1 conflicting, 1 still rejected, 0 skipped"),
        "{said}"
    );
    assert_eq!(
        db.store.count().await.unwrap(),
        2,
        "the replayed event is stored"
    );

    // Again: the three settled are skipped, the garbage is tried and recorded again, and
    // the conflict added no quarantine row.
    let out = cli(&url, &["replay", "--by", "ops-ben"]);
    let said = text(&out);
    assert!(
        said.contains("0 appended, 0 already stored, 0 conflicting, 1 still rejected, 3 skipped"),
        "{said}"
    );
    assert_eq!(db.store.count().await.unwrap(), 2);
    assert_eq!(db.store.quarantine_after(0, 100).await.unwrap().len(), 4);

    let first = db.store.quarantine_after(0, 1).await.unwrap()[0].id;
    let out = cli(&url, &["show", &first.to_string()]);
    let shown = text(&out);
    assert!(shown.contains("by ops-anna: appended"), "{shown}");
    assert!(
        shown.contains("header       ce_type: io.tierline.v1.GoodsReceived"),
        "{shown}"
    );
    let junk = cli(&url, &["show", &(first + 1).to_string()]);
    let shown = text(&junk);
    assert!(
        shown.contains("by ops-anna: rejected") && shown.contains("by ops-ben: rejected"),
        "{shown}"
    );
    // Retention: nothing is older than a day; everything is older than "0 days".
    let out = cli(&url, &["prune", "--older-than-days", "1"]);
    assert!(
        text(&out).contains("0 quarantined messages"),
        "{}",
        text(&out)
    );
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let out = cli(&url, &["prune", "--older-than-days", "0"]);
    assert!(
        text(&out).contains("4 quarantined messages"),
        "{}",
        text(&out)
    );
    assert!(db.store.quarantine_after(0, 100).await.unwrap().is_empty());
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_replay_on_sqlite() {
    replay_on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_replay_on_postgres() {
    replay_on(Backend::Postgres).await;
}
