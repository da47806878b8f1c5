//! Typed errors. Every rejected message maps to one variant, and each variant has a
//! stable short code ([`DecodeError::reason_code`]) for dead-letter headers and metrics.

use std::fmt;

/// A malformed Avro datum (the bytes do not follow the writer schema).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatumError {
    /// The datum ended before the schema was satisfied.
    #[error("datum is truncated")]
    Truncated,
    /// A varint longer than 10 bytes or wider than 64 bits.
    #[error("varint is longer than 64 bits")]
    VarintOverflow,
    /// An `int` outside the 32-bit range.
    #[error("int {0} is outside the 32-bit range")]
    IntOutOfRange(i64),
    /// A negative length prefix for bytes or a string.
    #[error("negative length {0}")]
    NegativeLength(i64),
    /// A string that is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A boolean byte other than 0 or 1.
    #[error("boolean byte {0} is neither 0 nor 1")]
    InvalidBoolean(u8),
    /// A union branch index outside the union.
    #[error("union branch index {0} is out of range")]
    UnionIndex(i64),
    /// An enum index outside the writer's symbols.
    #[error("enum index {0} is out of range")]
    EnumIndex(i64),
    /// A writer enum symbol the reader does not know and that has no default.
    #[error("enum symbol `{0}` is unknown to the reader schema")]
    UnknownSymbol(String),
    /// A union branch of the writer that the reader cannot read.
    #[error("writer union branch {0} has no match in the reader schema")]
    UnresolvableBranch(usize),
    /// An array or map block count that cannot be right.
    #[error("invalid block count {0}")]
    BlockCount(i64),
}

/// A schema that cannot be used: not parseable, or not resolvable to the reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The schema JSON is not a valid Avro schema.
    #[error("invalid Avro schema: {0}")]
    Schema(String),
    /// The writer schema names a record this codec has no type for.
    #[error("unknown record `{0}`")]
    UnknownRecord(String),
    /// The writer schema cannot be resolved to the reader schema.
    #[error("writer schema of {record} cannot be read as the reader schema: {detail}")]
    Incompatible {
        /// Record full name.
        record: String,
        /// What does not match.
        detail: String,
    },
    /// Two schemas claim the same id or fingerprint.
    #[error("duplicate schema {0}")]
    Duplicate(String),
}

/// The rule a field broke.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Not a UUID in its 36-character hyphenated form.
    Uuid,
    /// The nil UUID, which would make every such event a duplicate of the first.
    NilUuid,
    /// A string length (in characters) outside `min..=max`.
    Length {
        /// Least length allowed.
        min: usize,
        /// Greatest length allowed.
        max: usize,
        /// The length found.
        actual: usize,
    },
    /// A character outside the allowed set.
    Charset {
        /// The allowed set, as written in docs/events.md.
        allowed: &'static str,
    },
    /// Not an ISO 4217 code of three upper-case letters.
    Currency,
    /// NaN or infinite.
    NotFinite,
    /// Must be greater than zero.
    Positive,
    /// Must not be negative.
    NonNegative,
    /// Must be at least this.
    AtLeast(i64),
    /// Must not exceed another field.
    AtMostField(&'static str),
    /// A date or timestamp outside years 0001..=9999.
    OutOfRange,
    /// An `occurred_at` outside 1990-01-01T00:00Z ..< 2100-01-01T00:00Z (docs/events.md), such
    /// as an ERP's "empty date" 0001-01-01.
    Implausible,
    /// A NUL character (U+0000), which no store can hold in text.
    Nul,
    /// A control character other than tab, CR and LF (v2 records).
    ControlCharacter,
    /// A number of array entries outside `min..=max`.
    Count {
        /// Least allowed.
        min: usize,
        /// Greatest allowed.
        max: usize,
        /// Found.
        actual: usize,
    },
    /// A name that must be unique within the record appears twice.
    Duplicate,
    /// A number outside `min..=max`.
    Within {
        /// Least allowed.
        min: f64,
        /// Greatest allowed.
        max: f64,
    },
    /// Must be less than another field.
    LessThanField(&'static str),
    /// Must be at least another field (a number or a date).
    AtLeastField(&'static str),
    /// Must lie between two other fields, inclusive.
    BetweenFields(&'static str, &'static str),
    /// A date before the (UTC) date of `occurred_at`.
    BeforeOccurredAt,
    /// A date on or before the (UTC) date of `occurred_at` (it must come after).
    NotAfterOccurredAt,
    /// A window other than 30, 90 or 365 days.
    Window,
    /// A CloudEvents header disagrees with the datum.
    HeaderMismatch {
        /// The header name, e.g. `ce_id`.
        header: &'static str,
        /// The header's value (truncated).
        header_value: String,
    },
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Uuid => f.write_str("must be a UUID (8-4-4-4-12 hex digits)"),
            Rule::NilUuid => f.write_str("must not be the nil UUID"),
            Rule::Length { min, max, actual } => {
                write!(f, "must be {min}..={max} characters long (is {actual})")
            }
            Rule::Charset { allowed } => write!(f, "must only contain {allowed}"),
            Rule::Currency => f.write_str("must be an ISO 4217 code of 3 upper-case letters"),
            Rule::NotFinite => f.write_str("must be a finite number"),
            Rule::Positive => f.write_str("must be > 0"),
            Rule::NonNegative => f.write_str("must be >= 0"),
            Rule::AtLeast(n) => write!(f, "must be >= {n}"),
            Rule::AtMostField(other) => write!(f, "must be <= `{other}`"),
            Rule::OutOfRange => f.write_str("must fall in the years 0001..=9999"),
            Rule::Implausible => f.write_str(
                "must be in 1990-01-01T00:00Z ..< 2100-01-01T00:00Z (an empty date such as 0001-01-01 is refused)",
            ),
            Rule::Nul => f.write_str("must not contain the NUL character (U+0000)"),
            Rule::ControlCharacter => {
                f.write_str("must not contain a control character other than tab, CR and LF")
            }
            Rule::Count { min, max, actual } => {
                write!(f, "must have {min}..={max} entries (has {actual})")
            }
            Rule::Duplicate => f.write_str("must be unique within the record"),
            Rule::Within { min, max } => write!(f, "must be in {min}..={max}"),
            Rule::LessThanField(other) => write!(f, "must be < `{other}`"),
            Rule::AtLeastField(other) => write!(f, "must be >= `{other}`"),
            Rule::BetweenFields(lo, hi) => write!(f, "must be in `{lo}`..=`{hi}`"),
            Rule::BeforeOccurredAt => f.write_str("must not be before the UTC date of `occurred_at`"),
            Rule::NotAfterOccurredAt => f.write_str("must be after the UTC date of `occurred_at`"),
            Rule::Window => f.write_str("must be 30, 90 or 365"),
            Rule::HeaderMismatch {
                header,
                header_value,
            } => {
                write!(
                    f,
                    "disagrees with CloudEvents header {header}={header_value:?}"
                )
            }
        }
    }
}

impl Rule {
    /// A stable short code for the rule.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Uuid => "uuid",
            Rule::NilUuid => "nil-uuid",
            Rule::Length { .. } => "length",
            Rule::Charset { .. } => "charset",
            Rule::Currency => "currency",
            Rule::NotFinite => "not-finite",
            Rule::Positive => "positive",
            Rule::NonNegative => "non-negative",
            Rule::AtLeast(_) => "at-least",
            Rule::AtMostField(_) => "at-most-field",
            Rule::OutOfRange => "out-of-range",
            Rule::Implausible => "implausible-date",
            Rule::Nul => "nul",
            Rule::ControlCharacter => "control-character",
            Rule::Count { .. } => "count",
            Rule::Duplicate => "duplicate",
            Rule::Within { .. } => "within",
            Rule::LessThanField(_) => "less-than-field",
            Rule::AtLeastField(_) => "at-least-field",
            Rule::BetweenFields(..) => "between-fields",
            Rule::BeforeOccurredAt => "before-occurred-at",
            Rule::NotAfterOccurredAt => "not-after-occurred-at",
            Rule::Window => "window",
            Rule::HeaderMismatch { .. } => "header-mismatch",
        }
    }
}

/// A field that breaks a rule of docs/events.md.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{record}.{field} {rule} (value: {value})")]
pub struct ValidationError {
    /// Record short name, e.g. `GoodsReceived`.
    pub record: &'static str,
    /// Field name as in the schema.
    pub field: &'static str,
    /// The rule broken.
    pub rule: Rule,
    /// The offending value, rendered and truncated to 80 characters.
    pub value: String,
}

/// Why an inbound message was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Zero bytes.
    #[error("empty message")]
    Empty,
    /// Larger than the configured maximum.
    #[error("message of {size} bytes exceeds the maximum of {max} bytes")]
    Oversize {
        /// Message size.
        size: usize,
        /// Configured maximum.
        max: usize,
    },
    /// The first bytes name neither framing.
    #[error(
        "unknown magic byte(s) {found}: expected 0x00 (Confluent) or 0xc3 0x01 (single-object)"
    )]
    UnknownMagic {
        /// The bytes found, in hex.
        found: String,
    },
    /// Too short for the framing header its magic byte announces.
    #[error("truncated header: {framing} framing needs {needed} bytes, message has {got}")]
    TruncatedHeader {
        /// `confluent` or `single-object`.
        framing: &'static str,
        /// Header length.
        needed: usize,
        /// Message length.
        got: usize,
    },
    /// A Confluent schema id not in the catalog.
    #[error("unknown schema id {0}")]
    UnknownSchemaId(u32),
    /// A Confluent schema id the configured schema registry does not hold.
    #[error("schema id {0} is not in the schema registry")]
    NotInRegistry(u32),
    /// The schema registry's writer schema cannot be read as Tierline's reader schema.
    #[error("schema id {id} from the schema registry cannot be used: {reason}")]
    IncompatibleSchema {
        /// The registry id.
        id: u32,
        /// Why.
        reason: String,
    },
    /// The id has not been fetched from the registry yet: not the message's fault
    /// (resolve it and decode again; never dead-lettered).
    #[error("schema id {0} has not been resolved through the schema registry yet")]
    NotResolved(u32),
    /// A CRC-64-AVRO fingerprint not in the catalog.
    #[error("unknown schema fingerprint {0:#018x}")]
    UnknownFingerprint(u64),
    /// The datum does not follow its writer schema.
    #[error("malformed {record} datum at field `{field}`: {kind}")]
    Datum {
        /// Record short name.
        record: &'static str,
        /// Writer field being read.
        field: String,
        /// What was wrong.
        kind: DatumError,
    },
    /// Bytes left over after the datum.
    #[error("{count} trailing bytes after the {record} datum")]
    TrailingBytes {
        /// Record short name.
        record: &'static str,
        /// Bytes left over.
        count: usize,
    },
    /// A field breaks a rule.
    #[error("invalid {0}")]
    Invalid(#[from] ValidationError),
}

impl DecodeError {
    /// A stable short code, for dead-letter headers and metric labels.
    pub fn reason_code(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty",
            DecodeError::Oversize { .. } => "oversize",
            DecodeError::UnknownMagic { .. } => "unknown-magic",
            DecodeError::TruncatedHeader { .. } => "truncated-header",
            DecodeError::UnknownSchemaId(_) => "unknown-schema-id",
            DecodeError::NotInRegistry(_) => "unknown-schema-id",
            DecodeError::IncompatibleSchema { .. } => "incompatible-schema",
            DecodeError::NotResolved(_) => "schema-not-resolved",
            DecodeError::UnknownFingerprint(_) => "unknown-fingerprint",
            DecodeError::Datum {
                kind: DatumError::Truncated,
                ..
            } => "truncated-datum",
            DecodeError::Datum { .. } => "malformed-datum",
            DecodeError::TrailingBytes { .. } => "trailing-bytes",
            DecodeError::Invalid(_) => "invalid",
        }
    }
}
