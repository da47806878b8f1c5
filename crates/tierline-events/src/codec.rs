//! Framing (Confluent and Avro single-object), the size limit, resolution through
//! the catalog, validation and CloudEvents header checks: bytes in, typed record out.

use std::sync::Arc;

use crate::catalog::{Catalog, Entry, SchemaInfo};
use crate::error::{DecodeError, Rule, ValidationError};
use crate::records::Record;
use crate::registry_ids::{Learned, RegistryIds};
use crate::validate::validate;
use crate::value::{Timestamp, truncate};

/// Default maximum message size (docs/events.md: 1 MiB).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;

/// How a value is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// `0x00`, 4-byte big-endian schema id, datum.
    Confluent,
    /// `0xC3 0x01`, 8-byte little-endian CRC-64-AVRO fingerprint, datum.
    SingleObject,
}

impl Framing {
    /// Header length in bytes.
    pub fn header_len(self) -> usize {
        match self {
            Framing::Confluent => 5,
            Framing::SingleObject => 10,
        }
    }
}

/// What a decoded message was, besides its record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Meta {
    /// The framing found.
    pub framing: Framing,
    /// Confluent id of the writer schema, if it has one.
    pub schema_id: Option<u32>,
    /// CRC-64-AVRO fingerprint of the writer schema.
    pub fingerprint: u64,
    /// Writer schema version.
    pub schema_version: u32,
    /// Record full name.
    pub record_name: &'static str,
    /// Where the Avro datum starts in the message (after the framing header).
    pub datum_offset: usize,
    /// The writer schema came from a schema registry and is none of the catalog's
    /// versions: the fields above name the catalog's latest schema of the record, the
    /// form the event is stored in ([`Decoded::stored_value`]).
    pub foreign: bool,
}

/// A decoded and validated message.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The record, resolved to the reader schema.
    pub record: Record,
    /// Framing and writer schema.
    pub meta: Meta,
}

impl Decoded {
    /// The framed value to store for a message received as `received`, and where its
    /// datum starts: the message itself, or for a foreign writer schema the record
    /// re-encoded with the catalog's latest schema (what [`Meta`] then names), so that
    /// every reader of the store decodes it with the shipped catalog.
    pub fn stored_value(&self, received: Vec<u8>) -> (Vec<u8>, usize) {
        if !self.meta.foreign {
            return (received, self.meta.datum_offset);
        }
        let mut buf = Vec::with_capacity(received.len());
        match self.meta.schema_id {
            Some(id) => {
                buf.push(0x00);
                buf.extend_from_slice(&id.to_be_bytes());
            }
            None => {
                buf.extend_from_slice(&[0xC3, 0x01]);
                buf.extend_from_slice(&self.meta.fingerprint.to_le_bytes());
            }
        }
        let offset = buf.len();
        self.record.encode_datum(&mut buf);
        (buf, offset)
    }
}

/// CloudEvents Kafka-binding headers that may accompany a message (raw values).
#[derive(Debug, Clone, Copy, Default)]
pub struct CeHeaders<'a> {
    /// `ce_id`: must equal the event id.
    pub id: Option<&'a [u8]>,
    /// `ce_source`: must equal `source`.
    pub source: Option<&'a [u8]>,
    /// `ce_type`: must equal the record full name.
    pub ty: Option<&'a [u8]>,
    /// `ce_time`: RFC 3339, must equal `occurred_at` to the millisecond.
    pub time: Option<&'a [u8]>,
}

impl<'a> CeHeaders<'a> {
    /// Picks the CloudEvents headers out of (name, value) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>) -> Self {
        let mut out = CeHeaders::default();
        for (k, v) in pairs {
            match k {
                "ce_id" => out.id = v,
                "ce_source" => out.source = v,
                "ce_type" => out.ty = v,
                "ce_time" => out.time = v,
                _ => {}
            }
        }
        out
    }
}

/// Decoder and encoder over a catalog. Cheap to clone and share across threads.
#[derive(Debug, Clone)]
pub struct Codec {
    catalog: Arc<Catalog>,
    max_message_bytes: usize,
    /// With a schema registry: Confluent ids resolve here, never in the catalog.
    registry: Option<Arc<RegistryIds>>,
}

impl Default for Codec {
    fn default() -> Self {
        Codec::new(Catalog::builtin())
    }
}

impl Codec {
    /// A codec over `catalog` with the default size limit.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Codec {
            catalog,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            registry: None,
        }
    }

    /// Resolves Confluent ids through a schema registry's ids from now on: a table of
    /// at most `capacity` ids, filled by the caller ([`Codec::registry_ids`]); an id not
    /// in it yet fails with [`DecodeError::NotResolved`].
    pub fn with_registry(mut self, capacity: usize) -> Self {
        self.registry = Some(Arc::new(RegistryIds::new(self.catalog.clone(), capacity)));
        self
    }

    /// The registry id table, when Confluent ids resolve through a registry.
    pub fn registry_ids(&self) -> Option<&Arc<RegistryIds>> {
        self.registry.as_ref()
    }

    /// The Confluent id of a framed message, if it is Confluent-framed.
    pub fn confluent_id(bytes: &[u8]) -> Option<u32> {
        match bytes {
            [0x00, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => None,
        }
    }

    /// Sets the maximum message size in bytes.
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.max_message_bytes = max;
        self
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Decodes, resolves and validates one message value.
    pub fn decode(&self, bytes: &[u8]) -> Result<Decoded, DecodeError> {
        self.decode_with_headers(bytes, CeHeaders::default())
    }

    /// As [`Codec::decode`], and checks CloudEvents headers against the datum.
    pub fn decode_with_headers(
        &self,
        bytes: &[u8],
        headers: CeHeaders<'_>,
    ) -> Result<Decoded, DecodeError> {
        let decoded = self.decode_unvalidated(bytes)?;
        validate(&decoded.record)?;
        check_headers(&decoded.record, headers)?;
        Ok(decoded)
    }

    /// Decodes and resolves without checking the field rules (for tools that show
    /// bad data; ingest never uses it).
    pub fn decode_unvalidated(&self, bytes: &[u8]) -> Result<Decoded, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        if bytes.len() > self.max_message_bytes {
            return Err(DecodeError::Oversize {
                size: bytes.len(),
                max: self.max_message_bytes,
            });
        }
        // Held here so that the entry it lends outlives the match below.
        let learned = match (Codec::confluent_id(bytes), &self.registry) {
            (Some(id), Some(ids)) => Some((id, ids.get(id).ok_or(DecodeError::NotResolved(id))?)),
            _ => None,
        };
        let mut foreign = false;
        let (framing, entry) = match bytes {
            [0x00, a, b, c, d, ..] => {
                let id = u32::from_be_bytes([*a, *b, *c, *d]);
                let entry = match &learned {
                    Some((id, learned)) => registry_entry(*id, learned, &mut foreign)?,
                    None => self
                        .catalog
                        .by_id(id)
                        .ok_or(DecodeError::UnknownSchemaId(id))?,
                };
                (Framing::Confluent, entry)
            }
            [0x00, ..] => return Err(truncated_header(Framing::Confluent, bytes.len())),
            [0xC3, 0x01, f @ ..] if f.len() >= 8 => {
                let mut fp = [0u8; 8];
                fp.copy_from_slice(&f[..8]);
                let fp = u64::from_le_bytes(fp);
                (
                    Framing::SingleObject,
                    self.catalog
                        .by_fingerprint(fp)
                        .ok_or(DecodeError::UnknownFingerprint(fp))?,
                )
            }
            [0xC3] | [0xC3, 0x01, ..] => {
                return Err(truncated_header(Framing::SingleObject, bytes.len()));
            }
            [a, rest @ ..] => {
                let found = match (a, rest.first()) {
                    (0xC3, Some(b)) => format!("0x{a:02x} 0x{b:02x}"),
                    _ => format!("0x{a:02x}"),
                };
                return Err(DecodeError::UnknownMagic { found });
            }
            [] => return Err(DecodeError::Empty),
        };
        let datum_offset = framing.header_len();
        let record = entry
            .plan
            .decode(bytes.get(datum_offset..).unwrap_or_default())?;
        let stored = if foreign {
            self.catalog.writer_for(record.kind())
        } else {
            &entry.info
        };
        let mut meta = meta(framing, stored, datum_offset);
        meta.foreign = foreign;
        Ok(Decoded { record, meta })
    }

    /// Decodes a bare datum written with the schema of this fingerprint (as kept in
    /// the event store), resolved to the reader schema; the rules are not checked.
    pub fn decode_datum(&self, fingerprint: u64, datum: &[u8]) -> Result<Record, DecodeError> {
        let entry = self
            .catalog
            .by_fingerprint(fingerprint)
            .ok_or(DecodeError::UnknownFingerprint(fingerprint))?;
        entry.plan.decode(datum)
    }

    /// Encodes a record with the latest schema of its kind after checking its
    /// rules. Appends to `buf`.
    pub fn encode(
        &self,
        record: &Record,
        framing: Framing,
        buf: &mut Vec<u8>,
    ) -> Result<(), ValidationError> {
        validate(record)?;
        self.encode_unvalidated(record, framing, buf);
        Ok(())
    }

    /// Encodes without checking the rules: for producing bad input on purpose (tests,
    /// simulators of faulty systems).
    pub fn encode_unvalidated(&self, record: &Record, framing: Framing, buf: &mut Vec<u8>) {
        let info = self.catalog.writer_for(record.kind());
        match (framing, info.id) {
            (Framing::Confluent, Some(id)) => {
                buf.push(0x00);
                buf.extend_from_slice(&id.to_be_bytes());
            }
            // A schema without a Confluent id can only be framed by fingerprint.
            _ => {
                buf.extend_from_slice(&[0xC3, 0x01]);
                buf.extend_from_slice(&info.fingerprint.to_le_bytes());
            }
        }
        record.encode_datum(buf);
    }

    /// Encodes into a new buffer.
    pub fn to_bytes(&self, record: &Record, framing: Framing) -> Result<Vec<u8>, ValidationError> {
        let mut buf = Vec::with_capacity(128);
        self.encode(record, framing, &mut buf)?;
        Ok(buf)
    }
}

/// The entry a registry id resolved to, or why its messages are rejected.
fn registry_entry<'a>(
    id: u32,
    learned: &'a Learned,
    foreign: &mut bool,
) -> Result<&'a Entry, DecodeError> {
    match learned {
        Learned::Schema { entry, foreign: f } => {
            *foreign = *f;
            Ok(entry)
        }
        Learned::Unknown => Err(DecodeError::NotInRegistry(id)),
        Learned::Rejected(reason) => Err(DecodeError::IncompatibleSchema {
            id,
            reason: reason.clone(),
        }),
    }
}

fn truncated_header(framing: Framing, got: usize) -> DecodeError {
    let name = match framing {
        Framing::Confluent => "confluent",
        Framing::SingleObject => "single-object",
    };
    DecodeError::TruncatedHeader {
        framing: name,
        needed: framing.header_len(),
        got,
    }
}

fn meta(framing: Framing, info: &SchemaInfo, datum_offset: usize) -> Meta {
    Meta {
        framing,
        schema_id: info.id,
        fingerprint: info.fingerprint,
        schema_version: info.version,
        record_name: info.kind.full_name(),
        datum_offset,
        foreign: false,
    }
}

/// docs/events.md: when a CloudEvents header and a datum field both exist, the datum
/// wins and a mismatch is a validation error.
fn check_headers(record: &Record, h: CeHeaders<'_>) -> Result<(), ValidationError> {
    let name = record.kind().name();
    let mismatch = |field: &'static str, header: &'static str, raw: &[u8]| {
        let header_value = truncate(&String::from_utf8_lossy(raw));
        Err(ValidationError {
            record: name,
            field,
            rule: Rule::HeaderMismatch {
                header,
                header_value,
            },
            value: String::new(),
        })
    };
    if let Some(raw) = h.ty
        && raw != record.kind().full_name().as_bytes()
    {
        return mismatch("type", "ce_type", raw);
    }
    let Some(env) = record.envelope() else {
        return Ok(());
    };
    if let Some(raw) = h.id {
        let same = std::str::from_utf8(raw)
            .ok()
            .and_then(|s| uuid::Uuid::try_parse(s).ok())
            == Some(env.event_id);
        if !same {
            return mismatch("event_id", "ce_id", raw);
        }
    }
    if let Some(raw) = h.source
        && raw != env.source.as_bytes()
    {
        return mismatch("source", "ce_source", raw);
    }
    if let Some(raw) = h.time {
        let t = std::str::from_utf8(raw)
            .ok()
            .and_then(Timestamp::parse_rfc3339);
        if t != Some(env.occurred_at) {
            return mismatch("occurred_at", "ce_time", raw);
        }
    }
    Ok(())
}
