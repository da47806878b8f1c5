//! What goes into the store and what comes out.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use tierline_events::{Codec, DecodeError, Decoded, Record, Timestamp};
use uuid::Uuid;

/// Where a message came from in Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaOrigin {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// A decoded, valid inbound event ready to append, with the message it came in.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The record as read (resolved to the reader schema), for conflict checks.
    pub record: Record,
    /// Dedupe key, part 1.
    pub source: String,
    /// Dedupe key, part 2.
    pub event_id: Uuid,
    /// Supplier.
    pub supplier_id: String,
    /// Business time.
    pub occurred_at: Timestamp,
    /// Confluent id of the writer schema, if it has one.
    pub schema_id: Option<u32>,
    /// Fingerprint of the writer schema.
    pub fingerprint: u64,
    /// The framed message value exactly as received (re-encoded with the catalog's
    /// latest schema when the writer schema was a registry's foreign one).
    pub value: Vec<u8>,
    /// Where the Avro datum starts in `value`.
    pub datum_offset: usize,
    /// The message key, kept for quarantine if the event turns out to conflict.
    pub key: Option<Vec<u8>>,
    /// The message headers, likewise.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Kafka origin, if it came from Kafka.
    pub origin: Option<KafkaOrigin>,
}

/// The record is one of Tierline's own (alerts), not an inbound event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not an inbound event record")]
pub struct NotInbound(pub &'static str);

impl NewEvent {
    /// From a decoded message and its bytes (re-encoded with the catalog's latest
    /// schema when its writer schema is a registry's foreign one).
    pub fn from_decoded(decoded: Decoded, value: Vec<u8>) -> Result<Self, NotInbound> {
        let env = decoded
            .record
            .envelope()
            .ok_or(NotInbound(decoded.meta.record_name))?;
        let (value, datum_offset) = decoded.stored_value(value);
        Ok(NewEvent {
            source: env.source.to_owned(),
            event_id: env.event_id,
            supplier_id: env.supplier_id.to_owned(),
            occurred_at: env.occurred_at,
            schema_id: decoded.meta.schema_id,
            fingerprint: decoded.meta.fingerprint,
            datum_offset,
            record: decoded.record,
            value,
            key: None,
            headers: Vec::new(),
            origin: None,
        })
    }

    /// Sets the Kafka origin, key and headers.
    pub fn with_message(
        mut self,
        origin: KafkaOrigin,
        key: Option<Vec<u8>>,
        headers: Vec<(String, Option<Vec<u8>>)>,
    ) -> Self {
        self.origin = Some(origin);
        self.key = key;
        self.headers = headers;
        self
    }

    /// The Avro datum (the value after its framing header).
    pub fn datum(&self) -> &[u8] {
        self.value.get(self.datum_offset..).unwrap_or_default()
    }

    /// Record full name, e.g. `io.tierline.v1.GoodsReceived`.
    pub fn record_name(&self) -> &'static str {
        self.record.kind().full_name()
    }

    /// The quarantine row for this event when its key is stored with other content
    /// (at `position`, or earlier in the same batch when `None`).
    pub fn conflict_row(&self, position: Option<i64>) -> Quarantined {
        let where_ = match position {
            Some(p) => format!("already stored at position {p}"),
            None => "earlier in the same batch".to_owned(),
        };
        Quarantined {
            origin: self.origin.clone(),
            key: self.key.clone(),
            value: self.value.clone(),
            headers: self.headers.clone(),
            reason_code: CONFLICT_CODE.into(),
            reason: format!(
                "conflicting duplicate: {} {} is {where_} with different content",
                self.source, self.event_id
            ),
        }
    }
}

/// Reason code of a conflicting duplicate (docs/events.md: reason `conflicting duplicate`).
pub const CONFLICT_CODE: &str = "conflicting-duplicate";

/// A consumer position to store with a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetUpdate {
    /// Consumer group.
    pub group: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The next offset to consume.
    pub next_offset: i64,
}

/// A rejected message to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// Where it came from.
    pub origin: Option<KafkaOrigin>,
    /// Original key.
    pub key: Option<Vec<u8>>,
    /// Original value.
    pub value: Vec<u8>,
    /// Original headers.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Short reason code (`DecodeError::reason_code`, or `conflicting-duplicate`).
    pub reason_code: String,
    /// Full reason.
    pub reason: String,
}

/// Everything one transaction writes.
#[derive(Debug, Clone, Default)]
pub struct AppendBatch {
    /// Events to append.
    pub events: Vec<NewEvent>,
    /// Consumer offsets covered by this batch.
    pub offsets: Vec<OffsetUpdate>,
    /// Rejected messages of this batch.
    pub quarantine: Vec<Quarantined>,
    /// When the store records the batch (`recorded_at` of its events and the time of its
    /// quarantine rows); `None`: the database's clock (PostgreSQL's `now()`), the system
    /// clock on SQLite. Set by services that run on a test clock.
    pub recorded_at: Option<Timestamp>,
}

/// What happened to one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored now.
    New,
    /// Already stored with the same content (at this position, if known); dropped.
    Duplicate {
        /// Position of the stored event (`None`: its twin earlier in the same batch).
        position: Option<i64>,
    },
    /// Already stored with different content; quarantined, the stored event stands.
    Conflict {
        /// Position of the stored event (`None`: its twin earlier in the same batch).
        position: Option<i64>,
    },
}

/// One outcome per event of the batch, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Per event.
    pub results: Vec<Appended>,
}

impl AppendOutcome {
    /// Events stored now.
    pub fn new_count(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r, Appended::New))
            .count()
    }
    /// Exact duplicates dropped.
    pub fn duplicate_count(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r, Appended::Duplicate { .. }))
            .count()
    }
    /// Conflicts quarantined.
    pub fn conflict_count(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r, Appended::Conflict { .. }))
            .count()
    }
}

/// A position on the global cursor: (store transaction, position). PostgreSQL orders
/// by both; SQLite commits one writer at a time, so its `txid` is always 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor {
    /// Appending transaction (PostgreSQL `xid8`).
    pub txid: u64,
    /// Event position.
    pub position: i64,
}

impl Cursor {
    /// Before every event.
    pub const START: Cursor = Cursor {
        txid: 0,
        position: 0,
    };
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.txid, self.position)
    }
}

impl FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (t, p) = s
            .split_once(':')
            .ok_or_else(|| format!("cursor `{s}` is not txid:position"))?;
        Ok(Cursor {
            txid: t.parse().map_err(|_| format!("bad txid in cursor `{s}`"))?,
            position: p
                .parse()
                .map_err(|_| format!("bad position in cursor `{s}`"))?,
        })
    }
}

/// A position in one supplier's history: (`occurred_at`, position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SupplierCursor {
    /// Business time of the last event seen.
    pub occurred_at: Timestamp,
    /// Its position.
    pub position: i64,
}

/// Which of a supplier's events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierFilter {
    /// Only events with `occurred_at` >= this.
    pub occurred_from: Option<Timestamp>,
    /// Only events with `occurred_at` < this.
    pub occurred_before: Option<Timestamp>,
    /// Only records of this full name (e.g. `io.tierline.v1.GoodsReceived`).
    pub record_name: Option<String>,
    /// Newest first: by (`occurred_at`, position) descending, `after` being the last
    /// event of the previous page.
    pub newest_first: bool,
}

/// After the last event of any supplier (the start of a newest-first read).
pub(crate) const SUPPLIER_END: SupplierCursor = SupplierCursor {
    occurred_at: Timestamp(Timestamp::MAX.0 + 1),
    position: i64::MAX,
};

/// Before the first event of any supplier (valid events start at 0001-01-01).
pub(crate) const SUPPLIER_START: SupplierCursor = SupplierCursor {
    occurred_at: Timestamp(Timestamp::MIN.0 - 1),
    position: 0,
};

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Global position.
    pub position: i64,
    /// Where it sits on the global cursor.
    pub cursor: Cursor,
    /// Emitting system.
    pub source: String,
    /// Event id.
    pub event_id: Uuid,
    /// Supplier.
    pub supplier_id: String,
    /// Record full name.
    pub record_name: String,
    /// Business time.
    pub occurred_at: Timestamp,
    /// When the store recorded it.
    pub recorded_at: Timestamp,
    /// Writer schema id.
    pub schema_id: Option<u32>,
    /// Writer schema fingerprint.
    pub fingerprint: u64,
    /// The Avro datum as received.
    pub datum: Vec<u8>,
    /// Kafka origin.
    pub origin: Option<KafkaOrigin>,
}

impl StoredEvent {
    /// Reads the datum with its writer schema, resolved to the reader schema.
    pub fn decode(&self, codec: &Codec) -> Result<Record, DecodeError> {
        codec.decode_datum(self.fingerprint, &self.datum)
    }

    /// Where it sits in its supplier's history.
    pub fn supplier_cursor(&self) -> SupplierCursor {
        SupplierCursor {
            occurred_at: self.occurred_at,
            position: self.position,
        }
    }
}

/// A quarantined message as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineRow {
    /// Row id.
    pub id: i64,
    /// When it was quarantined.
    pub received_at: Timestamp,
    /// The message and why.
    pub message: Quarantined,
}

/// A writer schema kept in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchema {
    /// Fingerprint.
    pub fingerprint: u64,
    /// Confluent id.
    pub schema_id: Option<u32>,
    /// Record full name.
    pub record_name: String,
    /// Version.
    pub version: u32,
    /// Schema JSON.
    pub definition: String,
}

/// Splits a batch's events into the first occurrence of each dedupe key and later
/// twins, deciding the twins in memory: the database never sees one key twice.
pub(crate) fn dedupe_in_batch(events: &[NewEvent]) -> (Vec<usize>, Vec<(usize, Appended)>) {
    let mut first: HashMap<(&str, Uuid), usize> = HashMap::with_capacity(events.len());
    let mut unique = Vec::with_capacity(events.len());
    let mut twins = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match first.get(&(e.source.as_str(), e.event_id)) {
            None => {
                first.insert((e.source.as_str(), e.event_id), i);
                unique.push(i);
            }
            Some(&j) if events[j].record == e.record => {
                twins.push((i, Appended::Duplicate { position: None }))
            }
            Some(_) => twins.push((i, Appended::Conflict { position: None })),
        }
    }
    (unique, twins)
}

/// Serialises headers for the quarantine table.
pub(crate) fn headers_json(headers: &[(String, Option<Vec<u8>>)]) -> String {
    let list: Vec<serde_json::Value> = headers
        .iter()
        .map(|(k, v)| {
            let value = v.as_ref().map(|b| match std::str::from_utf8(b) {
                Ok(s) => serde_json::json!({ "utf8": s }),
                Err(_) => serde_json::json!({ "hex": hex(b) }),
            });
            serde_json::json!({ "name": k, "value": value })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

pub(crate) fn headers_from_json(text: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let Ok(serde_json::Value::Array(list)) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|h| {
            let name = h.get("name")?.as_str()?.to_owned();
            let v = h.get("value")?;
            let value = if let Some(s) = v.get("utf8").and_then(|s| s.as_str()) {
                Some(s.as_bytes().to_vec())
            } else {
                v.get("hex").and_then(|s| s.as_str()).and_then(unhex)
            };
            Some((name, value))
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// `Some(origin)` when all three columns are present.
pub(crate) fn origin(
    topic: Option<String>,
    partition: Option<i32>,
    offset: Option<i64>,
) -> Option<KafkaOrigin> {
    Some(KafkaOrigin {
        topic: topic?,
        partition: partition?,
        offset: offset?,
    })
}

/// Decides a batch event whose key is already stored: the same record is a
/// duplicate; another record is a conflict, quarantined through `conflicts`.
pub(crate) fn classify_stored(
    codec: &Codec,
    e: &NewEvent,
    position: i64,
    fingerprint: i64,
    datum: &[u8],
    conflicts: &mut Vec<Quarantined>,
) -> Result<Appended, crate::StoreError> {
    let stored = codec
        .decode_datum(fingerprint as u64, datum)
        .map_err(|err| {
            crate::StoreError::Corrupt(format!("event at position {position}: {err}"))
        })?;
    Ok(if stored == e.record {
        Appended::Duplicate {
            position: Some(position),
        }
    } else {
        conflicts.push(e.conflict_row(Some(position)));
        Appended::Conflict {
            position: Some(position),
        }
    })
}

/// Quarantine rows for conflicting twins inside one batch.
pub(crate) fn twin_conflicts(events: &[NewEvent], results: &[Appended]) -> Vec<Quarantined> {
    results
        .iter()
        .zip(events)
        .filter(|(r, _)| matches!(r, Appended::Conflict { position: None }))
        .map(|(_, e)| e.conflict_row(None))
        .collect()
}

/// A `quarantine` row as both backends return it.
#[derive(sqlx::FromRow)]
pub(crate) struct QuarantineDbRow {
    id: i64,
    received_at: i64,
    kafka_topic: Option<String>,
    kafka_partition: Option<i32>,
    kafka_offset: Option<i64>,
    message_key: Option<Vec<u8>>,
    message_value: Vec<u8>,
    headers: String,
    reason_code: String,
    reason: String,
}

impl From<QuarantineDbRow> for QuarantineRow {
    fn from(r: QuarantineDbRow) -> Self {
        QuarantineRow {
            id: r.id,
            received_at: Timestamp(r.received_at),
            message: Quarantined {
                origin: origin(r.kafka_topic, r.kafka_partition, r.kafka_offset),
                key: r.message_key,
                value: r.message_value,
                headers: headers_from_json(&r.headers),
                reason_code: r.reason_code,
                reason: r.reason,
            },
        }
    }
}

/// A `schemas` row as both backends return it: (fingerprint, id, record, version, JSON).
pub(crate) type SchemaDbRow = (i64, Option<i64>, String, i64, String);

impl From<SchemaDbRow> for StoredSchema {
    fn from((f, id, record_name, version, definition): SchemaDbRow) -> Self {
        StoredSchema {
            fingerprint: f as u64,
            schema_id: id.map(|i| i as u32),
            record_name,
            version: version as u32,
            definition,
        }
    }
}

/// The tail of a query for one supplier's records of `kinds` (bound: `$1` the supplier).
/// The record names are inlined (catalog constants, never input) so that the planner
/// can match the partial index of profile and action records.
pub(crate) fn supplier_records_where(kinds: &[tierline_events::RecordKind]) -> String {
    let names: Vec<String> = kinds
        .iter()
        .map(|k| format!("'{}'", k.full_name()))
        .collect();
    format!(
        "WHERE supplier_id = $1 AND record_name IN ({}) ORDER BY occurred_at, position",
        names.join(", ")
    )
}

/// The suppliers with a record of `kind`, sorted (the name inlined, as above).
pub(crate) fn suppliers_with_sql(kind: tierline_events::RecordKind) -> String {
    format!(
        "SELECT DISTINCT supplier_id FROM events WHERE record_name = '{}' ORDER BY supplier_id",
        kind.full_name()
    )
}
