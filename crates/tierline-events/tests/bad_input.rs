//! The catalogue of bad inputs: each gets its own specific error, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use common::*;
use tierline_events::*;

fn codec() -> Codec {
    Codec::default()
}

fn valid(framing: Framing) -> Vec<u8> {
    codec()
        .to_bytes(&sample::goods_received(), framing)
        .expect("sample is valid")
}

#[test]
fn empty() {
    assert_eq!(codec().decode(&[]), Err(DecodeError::Empty));
}

#[test]
fn one_byte() {
    for (byte, framing) in [(0x00u8, "confluent"), (0xC3, "single-object")] {
        match codec().decode(&[byte]) {
            Err(DecodeError::TruncatedHeader {
                framing: f, got: 1, ..
            }) => assert_eq!(f, framing),
            other => panic!("{byte:#x}: {other:?}"),
        }
    }
    assert_eq!(
        codec().decode(&[0x7f]),
        Err(DecodeError::UnknownMagic {
            found: "0x7f".into()
        })
    );
}

#[test]
fn truncated_header() {
    assert_eq!(
        codec().decode(&[0x00, 0, 0, 3]),
        Err(DecodeError::TruncatedHeader {
            framing: "confluent",
            needed: 5,
            got: 4
        })
    );
    let full = valid(Framing::SingleObject);
    assert_eq!(
        codec().decode(&full[..9]),
        Err(DecodeError::TruncatedHeader {
            framing: "single-object",
            needed: 10,
            got: 9
        })
    );
}

#[test]
fn unknown_magic_byte() {
    let mut m = valid(Framing::Confluent);
    m[0] = 0x01;
    assert_eq!(
        codec().decode(&m),
        Err(DecodeError::UnknownMagic {
            found: "0x01".into()
        })
    );
    let mut m = valid(Framing::SingleObject);
    m[1] = 0x02;
    let err = codec().decode(&m).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnknownMagic {
            found: "0xc3 0x02".into()
        }
    );
    assert_eq!(err.reason_code(), "unknown-magic");
}

#[test]
fn unknown_schema_id() {
    let mut m = valid(Framing::Confluent);
    m[1..5].copy_from_slice(&9999u32.to_be_bytes());
    assert_eq!(codec().decode(&m), Err(DecodeError::UnknownSchemaId(9999)));
}

#[test]
fn unknown_fingerprint() {
    let mut m = valid(Framing::SingleObject);
    m[2..10].copy_from_slice(&0x0123_4567_89ab_cdefu64.to_le_bytes());
    let err = codec().decode(&m).unwrap_err();
    assert_eq!(err, DecodeError::UnknownFingerprint(0x0123_4567_89ab_cdef));
    assert_eq!(
        err.to_string(),
        "unknown schema fingerprint 0x0123456789abcdef"
    );
}

#[test]
fn truncated_datum() {
    for framing in [Framing::Confluent, Framing::SingleObject] {
        let m = valid(framing);
        // Cut the last field (posting_date: its union index, null).
        match codec().decode(&m[..m.len() - 1]) {
            Err(DecodeError::Datum {
                record: "GoodsReceived",
                field,
                kind: DatumError::Truncated,
            }) => {
                assert_eq!(field, "posting_date")
            }
            other => panic!("{other:?}"),
        }
        // Header only: the first field is missing.
        match codec().decode(&m[..framing.header_len()]) {
            Err(
                e @ DecodeError::Datum {
                    kind: DatumError::Truncated,
                    ..
                },
            ) => {
                assert!(e.to_string().contains("`event_id`"), "{e}");
                assert_eq!(e.reason_code(), "truncated-datum");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn trailing_bytes() {
    let mut m = valid(Framing::Confluent);
    m.extend_from_slice(&[0, 0]);
    assert_eq!(
        codec().decode(&m),
        Err(DecodeError::TrailingBytes {
            record: "GoodsReceived",
            count: 2
        })
    );
}

#[test]
fn invalid_uuid() {
    let good = valid(Framing::Confluent);
    let id = sample::goods_received()
        .envelope()
        .unwrap()
        .event_id
        .to_string();
    for bad in [
        "not-a-uuid-but-thirty-six-chars-long",
        "0190000000007000800000000000000005zz",
        "{0190000-0000-7000-8000-00000000005}",
    ] {
        assert_eq!(bad.len(), 36);
        let m = replace(&good, id.as_bytes(), bad.as_bytes());
        match codec().decode(&m) {
            Err(DecodeError::Invalid(e)) => {
                assert_eq!((e.field, &e.rule), ("event_id", &Rule::Uuid), "{bad}");
                assert_eq!(e.value, bad);
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    // A shorter string in the uuid field: fix the length prefix (36 -> 8).
    let m = replace(
        &good,
        &[&[72u8][..], id.as_bytes()].concat(),
        &[&[16u8][..], b"12345678"].concat(),
    );
    assert!(matches!(
        codec().decode(&m),
        Err(DecodeError::Invalid(ValidationError {
            field: "event_id",
            rule: Rule::Uuid,
            ..
        }))
    ));
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    [&haystack[..at], with, &haystack[at + needle.len()..]].concat()
}

#[test]
fn every_field_rule_broken() {
    let codec = codec();
    let breakers = breakers();
    for b in &breakers {
        let mut record = sample_of(b.kind);
        (b.mutate)(&mut record);
        assert_ne!(
            record,
            sample_of(b.kind),
            "{}: mutation did nothing",
            b.what
        );
        let mut bytes = Vec::new();
        codec.encode_unvalidated(&record, Framing::Confluent, &mut bytes);
        match codec.decode(&bytes) {
            Err(DecodeError::Invalid(e)) => {
                assert_eq!(
                    (e.field, e.rule.code()),
                    (b.field, b.rule),
                    "{}: {e}",
                    b.what
                );
                assert_eq!(e.record, b.kind.name());
            }
            other => panic!("{}: accepted or wrong error: {other:?}", b.what),
        }
        // Encoding checks the same rules.
        assert!(
            codec.to_bytes(&record, Framing::SingleObject).is_err(),
            "{}",
            b.what
        );
    }
    // Every field rule listed in docs/events.md appears at least once.
    for field in [
        "event_id",
        "source",
        "supplier_id",
        "po_number",
        "line_number",
        "quantity",
        "unit_price",
        "currency",
        "confirmed_quantity",
        "inspected_quantity",
        "defective_quantity",
        "critical_defects",
    ] {
        assert!(
            breakers.iter().any(|b| b.field == field),
            "no breaker for {field}"
        );
    }
}

#[test]
fn error_messages_name_the_field_and_rule() {
    let mut r = sample::purchase_order_line_placed();
    if let Record::PurchaseOrderLinePlaced(p) = &mut r {
        p.supplier_id = "SUP 42".into();
    }
    let mut bytes = Vec::new();
    codec().encode_unvalidated(&r, Framing::Confluent, &mut bytes);
    let err = codec().decode(&bytes).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid PurchaseOrderLinePlaced.supplier_id must only contain [A-Za-z0-9._:-] (value: SUP 42)"
    );
    assert_eq!(err.reason_code(), "invalid");
}

#[test]
fn oversize() {
    let m = valid(Framing::Confluent);
    let small = codec().with_max_message_bytes(m.len() - 1);
    assert_eq!(
        small.decode(&m),
        Err(DecodeError::Oversize {
            size: m.len(),
            max: m.len() - 1
        })
    );
    assert!(codec().with_max_message_bytes(m.len()).decode(&m).is_ok());
    let huge = vec![0u8; DEFAULT_MAX_MESSAGE_BYTES + 1];
    assert!(matches!(
        codec().decode(&huge),
        Err(DecodeError::Oversize {
            max: DEFAULT_MAX_MESSAGE_BYTES,
            ..
        })
    ));
}

#[test]
fn malformed_datums() {
    let m = valid(Framing::Confluent);
    let h = 5;
    // event_id's length prefix: 36 -> 72 zig-zag; a negative length instead.
    let mut neg = m.clone();
    neg[h] = 0x03;
    assert!(matches!(
        codec().decode(&neg),
        Err(DecodeError::Datum {
            kind: DatumError::NegativeLength(-2),
            ..
        })
    ));
    // A string length far beyond the message.
    let mut long = m.clone();
    long.splice(h..h + 1, [0xfe, 0xff, 0xff, 0xff, 0x0f]);
    assert!(matches!(
        codec().decode(&long),
        Err(DecodeError::Datum {
            kind: DatumError::Truncated,
            ..
        })
    ));
    // Invalid UTF-8 inside `source`.
    let src = b"wms-plant-7";
    let bad = replace(&m, src, b"wms-pl\xffnt-7");
    assert!(
        matches!(codec().decode(&bad), Err(DecodeError::Datum { kind: DatumError::InvalidUtf8, ref field, .. }) if field == "source")
    );
    // Union branch 2 of ["null","string"] for delivery_note.
    let dn = b"\x0eDN-4471";
    let bad = replace(&m, &[&[2u8][..], dn].concat(), &[&[4u8][..], dn].concat());
    assert!(matches!(
        codec().decode(&bad),
        Err(DecodeError::Datum {
            kind: DatumError::UnionIndex(2),
            ..
        })
    ));
}

#[test]
fn bad_enum_index_and_boolean() {
    let c = codec();
    let rec = sample_of(RecordKind::PurchaseOrderLineCancelled);
    let mut m = c.to_bytes(&rec, Framing::Confluent).unwrap();
    // cancelled_by SUPPLIER (index 1 -> zig-zag 2) is followed by the reason string.
    let reason = b"\x10capacity";
    let bad = replace(
        &m,
        &[&[2u8][..], reason].concat(),
        &[&[6u8][..], reason].concat(),
    );
    assert!(matches!(
        c.decode(&bad),
        Err(DecodeError::Datum {
            kind: DatumError::EnumIndex(3),
            ..
        })
    ));
    let rec = sample_of(RecordKind::AfterSalesCaseOpened);
    m = c.to_bytes(&rec, Framing::Confluent).unwrap();
    let last = m.len() - 1;
    assert_eq!(m[last], 1, "supplier_attributable is the last byte");
    m[last] = 2;
    assert!(matches!(
        c.decode(&m),
        Err(DecodeError::Datum {
            kind: DatumError::InvalidBoolean(2),
            ..
        })
    ));
}

#[test]
fn cloudevents_headers_must_agree_with_the_datum() {
    let c = codec();
    let rec = sample::goods_received();
    let env = rec.envelope().unwrap();
    let m = c.to_bytes(&rec, Framing::Confluent).unwrap();
    let id = env.event_id.to_string();
    let time = env.occurred_at.to_string();
    let ok = CeHeaders {
        id: Some(id.as_bytes()),
        source: Some(b"wms-plant-7"),
        ty: Some(b"io.tierline.v1.GoodsReceived"),
        time: Some(time.as_bytes()),
    };
    assert!(c.decode_with_headers(&m, ok).is_ok());
    let cases: [(&str, CeHeaders<'_>); 4] = [
        (
            "ce_id",
            CeHeaders {
                id: Some(b"0190a3c2-7d4e-7c11-9a5b-3f2e1d0c0001"),
                ..ok
            },
        ),
        (
            "ce_source",
            CeHeaders {
                source: Some(b"wms-plant-8"),
                ..ok
            },
        ),
        (
            "ce_type",
            CeHeaders {
                ty: Some(b"io.tierline.v1.InspectionCompleted"),
                ..ok
            },
        ),
        (
            "ce_time",
            CeHeaders {
                time: Some(b"2026-01-21T01:00:00.001Z"),
                ..ok
            },
        ),
    ];
    for (header, h) in cases {
        match c.decode_with_headers(&m, h) {
            Err(DecodeError::Invalid(ValidationError {
                rule: Rule::HeaderMismatch { header: got, .. },
                ..
            })) => {
                assert_eq!(got, header)
            }
            other => panic!("{header}: {other:?}"),
        }
    }
    // The same instant written with an offset is not a mismatch.
    let offset = CeHeaders {
        time: Some(b"2026-01-21T02:00:00+01:00"),
        ..ok
    };
    assert!(c.decode_with_headers(&m, offset).is_ok());
}
