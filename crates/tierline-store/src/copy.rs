//! PostgreSQL binary COPY encoding (`COPY … FROM STDIN (FORMAT binary)`): the
//! fastest way rows reach a table.

use crate::types::NewEvent;

/// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// The columns [`encode_events`] writes, in order.
pub(crate) const EVENT_COLUMNS: &str = "source, event_id, supplier_id, record_name, occurred_at, schema_id, fingerprint, datum, kafka_topic, kafka_partition, kafka_offset";

/// Rows in PostgreSQL's binary COPY format, for `COPY … FROM STDIN (FORMAT binary)`:
/// no text formatting on this side, no parsing on the server's.
#[derive(Debug)]
pub struct CopyBuf(Vec<u8>);

impl CopyBuf {
    /// The header, with room for about `rows` rows.
    pub fn new(rows: usize) -> Self {
        let mut buf = Vec::with_capacity(19 + rows * 200 + 2);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        CopyBuf(buf)
    }

    /// Starts a row of `n` fields.
    pub fn fields(&mut self, n: i16) {
        self.0.extend_from_slice(&n.to_be_bytes());
    }

    /// A `bytea` or `text` field.
    pub fn bytes(&mut self, b: &[u8]) {
        // Values here are bounded by the message size limit, far below i32::MAX.
        self.0.extend_from_slice(&(b.len() as i32).to_be_bytes());
        self.0.extend_from_slice(b);
    }

    /// A NULL field.
    pub fn null(&mut self) {
        self.0.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// An `int4` field.
    pub fn i32(&mut self, v: i32) {
        self.bytes(&v.to_be_bytes());
    }

    /// An `int8` field.
    pub fn i64(&mut self, v: i64) {
        self.bytes(&v.to_be_bytes());
    }

    /// A `float8` field.
    pub fn f64(&mut self, v: f64) {
        self.bytes(&v.to_bits().to_be_bytes());
    }

    /// A one-dimensional `float8[]` field (no NULL elements).
    pub fn f64_array(&mut self, values: &[f64]) {
        const FLOAT8_OID: i32 = 701;
        // Header: dimensions (0 for the empty array), has-nulls flag, element type; then
        // (length, lower bound) of the one dimension.
        let dims = i32::from(!values.is_empty());
        let len = 12 + dims as usize * 8 + values.len() * 12;
        self.0.extend_from_slice(&(len as i32).to_be_bytes());
        self.0.extend_from_slice(&dims.to_be_bytes());
        self.0.extend_from_slice(&0i32.to_be_bytes());
        self.0.extend_from_slice(&FLOAT8_OID.to_be_bytes());
        if dims == 1 {
            self.0
                .extend_from_slice(&(values.len() as i32).to_be_bytes());
            self.0.extend_from_slice(&1i32.to_be_bytes());
        }
        for v in values {
            self.f64(*v);
        }
    }

    /// A `date` field from days since 1970-01-01.
    pub fn date(&mut self, days_since_unix_epoch: i32) {
        // PostgreSQL counts days from 2000-01-01.
        self.i32(days_since_unix_epoch - 10_957);
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing at all was written (never: the header is always there).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes to send, trailer included.
    pub fn finish(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&(-1i16).to_be_bytes());
        self.0
    }
}

/// Encodes the events at `indices` as binary COPY rows of [`EVENT_COLUMNS`].
pub(crate) fn encode_events(events: &[NewEvent], indices: &[usize]) -> Vec<u8> {
    let mut c = CopyBuf::new(indices.len());
    for e in indices.iter().filter_map(|&i| events.get(i)) {
        c.fields(11);
        c.bytes(e.source.as_bytes());
        c.bytes(e.event_id.as_bytes());
        c.bytes(e.supplier_id.as_bytes());
        c.bytes(e.record_name().as_bytes());
        c.i64(
            e.occurred_at
                .0
                .saturating_mul(1000)
                .saturating_sub(PG_EPOCH_MICROS),
        );
        match e.schema_id {
            Some(id) => c.i32(id as i32),
            None => c.null(),
        }
        c.i64(e.fingerprint as i64);
        c.bytes(e.datum());
        match &e.origin {
            Some(o) => {
                c.bytes(o.topic.as_bytes());
                c.i32(o.partition);
                c.i64(o.offset);
            }
            None => {
                c.null();
                c.null();
                c.null();
            }
        }
    }
    c.finish()
}
