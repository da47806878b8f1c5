//! Column values that read and write as each dialect keeps them, so one statement and
//! one body serve both backends: a day is a PostgreSQL `date` and an SQLite integer
//! (days since 1970-01-01), an instant a `timestamptz` and integer milliseconds, a
//! bucket's partials a `float8[]` and a blob of little-endian float64s, a JSON document
//! `jsonb` and text.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use tierline_events::{Date, Timestamp};
use tierline_scoring::ExactSum;

/// A day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Day(pub(crate) Date);

/// An instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Instant(pub(crate) Timestamp);

/// A bucket's exact-sum partials (the canonical expansion).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parts(pub(crate) Vec<f64>);

/// A JSON document, as text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonText(pub(crate) String);

impl Parts {
    pub(crate) fn of(sum: &ExactSum) -> Parts {
        Parts(sum.canonical_parts().to_vec())
    }

    pub(crate) fn sum(&self) -> ExactSum {
        ExactSum::from_parts(&self.0)
    }
}

/// A day as PostgreSQL's `date` (for arrays, which the column types do not cover).
pub(crate) fn pg_date(d: Date) -> NaiveDate {
    d.to_naive().unwrap_or_default()
}

/// An instant as PostgreSQL's `timestamptz` (for arrays).
pub(crate) fn pg_ts(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.0).unwrap_or_default()
}

/// A `float8[]` literal whose values read back bit for bit (Rust prints the shortest
/// representation that round-trips, and PostgreSQL's float8 input is exact).
pub(crate) fn float8_array_literal(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
    format!("{{{}}}", items.join(","))
}

/// Implements `Type`, `Encode` and `Decode` for one dialect by converting to and from
/// a type the dialect already has.
macro_rules! via {
    ($db:ty, $ty:ty, $inner:ty, |$v:ident| $to:expr, |$w:ident| $from:expr) => {
        impl Type<$db> for $ty {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <$inner as Type<$db>>::type_info()
            }
            fn compatible(ty: &<$db as sqlx::Database>::TypeInfo) -> bool {
                <$inner as Type<$db>>::compatible(ty)
            }
        }
        impl<'q> Encode<'q, $db> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut <$db as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                let $v = self;
                let inner: $inner = $to;
                <$inner as Encode<'q, $db>>::encode(inner, buf)
            }
        }
        impl<'r> Decode<'r, $db> for $ty {
            fn decode(value: <$db as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let $w: $inner = <$inner as Decode<'r, $db>>::decode(value)?;
                $from
            }
        }
    };
}

via!(Postgres, Day, NaiveDate, |v| pg_date(v.0), |d| Ok(Day(
    Date::from_naive(d)
)));
via!(Sqlite, Day, i64, |v| i64::from(v.0.0), |d| Ok(Day(Date(
    i32::try_from(d)?
))));
via!(Postgres, Instant, DateTime<Utc>, |v| pg_ts(v.0), |t| Ok(
    Instant(Timestamp(t.timestamp_millis()))
));
via!(Sqlite, Instant, i64, |v| v.0.0, |t| Ok(Instant(Timestamp(
    t
))));
via!(Postgres, Parts, Vec<f64>, |v| v.0.clone(), |p| Ok(Parts(p)));
via!(
    Sqlite,
    Parts,
    Vec<u8>,
    |v| v.0.iter().flat_map(|x| x.to_le_bytes()).collect(),
    |b| {
        if !b.len().is_multiple_of(8) {
            return Err("a bucket's partials are not whole float64s".into());
        }
        Ok(Parts(
            b.chunks_exact(8)
                .map(|c| {
                    let mut x = [0u8; 8];
                    x.copy_from_slice(c);
                    f64::from_le_bytes(x)
                })
                .collect(),
        ))
    }
);
via!(Sqlite, JsonText, String, |v| v.0.clone(), |s| Ok(JsonText(
    s
)));

impl Type<Postgres> for JsonText {
    fn type_info() -> PgTypeInfo {
        <sqlx::types::JsonValue as Type<Postgres>>::type_info()
    }
    // Read from `jsonb` columns and from `text` columns holding JSON (scorecards).
    fn compatible(ty: &PgTypeInfo) -> bool {
        <sqlx::types::JsonValue as Type<Postgres>>::compatible(ty)
            || <String as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for JsonText {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // jsonb's binary form: a version byte, then the text.
        buf.push(1);
        buf.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Postgres> for JsonText {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        use sqlx::{TypeInfo, ValueRef};
        let jsonb = value.type_info().name() == "JSONB";
        let text = match value.format() {
            PgValueFormat::Binary if jsonb => {
                let bytes = value.as_bytes()?;
                std::str::from_utf8(bytes.get(1..).unwrap_or_default())?
            }
            PgValueFormat::Binary | PgValueFormat::Text => value.as_str()?,
        };
        Ok(JsonText(text.to_owned()))
    }
}
