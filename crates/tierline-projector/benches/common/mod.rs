//! What the projector's benchmarks share: appending records to a store as ingest
//! would (encoded, decoded, in batches), and reading a numeric setting.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use tierline_events::{Codec, Framing, Record};
use tierline_store::{AppendBatch, EventStore, NewEvent};

/// Appends `records` in batches of `batch`.
pub(crate) async fn append(
    store: &impl EventStore,
    codec: &Codec,
    records: &[Record],
    batch: usize,
) {
    for chunk in records.chunks(batch) {
        let events = chunk
            .iter()
            .map(|r| {
                let b = codec.to_bytes(r, Framing::Confluent).unwrap();
                NewEvent::from_decoded(codec.decode(&b).unwrap(), b).unwrap()
            })
            .collect();
        store
            .append(&AppendBatch {
                events,
                ..Default::default()
            })
            .await
            .unwrap();
    }
}

/// A numeric environment setting, or `default`.
pub(crate) fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
