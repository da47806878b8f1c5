//! Field-level building blocks: decoded slot values, calendar types, and the
//! [`AvroField`] trait that maps one Rust field to its Avro encoding.

use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use uuid::Uuid;

use crate::binary::{put_double, put_long, put_str};
use crate::error::Rule;

/// One decoded reader-field value, borrowing strings from the message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Val<'a> {
    /// Not set by the writer and no default (an internal error if a field needs it).
    Absent,
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    Enum(u32),
    /// An array of records: its bytes (already checked) and how to read each item.
    Records(&'a [u8], crate::plan::BodyRef<'a>),
    /// An array of strings: its bytes (already checked).
    Strings(&'a [u8]),
}

/// Why a slot could not become a field value.
#[derive(Debug)]
pub(crate) enum FieldErr {
    /// The slot holds no value of the expected type.
    Missing,
    /// The value breaks a rule (e.g. not a UUID).
    Rule(Rule, String),
}

/// A Rust field type with a fixed Avro encoding.
pub(crate) trait AvroField: Sized {
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr>;
    fn encode(&self, buf: &mut Vec<u8>);
}

impl AvroField for String {
    #[inline]
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        match v {
            Val::Str(s) => Ok((*s).to_owned()),
            _ => Err(FieldErr::Missing),
        }
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        put_str(buf, self);
    }
}

impl AvroField for i32 {
    #[inline]
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        match v {
            Val::Int(i) => Ok(*i),
            _ => Err(FieldErr::Missing),
        }
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        put_long(buf, i64::from(*self));
    }
}

impl AvroField for f64 {
    #[inline]
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        match v {
            Val::Double(d) => Ok(*d),
            _ => Err(FieldErr::Missing),
        }
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        put_double(buf, *self);
    }
}

impl AvroField for bool {
    #[inline]
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        match v {
            Val::Bool(b) => Ok(*b),
            _ => Err(FieldErr::Missing),
        }
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        buf.push(u8::from(*self));
    }
}

/// A record nested in another (the items of an array field).
pub(crate) trait NestedRecord: Sized {
    /// Builds the value from the reader's slots, in field order.
    fn from_slots(slots: &[Val<'_>]) -> Result<Self, FieldErr>;
    /// Appends the Avro binary datum.
    fn encode_datum(&self, buf: &mut Vec<u8>);
}

/// An array of nested records, written as one block.
impl<T: NestedRecord> AvroField for Vec<T> {
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        let Val::Records(bytes, body) = v else {
            return Err(FieldErr::Missing);
        };
        let mut out = Vec::new();
        body.0.items(bytes, |slots| {
            out.push(T::from_slots(slots)?);
            Ok(())
        })?;
        Ok(out)
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        if !self.is_empty() {
            put_long(buf, self.len() as i64);
            for item in self {
                item.encode_datum(buf);
            }
        }
        put_long(buf, 0);
    }
}

/// An array of strings, written as one block.
impl AvroField for Vec<String> {
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        let Val::Strings(bytes) = v else {
            return Err(FieldErr::Missing);
        };
        let mut out = Vec::new();
        let mut c = crate::binary::Cursor::new(bytes);
        crate::plan::walk_blocks(&mut c, |c| {
            out.push(c.str()?.to_owned());
            Ok(())
        })
        .map_err(|_| FieldErr::Missing)?;
        Ok(out)
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        if !self.is_empty() {
            put_long(buf, self.len() as i64);
            for s in self {
                put_str(buf, s);
            }
        }
        put_long(buf, 0);
    }
}

/// `["null", T]`: branch 0 is null.
impl<T: AvroField> AvroField for Option<T> {
    #[inline]
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        match v {
            Val::Null => Ok(None),
            other => T::from_val(other).map(Some),
        }
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        match self {
            None => put_long(buf, 0),
            Some(v) => {
                put_long(buf, 1);
                v.encode(buf);
            }
        }
    }
}

/// `{"type":"string","logicalType":"uuid"}`: the 36-character hyphenated form only,
/// so one UUID has one spelling up to case and dedupe cannot be fooled.
impl AvroField for Uuid {
    #[inline]
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        match v {
            Val::Str(s) if s.len() == 36 => {
                Uuid::try_parse(s).map_err(|_| FieldErr::Rule(Rule::Uuid, truncate(s)))
            }
            Val::Str(s) => Err(FieldErr::Rule(Rule::Uuid, truncate(s))),
            _ => Err(FieldErr::Missing),
        }
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        let mut tmp = [0u8; 36];
        put_str(buf, self.hyphenated().encode_lower(&mut tmp));
    }
}

/// Renders a value for an error message, cut to 80 characters.
pub(crate) fn truncate(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Days between 0001-01-01 (proleptic Gregorian) and 1970-01-01.
const DAYS_CE_TO_EPOCH: i32 = 719_163;

/// A UTC calendar date: Avro `{"type":"int","logicalType":"date"}`, days since
/// 1970-01-01. JSON form `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

impl Date {
    /// Least date the contract accepts (0001-01-01).
    pub const MIN: Date = Date(-719_162);
    /// Greatest date the contract accepts (9999-12-31).
    pub const MAX: Date = Date(2_932_896);

    /// The chrono date, if in chrono's range.
    pub fn to_naive(self) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(self.0.checked_add(DAYS_CE_TO_EPOCH)?)
    }

    /// From a chrono date.
    pub fn from_naive(d: NaiveDate) -> Self {
        use chrono::Datelike;
        Date(d.num_days_from_ce() - DAYS_CE_TO_EPOCH)
    }

    /// From year, month, day; `None` if not a date.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(y, m, d).map(Self::from_naive)
    }

    /// From its JSON form `YYYY-MM-DD`; `None` if it is not one.
    pub fn parse(s: &str) -> Option<Self> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(Self::from_naive)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_naive() {
            Some(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            None => write!(f, "day {} since 1970-01-01", self.0),
        }
    }
}

impl AvroField for Date {
    #[inline]
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        i32::from_val(v).map(Date)
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        self.0.encode(buf);
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_naive() {
            Some(_) => s.collect_str(self),
            None => s.serialize_i32(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| de::Error::custom(format!("`{s}` is not a YYYY-MM-DD date")))
    }
}

/// An instant: Avro `{"type":"long","logicalType":"timestamp-millis"}`, milliseconds
/// since 1970-01-01T00:00:00Z. JSON form RFC 3339 UTC with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// 0001-01-01T00:00:00.000Z.
    pub const MIN: Timestamp = Timestamp(-62_135_596_800_000);
    /// 1990-01-01T00:00Z: the earliest plausible `occurred_at` (docs/events.md).
    pub const PLAUSIBLE_FROM: Timestamp = Timestamp(631_152_000_000);
    /// 2100-01-01T00:00Z: every plausible `occurred_at` is before it (docs/events.md).
    pub const PLAUSIBLE_UNTIL: Timestamp = Timestamp(4_102_444_800_000);
    /// 9999-12-31T23:59:59.999Z.
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999);

    /// The UTC date of this instant, if in range.
    pub fn date(self) -> Option<Date> {
        DateTime::from_timestamp_millis(self.0).map(|t| Date::from_naive(t.date_naive()))
    }

    /// Parses RFC 3339 (any offset) to milliseconds, dropping sub-millisecond digits.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Timestamp(t.timestamp_millis()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::from_timestamp_millis(self.0) {
            Some(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => write!(f, "{} ms since 1970-01-01T00:00:00Z", self.0),
        }
    }
}

impl AvroField for Timestamp {
    #[inline]
    fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
        match v {
            Val::Long(l) => Ok(Timestamp(*l)),
            _ => Err(FieldErr::Missing),
        }
    }
    fn encode(&self, buf: &mut Vec<u8>) {
        put_long(buf, self.0);
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match DateTime::from_timestamp_millis(self.0) {
            Some(_) => s.collect_str(self),
            None => s.serialize_i64(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s)
            .ok_or_else(|| de::Error::custom(format!("not an RFC 3339 timestamp: {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_bounds_are_the_years_0001_to_9999() {
        assert_eq!(Date::MIN.to_string(), "0001-01-01");
        assert_eq!(Date::MAX.to_string(), "9999-12-31");
        assert_eq!(Date(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_ymd(2026, 11, 23)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2026-11-23")
        );
    }

    #[test]
    fn timestamp_bounds_and_format() {
        assert_eq!(Timestamp::MIN.to_string(), "0001-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59.999Z");
        assert_eq!(
            Timestamp(1_700_000_000_123).to_string(),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2023-11-14T23:13:20.123+01:00"),
            Some(Timestamp(1_700_000_000_123))
        );
        assert_eq!(Timestamp(-1).date(), Date::from_ymd(1969, 12, 31));
    }

    #[test]
    fn uuid_needs_the_hyphenated_form() {
        let simple = Val::Str("67e5504410b1426f9247bb680e5fe0c8");
        assert!(matches!(
            Uuid::from_val(&simple),
            Err(FieldErr::Rule(Rule::Uuid, _))
        ));
        let ok = Val::Str("67E55044-10B1-426F-9247-BB680E5FE0C8");
        assert!(Uuid::from_val(&ok).is_ok());
        let braced = Val::Str("{67e55044-10b1-426f-9247-bb680e5fe0}");
        assert!(matches!(
            Uuid::from_val(&braced),
            Err(FieldErr::Rule(Rule::Uuid, _))
        ));
    }
}
