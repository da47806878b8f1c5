//! What the projector's benchmarks share: appending records as ingest would (the
//! tests' helper, in batches), and reading a numeric setting.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use tierline_events::Record;
use tierline_store::EventStore;

#[path = "../../tests/common/mod.rs"]
mod tests_common;

/// Appends `records` in batches of `batch`.
pub(crate) async fn append(store: &impl EventStore, records: &[Record], batch: usize) {
    for chunk in records.chunks(batch) {
        tests_common::append(store, chunk).await;
    }
}

/// A numeric environment setting, or `default`.
pub(crate) fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
