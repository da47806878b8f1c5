//! Property tests: no input panics the decoder, and no invalid value slips through.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use proptest::prelude::*;
use tierline_events::*;

fn codec() -> Codec {
    Codec::default()
}

/// Valid headers of every known schema, so random tails reach the datum decoder.
fn headers() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for s in Catalog::builtin().schemas() {
        if let Some(id) = s.id {
            out.push([&[0u8][..], &id.to_be_bytes()].concat());
        }
        out.push([&[0xC3u8, 0x01][..], &s.fingerprint.to_le_bytes()].concat());
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len().max(1);
    match *m {
        Mutation::Flip(i, b) if !bytes.is_empty() => bytes[i % n] ^= b,
        Mutation::Set(i, b) if !bytes.is_empty() => bytes[i % n] = b,
        Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Mutation::Delete(i) if !bytes.is_empty() => {
            bytes.remove(i % n);
        }
        Mutation::Truncate(i) => bytes.truncate(i % n),
        _ => {}
    }
}

/// Whatever decodes must be a valid record that survives a round trip.
fn check_accepted(decoded: &Decoded) {
    assert_eq!(
        validate(&decoded.record),
        Ok(()),
        "accepted an invalid record: {:?}",
        decoded.record
    );
    let again = codec()
        .to_bytes(&decoded.record, decoded.meta.framing)
        .expect("valid records encode");
    assert_eq!(
        codec().decode(&again).expect("re-decodes").record,
        decoded.record
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(h in 0usize..64, tail in proptest::collection::vec(any::<u8>(), 0..300), raw in any::<bool>()) {
        let headers = headers();
        let bytes = if raw { tail } else { [headers[h % headers.len()].clone(), tail].concat() };
        if let Ok(d) = codec().decode(&bytes) {
            check_accepted(&d);
        }
    }

    #[test]
    fn mutated_valid_messages_never_panic(
        seed in any::<u64>(),
        single in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let record = sample::mix(1, seed).remove(0);
        let framing = if single { Framing::SingleObject } else { Framing::Confluent };
        let mut bytes = codec().to_bytes(&record, framing).unwrap();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        match codec().decode(&bytes) {
            Ok(d) => check_accepted(&d),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

/// A random invalid value for a random rule-bearing field.
#[derive(Debug, Clone)]
enum Bad {
    Quantity(f64),
    Supplier(String),
    Source(usize),
    Line(i32),
    Currency(String),
    Defective(f64),
    Occurred(i64),
}

fn bad() -> impl Strategy<Value = Bad> {
    prop_oneof![
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(0.0),
            Just(-0.0),
            (-1e300..0.0f64)
        ]
        .prop_map(Bad::Quantity),
        prop_oneof![
            Just(String::new()),
            "[A-Za-z0-9._:-]{65,90}",
            "[A-Za-z0-9]{0,10}[ /#@ÄÖ\u{0}\\t][A-Za-z0-9]{0,10}",
        ]
        .prop_map(Bad::Supplier),
        prop_oneof![Just(0usize), 129usize..300].prop_map(Bad::Source),
        (i32::MIN..=0).prop_map(Bad::Line),
        prop_oneof!["[a-z]{3}", "[A-Z]{0,2}", "[A-Z]{4,6}", "[A-Z][0-9][A-Z]"]
            .prop_map(Bad::Currency),
        (1e-9..1e6f64).prop_map(Bad::Defective),
        prop_oneof![i64::MIN..Timestamp::MIN.0, (Timestamp::MAX.0 + 1)..i64::MAX]
            .prop_map(Bad::Occurred),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// No silent acceptance: a valid record with one field made invalid is rejected,
    /// naming that field.
    #[test]
    fn invalid_values_are_never_accepted(seed in any::<u64>(), bad in bad()) {
        let mut record = sample::mix(1, seed).remove(0);
        let field = match (&mut record, &bad) {
            (Record::PurchaseOrderLinePlaced(r), Bad::Quantity(q)) => { r.quantity = *q; "quantity" }
            (Record::GoodsReceived(r), Bad::Quantity(q)) => { r.quantity = *q; "quantity" }
            (Record::PurchaseOrderLineConfirmed(r), Bad::Quantity(q)) => { r.confirmed_quantity = *q; "confirmed_quantity" }
            (Record::InspectionCompleted(r), Bad::Quantity(q)) => { r.inspected_quantity = *q; "inspected_quantity" }
            (Record::PurchaseOrderLinePlaced(r), Bad::Currency(c)) => { r.currency = c.clone(); "currency" }
            (Record::InspectionCompleted(r), Bad::Defective(d)) => { r.defective_quantity = r.inspected_quantity + d; "defective_quantity" }
            (Record::AfterSalesCaseOpened(_) | Record::AfterSalesCaseResolved(_), Bad::Line(_) | Bad::Quantity(_) | Bad::Currency(_) | Bad::Defective(_)) => return Ok(()),
            (r, Bad::Line(l)) => match r {
                Record::PurchaseOrderLinePlaced(r) => { r.line_number = *l; "line_number" }
                Record::PurchaseOrderLineConfirmed(r) => { r.line_number = *l; "line_number" }
                Record::PurchaseOrderLineChanged(r) => { r.line_number = *l; "line_number" }
                Record::PurchaseOrderLineCancelled(r) => { r.line_number = *l; "line_number" }
                Record::GoodsReceived(r) => { r.line_number = *l; "line_number" }
                Record::InspectionCompleted(r) => { r.line_number = Some(*l); "line_number" }
                _ => return Ok(()),
            },
            (r, Bad::Supplier(s)) => { set_common(r, |sup, _, _| *sup = s.clone()); "supplier_id" }
            (r, Bad::Source(n)) => { set_common(r, |_, src, _| *src = "x".repeat(*n)); "source" }
            (r, Bad::Occurred(t)) => { set_common(r, |_, _, at| *at = Timestamp(*t)); "occurred_at" }
            _ => return Ok(()),
        };
        let mut bytes = Vec::new();
        codec().encode_unvalidated(&record, Framing::Confluent, &mut bytes);
        match codec().decode(&bytes) {
            Err(DecodeError::Invalid(e)) => prop_assert_eq!(e.field, field, "{}", e),
            other => prop_assert!(false, "accepted {:?} -> {:?}", bad, other),
        }
    }
}

fn set_common(r: &mut Record, f: impl FnOnce(&mut String, &mut String, &mut Timestamp)) {
    match r {
        Record::PurchaseOrderLinePlaced(r) => {
            f(&mut r.supplier_id, &mut r.source, &mut r.occurred_at)
        }
        Record::PurchaseOrderLineConfirmed(r) => {
            f(&mut r.supplier_id, &mut r.source, &mut r.occurred_at)
        }
        Record::PurchaseOrderLineChanged(r) => {
            f(&mut r.supplier_id, &mut r.source, &mut r.occurred_at)
        }
        Record::PurchaseOrderLineCancelled(r) => {
            f(&mut r.supplier_id, &mut r.source, &mut r.occurred_at)
        }
        Record::GoodsReceived(r) => f(&mut r.supplier_id, &mut r.source, &mut r.occurred_at),
        Record::InspectionCompleted(r) => f(&mut r.supplier_id, &mut r.source, &mut r.occurred_at),
        Record::AfterSalesCaseOpened(r) => f(&mut r.supplier_id, &mut r.source, &mut r.occurred_at),
        Record::AfterSalesCaseResolved(r) => {
            f(&mut r.supplier_id, &mut r.source, &mut r.occurred_at)
        }
        _ => {}
    }
}
