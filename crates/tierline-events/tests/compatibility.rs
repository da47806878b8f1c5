//! Every schema version is backward-compatible with every earlier version of its record:
//! a reader on the newer version reads what the older one wrote (Avro schema
//! resolution, checked by apache-avro, the reference implementation, independently of
//! Tierline's own resolution plans). A schema change that breaks this fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use apache_avro::Schema;
use apache_avro::schema_compatibility::SchemaCompatibility;
use tierline_events::{Catalog, RecordKind};

#[test]
fn every_version_reads_every_earlier_version_of_its_record() {
    let catalog = Catalog::builtin();
    let mut by_kind: BTreeMap<RecordKind, Vec<(u32, Schema)>> = BTreeMap::new();
    for s in catalog.schemas() {
        let schema = Schema::parse_str(&s.json)
            .unwrap_or_else(|e| panic!("{} v{}: {e}", s.kind.name(), s.version));
        by_kind.entry(s.kind).or_default().push((s.version, schema));
    }
    let mut pairs = 0;
    for (kind, mut versions) in by_kind {
        versions.sort_by_key(|(v, _)| *v);
        for (i, (older, writer)) in versions.iter().enumerate() {
            for (newer, reader) in &versions[i + 1..] {
                SchemaCompatibility::can_read(writer, reader).unwrap_or_else(|e| {
                    panic!("{} v{newer} cannot read v{older}: {e}", kind.name())
                });
                pairs += 1;
            }
        }
    }
    // GoodsReceived 1-2-3, InspectionCompleted 1-2, SupplierAlertResolved 1-2.
    assert!(pairs >= 5, "{pairs} pairs checked");
}

#[test]
fn a_breaking_change_is_caught() {
    let catalog = Catalog::builtin();
    let current = catalog.writer_for(RecordKind::GoodsReceived);
    let mut broken: serde_json::Value = serde_json::from_str(&current.json).unwrap();
    // A new required field without a default: the new reader cannot read old data.
    broken["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "plant_code", "type": "string"}));
    let reader = Schema::parse_str(&broken.to_string()).unwrap();
    let writer = Schema::parse_str(&current.json).unwrap();
    assert!(SchemaCompatibility::can_read(&writer, &reader).is_err());
}
