//! Helpers shared by the projector's tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::time::Duration;

use tierline_clock::FixedClock;
use tierline_events::{Codec, Disposition, Framing, InspectionCompleted, Record, Timestamp};
use tierline_projector::Projector;
use tierline_store::{AppendBatch, EventStore, NewEvent};

/// Steps until `n` events were projected. The global cursor waits for every older
/// transaction on the server (other tests' too), so a single step may see nothing yet.
pub async fn project(p: &mut Projector, clock: &FixedClock, batch: usize, n: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut done = 0;
    while done < n && std::time::Instant::now() < deadline {
        let k = p.step(clock, batch).await.unwrap();
        if k == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        done += k;
    }
    done
}

pub async fn append(store: &impl EventStore, records: &[Record]) {
    append_at(store, records, None).await;
}

/// [`append`], recorded at `recorded_at` (`None`: now).
pub async fn append_at(
    store: &impl EventStore,
    records: &[Record],
    recorded_at: Option<Timestamp>,
) {
    let codec = Codec::default();
    let events = records
        .iter()
        .map(|r| {
            let bytes = codec.to_bytes(r, Framing::Confluent).unwrap();
            NewEvent::from_decoded(codec.decode(&bytes).unwrap(), bytes).unwrap()
        })
        .collect();
    store
        .append(&AppendBatch {
            events,
            recorded_at,
            ..Default::default()
        })
        .await
        .unwrap();
}

/// An accepted inspection of 100 units of `supplier` with `critical` critical defects,
/// at `at` (RFC 3339); its event id ends in `n`.
pub fn inspection_of(supplier: &str, n: u128, at: &str, critical: i32) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n),
        source: "qms".into(),
        occurred_at: Timestamp::parse_rfc3339(at).unwrap(),
        supplier_id: supplier.into(),
        inspection_id: format!("IN-{n}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "I".into(),
        inspected_quantity: 100.0,
        defective_quantity: 0.0,
        critical_defects: critical,
        disposition: Disposition::Accepted,
        posting_date: None,
    }
    .into()
}
