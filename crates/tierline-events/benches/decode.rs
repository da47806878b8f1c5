//! Decode + validate throughput on one core, next to apache-avro's generic path
//! (`from_avro_datum` + `from_value`) on the same bytes, in the same run.
//!
//! `cargo bench -p tierline-events --bench decode` (env `BENCH_EVENTS`, default 200000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use apache_avro::Schema;
use serde::Deserialize;
use tierline_events::{Catalog, Codec, Framing, Record, RecordKind, sample};

// Plain serde mirrors of the records, as a generic apache-avro user would write them.
#[allow(dead_code)]
#[derive(Deserialize)]
struct Placed {
    event_id: String,
    source: String,
    occurred_at: i64,
    supplier_id: String,
    po_number: String,
    line_number: i32,
    item_id: String,
    category: String,
    quantity: f64,
    unit_of_measure: String,
    unit_price: f64,
    currency: String,
    reference_unit_price: Option<f64>,
    requested_date: i32,
    promised_date: Option<i32>,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct Confirmed {
    event_id: String,
    source: String,
    occurred_at: i64,
    supplier_id: String,
    po_number: String,
    line_number: i32,
    promised_date: i32,
    confirmed_quantity: f64,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct Changed {
    event_id: String,
    source: String,
    occurred_at: i64,
    supplier_id: String,
    po_number: String,
    line_number: i32,
    requested_date: Option<i32>,
    quantity: Option<f64>,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct Cancelled {
    event_id: String,
    source: String,
    occurred_at: i64,
    supplier_id: String,
    po_number: String,
    line_number: i32,
    cancelled_by: String,
    reason: String,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct Received {
    event_id: String,
    source: String,
    occurred_at: i64,
    supplier_id: String,
    receipt_id: String,
    po_number: String,
    line_number: i32,
    quantity: f64,
    site: String,
    delivery_note: Option<String>,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct Inspection {
    event_id: String,
    source: String,
    occurred_at: i64,
    supplier_id: String,
    inspection_id: String,
    receipt_id: Option<String>,
    po_number: Option<String>,
    line_number: Option<i32>,
    item_id: String,
    inspected_quantity: f64,
    defective_quantity: f64,
    critical_defects: i32,
    disposition: String,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct Opened {
    event_id: String,
    source: String,
    occurred_at: i64,
    supplier_id: String,
    case_id: String,
    item_id: String,
    po_number: Option<String>,
    kind: String,
    quantity: f64,
    supplier_attributable: bool,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct Resolved {
    event_id: String,
    source: String,
    occurred_at: i64,
    supplier_id: String,
    case_id: String,
    resolution: String,
    supplier_attributable: bool,
    cost: Option<f64>,
    currency: Option<String>,
}

#[allow(deprecated)] // from_avro_datum is the generic path the baseline is defined by
fn generic(writer: &Schema, reader: Option<&Schema>, kind: RecordKind, datum: &[u8]) -> bool {
    let Ok(value) = apache_avro::from_avro_datum(writer, &mut &datum[..], reader) else {
        return false;
    };
    let v = &value;
    match kind {
        RecordKind::PurchaseOrderLinePlaced => apache_avro::from_value::<Placed>(v).is_ok(),
        RecordKind::PurchaseOrderLineConfirmed => apache_avro::from_value::<Confirmed>(v).is_ok(),
        RecordKind::PurchaseOrderLineChanged => apache_avro::from_value::<Changed>(v).is_ok(),
        RecordKind::PurchaseOrderLineCancelled => apache_avro::from_value::<Cancelled>(v).is_ok(),
        RecordKind::GoodsReceived => apache_avro::from_value::<Received>(v).is_ok(),
        RecordKind::InspectionCompleted => apache_avro::from_value::<Inspection>(v).is_ok(),
        RecordKind::AfterSalesCaseOpened => apache_avro::from_value::<Opened>(v).is_ok(),
        RecordKind::AfterSalesCaseResolved => apache_avro::from_value::<Resolved>(v).is_ok(),
        _ => false,
    }
}

/// Best of `rounds` passes over the messages: events per second.
fn measure(rounds: usize, n: usize, mut pass: impl FnMut() -> usize) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        let ok = pass();
        let took = start.elapsed();
        assert_eq!(ok, n, "every message must decode");
        best = best.min(took);
    }
    n as f64 / best.as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let codec = Codec::default();
    let catalog = Catalog::builtin();
    let records: Vec<Record> = sample::mix(n, 42);
    // A realistic stream: mostly Confluent framing, a quarter single-object.
    let messages: Vec<Vec<u8>> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            codec
                .to_bytes(
                    r,
                    if i % 4 == 0 {
                        Framing::SingleObject
                    } else {
                        Framing::Confluent
                    },
                )
                .unwrap()
        })
        .collect();
    let bytes: usize = messages.iter().map(Vec::len).sum();
    // Writer schemas parsed once, looked up per message as a generic consumer would.
    let parsed: Vec<(u32, u64, RecordKind, Schema)> = catalog
        .schemas()
        .map(|s| {
            (
                s.id.unwrap_or(0),
                s.fingerprint,
                s.kind,
                Schema::parse_str(&s.json).unwrap(),
            )
        })
        .collect();
    let writer_of = |m: &[u8]| -> (&Schema, RecordKind, usize) {
        let (i, off) = if m[0] == 0 {
            let id = u32::from_be_bytes([m[1], m[2], m[3], m[4]]);
            (parsed.iter().position(|p| p.0 == id).unwrap(), 5)
        } else {
            let fp = u64::from_le_bytes(m[2..10].try_into().unwrap());
            (parsed.iter().position(|p| p.1 == fp).unwrap(), 10)
        };
        (&parsed[i].3, parsed[i].2, off)
    };
    let reader_of = |kind: RecordKind| -> &Schema {
        let latest = catalog.writer_for(kind);
        &parsed.iter().find(|p| p.1 == latest.fingerprint).unwrap().3
    };

    println!(
        "decode + validate, {n} messages of a realistic mix ({:.0} bytes avg), one core, best of 5",
        bytes as f64 / n as f64
    );
    let ours = measure(5, n, || {
        messages
            .iter()
            .filter(|m| black_box(codec.decode(black_box(m))).is_ok())
            .count()
    });
    let plain = measure(3, n, || {
        messages
            .iter()
            .filter(|m| {
                let (w, k, off) = writer_of(m);
                black_box(generic(w, None, k, black_box(&m[off..])))
            })
            .count()
    });
    let resolving = measure(3, n, || {
        messages
            .iter()
            .filter(|m| {
                let (w, k, off) = writer_of(m);
                black_box(generic(w, Some(reader_of(k)), k, black_box(&m[off..])))
            })
            .count()
    });
    println!(
        "  tierline-events Codec::decode (frame, resolve, validate): {:>12.0} events/s",
        ours
    );
    println!(
        "  apache-avro from_avro_datum + from_value, no reader schema: {:>12.0} events/s   ratio {:.2}x",
        plain,
        ours / plain
    );
    println!(
        "  apache-avro from_avro_datum + from_value, reader schema:    {:>12.0} events/s   ratio {:.2}x",
        resolving,
        ours / resolving
    );
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "  target >= 1,000,000 events/s/core: {}",
        verdict(ours >= 1_000_000.0)
    );
    println!(
        "  target >= 2x the generic baseline: {}",
        verdict(ours >= 2.0 * plain.max(resolving))
    );
}
