//! Schema resolution with writer schemas learned at run time (as from a registry):
//! promotions, skipped writer-only fields of every shape, reader defaults, enum
//! defaults, and writers that cannot be read.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use tierline_events::*;

fn catalog_with(id: u32, json: &str) -> Result<Codec, CatalogError> {
    let mut catalog = Catalog::clone_builtin();
    catalog.register(Some(id), json)?;
    Ok(Codec::new(std::sync::Arc::new(catalog)))
}

/// Writes an Avro datum by hand, field by field.
#[derive(Default)]
struct W(Vec<u8>);
impl W {
    fn long(mut self, v: i64) -> Self {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            self.0.push((z as u8) | 0x80);
            z >>= 7;
        }
        self.0.push(z as u8);
        self
    }
    fn str(self, s: &str) -> Self {
        let mut w = self.long(s.len() as i64);
        w.0.extend_from_slice(s.as_bytes());
        w
    }
    fn float(mut self, f: f32) -> Self {
        self.0.extend_from_slice(&f.to_le_bytes());
        self
    }
    fn framed(self, id: u32) -> Vec<u8> {
        [&[0u8][..], &id.to_be_bytes(), &self.0].concat()
    }
}

const ID: &str = "0190a3c2-7d4e-7c11-9a5b-3f2e1d0c0007";

/// A future GoodsReceived writer: quantity written as `float`, line_number as a
/// `["null","int"]`-free int, delivery_note absent, and extra fields of every shape
/// in between that the reader must skip.
const WRITER_V3: &str = r#"{"type":"record","name":"GoodsReceived","namespace":"io.tierline.v1","fields":[
 {"name":"event_id","type":{"type":"string","logicalType":"uuid"}},
 {"name":"source","type":"string"},
 {"name":"occurred_at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"supplier_id","type":"string"},
 {"name":"extra_array","type":{"type":"array","items":{"type":"record","name":"Pallet","fields":[{"name":"sscc","type":"string"},{"name":"w","type":"double"}]}}},
 {"name":"receipt_id","type":"string"},
 {"name":"extra_map","type":{"type":"map","values":["null","long"]}},
 {"name":"po_number","type":"string"},
 {"name":"line_number","type":"int"},
 {"name":"quantity","type":"float"},
 {"name":"extra_fixed","type":{"type":"fixed","name":"Hash","size":4}},
 {"name":"extra_enum","type":{"type":"enum","name":"Carrier","symbols":["DHL","UPS"]}},
 {"name":"site","type":"string"}]}"#;

#[test]
fn future_writer_with_promotions_and_extra_fields() {
    let codec = catalog_with(2001, WRITER_V3).unwrap();
    let bytes = W::default()
        .str(ID)
        .str("wms-9")
        .long(1_767_225_600_000)
        .str("SUP-1")
        // extra_array: one block of 2 pallets, then a block given with its byte size, then end.
        .long(2)
        .str("P1")
        .float(0.0)
        .float(0.0) // a double as two floats' bytes
        .str("P2")
        .float(0.0)
        .float(0.0)
        .long(-1)
        .long(11)
        .str("P3")
        .float(0.0)
        .float(0.0)
        .long(0)
        .str("GR-1")
        // extra_map: {"a": null, "b": 5}
        .long(2)
        .str("a")
        .long(0)
        .str("b")
        .long(1)
        .long(5)
        .long(0)
        .str("PO-1")
        .long(3)
        .float(12.5)
        .float(0.0) // extra_fixed: 4 bytes
        .long(1) // extra_enum: UPS
        .str("plant-9")
        .framed(2001);
    let d = codec.decode(&bytes).unwrap();
    assert_eq!(d.meta.schema_id, Some(2001));
    let Record::GoodsReceived(g) = d.record else {
        panic!()
    };
    assert_eq!(
        (g.receipt_id.as_str(), g.po_number.as_str(), g.line_number),
        ("GR-1", "PO-1", 3)
    );
    assert_eq!(g.quantity, 12.5, "float promoted to double");
    assert_eq!(g.site, "plant-9");
    assert_eq!(g.delivery_note, None, "reader default");
    // The same bytes with the last string cut short name the field.
    let err = codec.decode(&bytes[..bytes.len() - 2]).unwrap_err();
    assert!(
        matches!(err, DecodeError::Datum { ref field, kind: DatumError::Truncated, .. } if field == "site"),
        "{err}"
    );
}

#[test]
fn writer_union_into_reader_non_union_and_enum_symbols_by_name() {
    // line_number as ["int","null"], symbols reordered, and an extra symbol.
    let writer = r#"{"type":"record","name":"PurchaseOrderLineCancelled","namespace":"io.tierline.v1","fields":[
     {"name":"event_id","type":"string"},{"name":"source","type":"string"},{"name":"occurred_at","type":"long"},
     {"name":"supplier_id","type":"string"},{"name":"po_number","type":"string"},{"name":"line_number","type":["int","null"]},
     {"name":"cancelled_by","type":{"type":"enum","name":"CancelledBy","symbols":["SYSTEM","SUPPLIER","BUYER"]}},
     {"name":"reason","type":"string"}]}"#;
    let codec = catalog_with(2002, writer).unwrap();
    let head = |w: W| {
        w.str(ID)
            .str("erp")
            .long(1_780_000_000_000)
            .str("SUP-1")
            .str("PO-1")
    };
    let ok = head(W::default())
        .long(0)
        .long(7)
        .long(2)
        .str("r")
        .framed(2002);
    let Record::PurchaseOrderLineCancelled(c) = codec.decode(&ok).unwrap().record else {
        panic!()
    };
    assert_eq!((c.line_number, c.cancelled_by), (7, CancelledBy::Buyer));
    // The null branch cannot be read as a plain int.
    let null_line = head(W::default()).long(1).long(1).str("r").framed(2002);
    assert!(matches!(
        codec.decode(&null_line),
        Err(DecodeError::Datum {
            kind: DatumError::UnresolvableBranch(1),
            ..
        })
    ));
    // SYSTEM has no reader symbol and the reader enum has no default.
    let system = head(W::default())
        .long(0)
        .long(7)
        .long(0)
        .str("r")
        .framed(2002);
    assert_eq!(
        codec.decode(&system),
        Err(DecodeError::Datum {
            record: "PurchaseOrderLineCancelled",
            field: "cancelled_by".into(),
            kind: DatumError::UnknownSymbol("SYSTEM".into())
        })
    );
}

#[test]
fn incompatible_writers_are_refused_when_registered() {
    // Missing a reader field that has no default.
    let missing = r#"{"type":"record","name":"GoodsReceived","namespace":"io.tierline.v1","fields":[
     {"name":"event_id","type":"string"},{"name":"source","type":"string"},{"name":"occurred_at","type":"long"},
     {"name":"supplier_id","type":"string"},{"name":"receipt_id","type":"string"},{"name":"po_number","type":"string"},
     {"name":"line_number","type":"int"},{"name":"quantity","type":"double"}]}"#;
    let err = catalog_with(2003, missing).expect_err("refused");
    assert!(err.to_string().contains("writer lacks field site"), "{err}");
    // A type that does not promote (string -> double).
    let bad_type = missing.replace(
        r#"{"name":"quantity","type":"double"}"#,
        r#"{"name":"quantity","type":"string"},{"name":"site","type":"string"}"#,
    );
    let err = catalog_with(2004, &bad_type).expect_err("refused");
    assert!(matches!(err, CatalogError::Incompatible { .. }), "{err}");
    // A record this contract does not know.
    let err =
        catalog_with(2005, r#"{"type":"record","name":"Nope","fields":[]}"#).expect_err("refused");
    assert_eq!(err, CatalogError::UnknownRecord("Nope".into()));
    // An id already taken.
    let err = catalog_with(1001, WRITER_V3).expect_err("refused");
    assert_eq!(err, CatalogError::Duplicate("id 1001".into()));
    // Not a schema at all.
    assert!(matches!(
        catalog_with(2006, "{").err(),
        Some(CatalogError::Schema(_))
    ));
}

#[test]
fn builtin_catalog_matches_catalog_json() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/catalog.json"
    ))
    .unwrap();
    let listed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let catalog = Catalog::builtin();
    let listed = listed["schemas"].as_array().unwrap();
    assert_eq!(catalog.schemas().count(), listed.len());
    for s in listed {
        let id = s["id"].as_u64().unwrap() as u32;
        let info = catalog.schema_by_id(id).unwrap();
        assert_eq!(info.kind.full_name(), s["record"].as_str().unwrap());
        assert_eq!(u64::from(info.version), s["version"].as_u64().unwrap());
        assert_eq!(
            catalog
                .schema_by_fingerprint(info.fingerprint)
                .map(|i| i.id),
            Some(Some(id))
        );
    }
    // Every record of docs/events.md has a schema; writing uses the latest version.
    for kind in RecordKind::ALL {
        let w = catalog.writer_for(*kind);
        assert_eq!(w.kind, *kind);
        assert!(
            catalog
                .schemas()
                .filter(|s| s.kind == *kind)
                .all(|s| s.version <= w.version)
        );
    }
    assert_eq!(catalog.writer_for(RecordKind::GoodsReceived).version, 3);
    assert_eq!(
        catalog.writer_for(RecordKind::InspectionCompleted).version,
        2
    );
}

/// A future assessment writer whose criteria items lack `min_score` (the reader's
/// default 0 applies), carry an extra `weight` (skipped) and write `score` as `float`.
const ASSESSMENT_V2: &str = r#"{"type":"record","name":"SupplierAssessmentCompleted","namespace":"io.tierline.v1","fields":[
 {"name":"event_id","type":{"type":"string","logicalType":"uuid"}},
 {"name":"source","type":"string"},
 {"name":"occurred_at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"supplier_id","type":"string"},
 {"name":"assessment_id","type":"string"},
 {"name":"kind","type":{"type":"enum","name":"AssessmentKind","symbols":["ONSITE_AUDIT","SUPPLIER_SELF_CHECK","UNKNOWN"],"default":"UNKNOWN"}},
 {"name":"assessor","type":"string"},
 {"name":"criteria","type":{"type":"array","items":{"type":"record","name":"CriterionScore","fields":[
   {"name":"criterion","type":"string"},{"name":"weight","type":"long"},{"name":"score","type":"float"},{"name":"max_score","type":"double"}]}}},
 {"name":"valid_until","type":["null",{"type":"int","logicalType":"date"}],"default":null}]}"#;

#[test]
fn nested_criteria_resolve_with_defaults_skips_and_promotions() {
    let codec = catalog_with(2002, ASSESSMENT_V2).unwrap();
    let double = |d: f64| d.to_le_bytes().to_vec();
    let mut w = W::default()
        .str(ID)
        .str("qms")
        .long(1_767_225_600_000)
        .str("SUP-1")
        .str("AUD-1")
        .long(1) // a symbol the reader lacks: the enum default
        .str("P-7")
        .long(2) // one block of two criteria
        .str("cooperation")
        .long(3)
        .float(3.5);
    w.0.extend(double(5.0));
    w = w.str("rnd_strength").long(1).float(1.0);
    w.0.extend(double(2.0));
    let bytes = w.long(0).long(0).framed(2002);
    let d = codec.decode(&bytes).unwrap();
    let Record::SupplierAssessmentCompleted(a) = d.record else {
        panic!()
    };
    assert_eq!(a.kind, AssessmentKind::Unknown);
    assert_eq!(a.valid_until, None);
    assert_eq!(
        a.comment, None,
        "a reader field the writer lacks takes its default"
    );
    assert_eq!(
        a.criteria,
        vec![
            CriterionScore {
                criterion: "cooperation".into(),
                score: 3.5,
                min_score: 0.0,
                max_score: 5.0
            },
            CriterionScore {
                criterion: "rnd_strength".into(),
                score: 1.0,
                min_score: 0.0,
                max_score: 2.0
            },
        ]
    );
    // A truncated item is a malformed datum naming the array field, not a panic.
    let cut = &bytes[..bytes.len() - 12];
    assert!(matches!(
        codec.decode(cut),
        Err(DecodeError::Datum { ref field, .. }) if field == "criteria"
    ));
}
