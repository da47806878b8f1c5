//! Values between Tierline's types and each dialect's columns. PostgreSQL has dates,
//! instants and float arrays; SQLite keeps days as integers, instants as milliseconds
//! and partials as little-endian float64 blobs.

use chrono::{DateTime, NaiveDate, Utc};
use tierline_events::{Date, Timestamp};
use tierline_scoring::ExactSum;

pub(crate) fn pg_date(d: Date) -> NaiveDate {
    d.to_naive().unwrap_or_default()
}

pub(crate) fn date(d: NaiveDate) -> Date {
    Date::from_naive(d)
}

pub(crate) fn pg_ts(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.0).unwrap_or_default()
}

pub(crate) fn ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp(t.timestamp_millis())
}

/// A SQLite day column.
pub(crate) fn day(d: i64) -> Date {
    Date(i32::try_from(d).unwrap_or(i32::MAX))
}

/// A `float8[]` literal whose values read back bit for bit (Rust prints the shortest
/// representation that round-trips, and PostgreSQL's float8 input is exact).
pub(crate) fn float8_array_literal(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
    format!("{{{}}}", items.join(","))
}

/// Partials as a SQLite blob.
pub(crate) fn parts_blob(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A SQLite partials blob back as an exact sum; `None` if it is not whole float64s.
pub(crate) fn blob_parts(blob: &[u8]) -> Option<ExactSum> {
    if !blob.len().is_multiple_of(8) {
        return None;
    }
    let values: Vec<f64> = blob
        .chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            f64::from_le_bytes(b)
        })
        .collect();
    Some(ExactSum::from_parts(&values))
}

#[cfg(test)]
mod tests {
    #[test]
    fn partials_survive_the_blob() {
        let parts = [1e16, 1.0, -3.5e-20];
        let back = super::blob_parts(&super::parts_blob(&parts)).map(|s| s.canonical_parts());
        assert_eq!(
            back,
            Some(tierline_scoring::ExactSum::from_parts(&parts).canonical_parts())
        );
        assert!(super::blob_parts(&[1, 2, 3]).is_none());
    }
}
