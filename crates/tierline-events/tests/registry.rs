//! Confluent ids resolved through a schema registry's ids (the table the registry
//! client fills): a registry id that collides with a catalog id means the registry's
//! schema, a foreign writer version is read and stored in the catalog's form, and an
//! unknown, unusable or unfetched id says so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tierline_events::{Codec, DecodeError, Framing, RecordKind, sample};

/// A Confluent-framed message with `id` and this datum.
fn framed(id: u32, datum: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00];
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(datum);
    v
}

fn datum_of(record: &tierline_events::Record) -> Vec<u8> {
    let mut d = Vec::new();
    record.encode_datum(&mut d);
    d
}

#[test]
fn a_registry_id_that_collides_with_a_catalog_id_means_the_registry_schema() {
    let codec = Codec::default().with_registry(16);
    let ids = codec.registry_ids().unwrap();
    let record = sample::goods_received();
    let gr = codec
        .catalog()
        .writer_for(RecordKind::GoodsReceived)
        .clone();
    // Catalog id 1001 is PurchaseOrderLinePlaced; the registry gave it to GoodsReceived.
    assert_eq!(
        codec.catalog().schema_by_id(1001).unwrap().kind,
        RecordKind::PurchaseOrderLinePlaced
    );
    let message = framed(1001, &datum_of(&record));
    assert_eq!(codec.decode(&message), Err(DecodeError::NotResolved(1001)));
    ids.learn(1001, &gr.json).unwrap();
    let decoded = codec.decode(&message).unwrap();
    assert_eq!(decoded.record, record);
    assert!(!decoded.meta.foreign);
    assert_eq!(
        decoded.meta.schema_id, gr.id,
        "stored under the catalog's own id"
    );
    assert_eq!(decoded.stored_value(message.clone()), (message.clone(), 5));
    // Without the registry, the same bytes are read as the catalog's 1001: wrong.
    assert_ne!(
        Codec::default().decode(&message).map(|d| d.record),
        Ok(record)
    );
}

#[test]
fn a_foreign_writer_version_is_read_and_stored_in_the_catalogs_form() {
    let codec = Codec::default().with_registry(16);
    let record = sample::goods_received();
    let gr = codec
        .catalog()
        .writer_for(RecordKind::GoodsReceived)
        .clone();
    // The producer's own version: one more optional field at the end.
    let mut schema: serde_json::Value = serde_json::from_str(&gr.json).unwrap();
    schema["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(
            {"name": "wms_batch", "type": ["null", "string"], "default": null}
        ));
    codec
        .registry_ids()
        .unwrap()
        .learn(7, &schema.to_string())
        .unwrap();
    // Its datum: ours, then union branch 1 (string) "B7".
    let mut datum = datum_of(&record);
    datum.extend_from_slice(&[0x02, 0x04, b'B', b'7']);
    let message = framed(7, &datum);
    let decoded = codec.decode(&message).unwrap();
    assert_eq!(decoded.record, record);
    assert!(decoded.meta.foreign);
    assert_eq!(decoded.meta.schema_id, gr.id);
    assert_eq!(decoded.meta.fingerprint, gr.fingerprint);
    let (stored, offset) = decoded.stored_value(message);
    assert_eq!(offset, 5);
    assert_eq!(stored, framed(gr.id.unwrap(), &datum_of(&record)));
    // Any reader of the store decodes it with the shipped catalog alone.
    assert_eq!(Codec::default().decode(&stored).unwrap().record, record);
    assert_eq!(
        Codec::default()
            .decode_datum(gr.fingerprint, &stored[offset..])
            .unwrap(),
        record
    );
}

#[test]
fn unknown_unusable_and_unfetched_ids_say_which() {
    let codec = Codec::default().with_registry(16);
    let ids = codec.registry_ids().unwrap();
    let datum = datum_of(&sample::goods_received());
    ids.learn_unknown(8);
    let e = codec.decode(&framed(8, &datum)).unwrap_err();
    assert_eq!(
        (e.reason_code(), e.to_string().as_str()),
        (
            "unknown-schema-id",
            "schema id 8 is not in the schema registry"
        )
    );
    let gr = codec
        .catalog()
        .writer_for(RecordKind::GoodsReceived)
        .json
        .clone();
    let mut bad: serde_json::Value = serde_json::from_str(&gr).unwrap();
    for f in bad["fields"].as_array_mut().unwrap() {
        if f["name"] == "quantity" {
            f["type"] = "string".into();
        }
    }
    assert!(ids.learn(9, &bad.to_string()).is_err());
    let e = codec.decode(&framed(9, &datum)).unwrap_err();
    assert_eq!(e.reason_code(), "incompatible-schema", "{e}");
    assert!(e.to_string().contains("quantity"), "{e}");
    assert_eq!(
        codec.decode(&framed(10, &datum)).unwrap_err().reason_code(),
        "schema-not-resolved"
    );
    // Single-object framing names a fingerprint: the registry plays no part.
    let so = codec
        .to_bytes(&sample::goods_received(), Framing::SingleObject)
        .unwrap();
    assert!(codec.decode(&so).is_ok());
}

#[test]
fn the_table_forgets_its_oldest_id_when_full() {
    let codec = Codec::default().with_registry(2);
    let ids = codec.registry_ids().unwrap();
    for id in [1, 2, 3] {
        ids.learn_unknown(id);
    }
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(1));
    assert!(ids.contains(2) && ids.contains(3));
}
