//! Producers that serialise through a Schema Registry, end to end on Apache Kafka and a
//! real Apicurio Registry: confluent-kafka's own AvroSerializer registers the schemas
//! and frames the messages with the registry's ids (one colliding with a catalog id),
//! ingest resolves every id through the registry, the relay publishes with registry
//! ids that a standard AvroDeserializer reads, and a registry that hangs holds
//! consumption back (readiness 503) without dead-lettering anything.
//!
//! Needs what `e2e.rs` needs, and Java for the registry (scripts/test provides it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod e2e_world;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::http_get;
use e2e_world::*;
use tierline_events::{
    Codec, Disposition, GoodsReceived, InspectionCompleted, Record, RecordKind, Timestamp,
};
use tierline_registry::testing::Apicurio;

const SUPPLIER: &str = "E2E-R";

fn inspection(n: u128, defective: f64, disposition: Disposition) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_6000 | n),
        source: "qms".into(),
        occurred_at: Timestamp::parse_rfc3339("2026-06-10T08:00:00Z").unwrap(),
        supplier_id: SUPPLIER.into(),
        inspection_id: format!("IN-R-{n}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "ITEM-9".into(),
        inspected_quantity: 100.0,
        defective_quantity: defective,
        critical_defects: 0,
        disposition,
        posting_date: None,
    }
    .into()
}

fn receipt(n: u128) -> Record {
    GoodsReceived {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_7000 | n),
        source: "wms".into(),
        occurred_at: Timestamp::parse_rfc3339("2026-06-10T09:00:00Z").unwrap(),
        supplier_id: SUPPLIER.into(),
        receipt_id: format!("GR-R-{n}"),
        po_number: "PO-R".into(),
        line_number: 1,
        quantity: 40.0,
        site: "plant-1".into(),
        delivery_note: None,
        posting_date: None,
    }
    .into()
}

fn python() -> String {
    std::env::var("TIERLINE_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/e2e")
        .join(name)
}

fn run_json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Produces `records` with confluent-kafka's AvroSerializer through the registry.
fn produce_via(w: &World, registry: &str, records: &[Record], extra: &[&str]) -> serde_json::Value {
    let file = w
        .dir
        .join(format!("registry-{}.jsonl", common::free_port()));
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    run_json(
        Command::new(python())
            .arg(script("produce_registry.py"))
            .args([w.brokers.as_str(), registry])
            .arg(&file)
            .args(extra),
    )
}

async fn stored(w: &World) -> Vec<(String, Option<i32>, Record)> {
    let rows: Vec<(String, Option<i32>, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT record_name, schema_id, fingerprint, datum FROM events ORDER BY position",
    )
    .fetch_all(w.db.store.pool())
    .await
    .unwrap();
    let codec = Codec::default();
    rows.into_iter()
        .map(|(name, id, fp, datum)| (name, id, codec.decode_datum(fp as u64, &datum).unwrap()))
        .collect()
}

fn readyz(port: u16) -> Option<(u16, serde_json::Value)> {
    let (s, b) = http_get(port, "/readyz")?;
    Some((s, serde_json::from_str(&b).ok()?))
}

fn register_with_the_cli(registry: &str, dir: &Path) -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_tierline"))
        .args(["schemas", "register", "--schema-registry-url", registry])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().skip(1).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_producer_is_read_through_its_registry() {
    let registry = Apicurio::start().await;
    let url = registry.url();
    let env = [
        ("TIERLINE_SCHEMA_REGISTRY_URL", url.as_str()),
        ("TIERLINE_SCHEMA_REGISTRY_REGISTER", "true"),
        ("TIERLINE_SCHEMA_REGISTRY_TIMEOUT_MS", "3000"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let mut w = world_with_env(6000, &env).await;
    let ingest_port = w.ports[0];

    // 1. Six lots, 5 % defective, half rejected (two CRITICAL alerts follow), by a
    // producer whose registry hands InspectionCompleted the id 1001: the catalog's
    // PurchaseOrderLinePlaced.
    let lots: Vec<Record> = (0..6)
        .map(|n| {
            let d = if n % 2 == 0 {
                Disposition::Accepted
            } else {
                Disposition::Rejected
            };
            inspection(n, 5.0, d)
        })
        .collect();
    let out = produce_via(&w, &url, &lots, &["--pad-to", "1001"]);
    assert_eq!(out["ids"]["InspectionCompleted"], 1001, "{out}");
    assert_eq!(
        Codec::default().catalog().schema_by_id(1001).unwrap().kind,
        RecordKind::PurchaseOrderLinePlaced
    );
    // 2. A receipt from the producer's own schema version (one more field), one from a
    // version Tierline cannot read, and a message with an id the registry never gave.
    produce_via(&w, &url, &[receipt(1)], &["--writer", "foreign"]);
    produce_via(
        &w,
        &url,
        &[receipt(2)],
        &["--writer", "incompatible", "--unknown-id", "999999"],
    );
    let n = wait_count(&w.db.store, 7).await;
    assert_eq!(
        n,
        7,
        "ingest: {:?}\n{}",
        readyz(ingest_port),
        http_get(ingest_port, "/metrics")
            .map(|m| m.1)
            .unwrap_or_default()
    );
    let events = stored(&w).await;
    let mut want = lots.clone();
    want.push(receipt(1));
    assert_eq!(events.iter().map(|e| e.2.clone()).collect::<Vec<_>>(), want);
    // Stored under the catalog's own ids, readable with the shipped catalog alone.
    let catalog = Codec::default();
    let ids: Vec<_> = events.iter().map(|e| e.1).collect();
    let inspection_id = catalog
        .catalog()
        .writer_for(RecordKind::InspectionCompleted)
        .id;
    let receipt_id = catalog.catalog().writer_for(RecordKind::GoodsReceived).id;
    assert_eq!(ids[..6], [inspection_id.map(|i| i as i32); 6]);
    assert_eq!(ids[6], receipt_id.map(|i| i as i32));
    let reasons = until("two dead letters", 60, || {
        let h = read_headers(
            &w.brokers,
            "srm.dead-letter.v1",
            &["tierline.dlq.reason.code"],
        );
        (h.len() >= 2).then_some(h)
    });
    let mut reasons: Vec<String> = reasons.into_iter().flatten().collect();
    reasons.sort();
    assert_eq!(reasons, ["incompatible-schema", "unknown-schema-id"]);

    // 3. The relay registered its schemas and publishes with the registry's ids: a
    // standard deserializer reads every alert, and its id is the ce_id header.
    let alerts = until("the two CRITICAL alerts on the alerts topic", 90, || {
        let a = read_topic(&w.brokers, "srm.supplier-alerts.v1");
        (a.len() >= 2).then_some(a)
    });
    let read = run_json(
        Command::new(python())
            .arg(script("consume_registry.py"))
            .args([
                w.brokers.as_str(),
                url.as_str(),
                "srm.supplier-alerts.v1",
                &alerts.len().to_string(),
            ]),
    );
    let messages = read["messages"].as_array().unwrap();
    assert_eq!(messages.len(), alerts.len(), "{read}");
    for m in messages {
        assert_eq!(m["value"]["supplier_id"], SUPPLIER, "{m}");
        let id_field = if m["value"]["alert_id"].is_string() {
            &m["value"]["alert_id"]
        } else {
            &m["value"]["event_id"]
        };
        assert_eq!(id_field.as_str(), m["ce_id"].as_str(), "{m}");
    }

    // 4. The registry hangs while a new schema version comes in: ingest waits (503,
    // nothing stored, nothing dead-lettered), and takes it once the registry answers.
    assert!(w.ingest.term(), "ingest stops cleanly");
    produce_via(
        &w,
        &url,
        &[inspection(7, 0.0, Disposition::Accepted)],
        &["--writer", "foreign"],
    );
    registry.freeze();
    w.ingest.spawn();
    let body = until("ingest to report the registry unreachable", 60, || {
        readyz(ingest_port).filter(|(s, b)| *s == 503 && b["schema_registry"] == "unreachable")
    });
    std::thread::sleep(std::time::Duration::from_secs(3));
    use tierline_store::EventStore;
    assert_eq!(w.db.store.count().await.unwrap(), 7, "{body:?}");
    registry.thaw();
    assert_eq!(wait_count(&w.db.store, 8).await, 8);
    wait_status(ingest_port, 200, 60, "ingest ready again");
    let dead = read_headers(
        &w.brokers,
        "srm.dead-letter.v1",
        &["tierline.dlq.reason.code"],
    );
    assert_eq!(dead.len(), 2, "nothing dead-lettered for the outage");

    // 5. `tierline schemas register` pushes every catalog schema (idempotent).
    let n = catalog.catalog().schemas().count();
    assert_eq!(register_with_the_cli(&url, &w.dir), n);
    assert_eq!(register_with_the_cli(&url, &w.dir), n);
}
