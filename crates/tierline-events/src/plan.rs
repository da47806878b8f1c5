//! Writer-to-reader resolution, compiled once per writer schema (the per-message
//! schema work of apache-avro issue 310 is exactly what this avoids). A plan is a
//! flat list of ops over the writer's fields: read into a reader slot with the
//! needed promotion, or skip. Reader fields the writer lacks start from defaults.

use serde_json::Value as Json;

use crate::binary::Cursor;
use crate::error::{CatalogError, DatumError, DecodeError, ValidationError};
use crate::records::{Record, RecordKind};
use crate::schema::{EnumTy, RecordTy, Ty};
use crate::value::{FieldErr, Val};

/// Most fields a reader record may have.
pub(crate) const MAX_FIELDS: usize = 24;

/// How to read one writer value as a reader value.
#[derive(Debug, Clone)]
enum Read {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    IntAsLong,
    IntAsFloat,
    IntAsDouble,
    LongAsFloat,
    LongAsDouble,
    FloatAsDouble,
    StringAsBytes,
    BytesAsString,
    Enum {
        map: Box<[Option<u32>]>,
        writer_symbols: Box<[String]>,
        default: Option<u32>,
    },
    /// Per writer branch: how to read it, or `None` if the reader cannot.
    WriterUnion(Box<[Option<Read>]>),
    /// An array of records, each read by the nested body.
    Records(Box<Body>),
    /// An array of strings (a writer's strings or bytes, read as UTF-8).
    Strings,
}

#[derive(Debug, Clone)]
enum Op {
    Read {
        slot: usize,
        read: Read,
        field: Box<str>,
    },
    Skip {
        ty: Ty,
        field: Box<str>,
    },
}

/// An owned default value.
#[derive(Debug, Clone)]
enum Default {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Str(Box<str>),
    Enum(u32),
}

impl Default {
    fn as_val(&self) -> Val<'_> {
        match self {
            Default::Null => Val::Null,
            Default::Bool(b) => Val::Bool(*b),
            Default::Int(i) => Val::Int(*i),
            Default::Long(l) => Val::Long(*l),
            Default::Float(f) => Val::Float(*f),
            Default::Double(d) => Val::Double(*d),
            Default::Str(s) => Val::Str(s),
            Default::Enum(i) => Val::Enum(*i),
        }
    }
}

/// A compiled resolution from one writer schema to the reader type of its record.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) kind: RecordKind,
    body: Body,
}

/// A nested record's body inside a decoded value (equal when it is the same body).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyRef<'a>(pub(crate) &'a Body);

impl PartialEq for BodyRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

/// How to read one writer record into the reader's field slots.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    ops: Box<[Op]>,
    defaults: Box<[(usize, Default)]>,
    reader_fields: usize,
}

fn incompatible(record: &str, detail: impl Into<String>) -> CatalogError {
    CatalogError::Incompatible {
        record: record.to_owned(),
        detail: detail.into(),
    }
}

impl Plan {
    /// Compiles the plan that reads `writer` data as `reader`, whose fields must be
    /// exactly the Rust type's fields in order.
    pub(crate) fn compile(
        kind: RecordKind,
        writer: &RecordTy,
        reader: &RecordTy,
    ) -> Result<Self, CatalogError> {
        let rec = reader.name.as_str();
        let names: Vec<&str> = reader.fields.iter().map(|f| f.name.as_str()).collect();
        if names != kind.fields() {
            return Err(incompatible(
                rec,
                format!(
                    "reader fields {names:?} differ from the Rust type's {:?}",
                    kind.fields()
                ),
            ));
        }
        if names.len() > MAX_FIELDS {
            return Err(incompatible(rec, "too many fields"));
        }
        if Ty::short_name(&writer.name) != Ty::short_name(&reader.name) {
            return Err(incompatible(
                rec,
                format!("writer record is named {}", writer.name),
            ));
        }
        for f in &reader.fields {
            if let Ty::Union(b) = &f.ty
                && (b.len() != 2 || b[0] != Ty::Null || matches!(b[1], Ty::Null))
            {
                return Err(incompatible(
                    rec,
                    format!("reader field {} must be [\"null\", T]", f.name),
                ));
            }
        }
        Ok(Plan {
            kind,
            body: Body::compile(writer, reader)?,
        })
    }

    /// Reads one datum (exactly: trailing bytes are an error) into its typed record.
    pub(crate) fn decode(&self, datum: &[u8]) -> Result<Record, DecodeError> {
        let record = self.kind.name();
        let mut slots = [Val::Absent; MAX_FIELDS];
        let mut c = Cursor::new(datum);
        self.body
            .read(&mut c, &mut slots)
            .map_err(|(field, kind)| DecodeError::Datum {
                record,
                field,
                kind,
            })?;
        if c.remaining() != 0 {
            return Err(DecodeError::TrailingBytes {
                record,
                count: c.remaining(),
            });
        }
        let slots = slots.get(..self.body.reader_fields).unwrap_or(&[]);
        Record::from_slots(self.kind, slots).map_err(|(field, e)| match e {
            FieldErr::Rule(rule, value) => DecodeError::Invalid(ValidationError {
                record,
                field,
                rule,
                value,
            }),
            FieldErr::Missing => DecodeError::Datum {
                record,
                field: field.to_owned(),
                kind: DatumError::Truncated,
            },
        })
    }
}

impl Body {
    /// Compiles how `writer` data is read into the slots of `reader`'s fields.
    fn compile(writer: &RecordTy, reader: &RecordTy) -> Result<Self, CatalogError> {
        let rec = reader.name.as_str();
        let mut ops = Vec::with_capacity(writer.fields.len());
        let mut seen = vec![false; reader.fields.len()];
        for wf in &writer.fields {
            match reader.fields.iter().position(|rf| rf.name == wf.name) {
                Some(slot) => {
                    let read = resolve(&wf.ty, &reader.fields[slot].ty)?.ok_or_else(|| {
                        incompatible(
                            rec,
                            format!(
                                "field {}: writer type {:?} cannot be read as {:?}",
                                wf.name, wf.ty, reader.fields[slot].ty
                            ),
                        )
                    })?;
                    seen[slot] = true;
                    ops.push(Op::Read {
                        slot,
                        read,
                        field: wf.name.clone().into(),
                    });
                }
                None => ops.push(Op::Skip {
                    ty: wf.ty.clone(),
                    field: wf.name.clone().into(),
                }),
            }
        }
        let mut defaults = Vec::new();
        for (slot, rf) in reader.fields.iter().enumerate() {
            if seen[slot] {
                continue;
            }
            let json = rf.default.as_ref().ok_or_else(|| {
                incompatible(
                    rec,
                    format!(
                        "writer lacks field {} and the reader has no default",
                        rf.name
                    ),
                )
            })?;
            let d = default_value(&rf.ty, json).ok_or_else(|| {
                incompatible(rec, format!("default of {} does not fit its type", rf.name))
            })?;
            defaults.push((slot, d));
        }
        Ok(Body {
            ops: ops.into(),
            defaults: defaults.into(),
            reader_fields: reader.fields.len(),
        })
    }

    /// Reads one writer record into `slots` (defaults first). The error names the
    /// writer field.
    fn read<'a>(
        &'a self,
        c: &mut Cursor<'a>,
        slots: &mut [Val<'a>; MAX_FIELDS],
    ) -> Result<(), (String, DatumError)> {
        for (slot, d) in self.defaults.iter() {
            if let Some(s) = slots.get_mut(*slot) {
                *s = d.as_val();
            }
        }
        for op in self.ops.iter() {
            let (field, res) = match op {
                Op::Read { slot, read, field } => (
                    field,
                    exec(read, c).map(|v| {
                        if let Some(s) = slots.get_mut(*slot) {
                            *s = v;
                        }
                    }),
                ),
                Op::Skip { ty, field } => (field, skip(ty, c)),
            };
            res.map_err(|kind| (field.to_string(), kind))?;
        }
        Ok(())
    }

    /// Reads the items of an array of records written as `items`, calling `f` with
    /// each item's reader slots.
    pub(crate) fn items<'a>(
        &'a self,
        items: &'a [u8],
        mut f: impl FnMut(&[Val<'a>]) -> Result<(), FieldErr>,
    ) -> Result<(), FieldErr> {
        let mut c = Cursor::new(items);
        let mut result = Ok(());
        let walked = walk_blocks(&mut c, |c| {
            let mut slots = [Val::Absent; MAX_FIELDS];
            self.read(c, &mut slots).map_err(|(_, e)| e)?;
            if result.is_ok() {
                result = f(slots.get(..self.reader_fields).unwrap_or(&[]));
            }
            Ok(())
        });
        walked.map_err(|_| FieldErr::Missing)?;
        result
    }
}

/// Resolves a writer type against a reader type (Avro specification, "Schema
/// Resolution"). `None`: the writer's data cannot be read as the reader type; an
/// error: a nested record that cannot be resolved.
fn resolve(w: &Ty, r: &Ty) -> Result<Option<Read>, CatalogError> {
    if let Ty::Union(wb) = w {
        let branches: Box<[Option<Read>]> =
            wb.iter().map(|b| resolve(b, r)).collect::<Result<_, _>>()?;
        return Ok(branches
            .iter()
            .any(Option::is_some)
            .then_some(Read::WriterUnion(branches)));
    }
    if let Ty::Union(rb) = r {
        // The first reader branch that matches exactly, else the first that promotes.
        if let Some(b) = rb.iter().find(|b| same_kind(w, b))
            && let Some(read) = resolve(w, b)?
        {
            return Ok(Some(read));
        }
        for b in rb {
            if let Some(read) = resolve(w, b)? {
                return Ok(Some(read));
            }
        }
        return Ok(None);
    }
    if let (Ty::Array(wi), Ty::Array(ri)) = (w, r)
        && matches!(ri.as_ref(), Ty::String)
    {
        return Ok(matches!(wi.as_ref(), Ty::String | Ty::Bytes).then_some(Read::Strings));
    }
    if let (Ty::Array(wi), Ty::Array(ri)) = (w, r)
        && let (Ty::Record(wr), Ty::Record(rr)) = (wi.as_ref(), ri.as_ref())
    {
        if Ty::short_name(&wr.name) != Ty::short_name(&rr.name) {
            return Ok(None);
        }
        let names: Vec<&str> = rr.fields.iter().map(|f| f.name.as_str()).collect();
        let rust = crate::records::nested_fields(Ty::short_name(&rr.name));
        if rust != Some(names.as_slice()) || names.len() > MAX_FIELDS {
            return Err(incompatible(
                &rr.name,
                format!("reader fields {names:?} differ from the Rust type's {rust:?}"),
            ));
        }
        return Ok(Some(Read::Records(Box::new(Body::compile(wr, rr)?))));
    }
    Ok(Some(match (w, r) {
        (Ty::Null, Ty::Null) => Read::Null,
        (Ty::Boolean, Ty::Boolean) => Read::Boolean,
        (Ty::Int, Ty::Int) => Read::Int,
        (Ty::Int, Ty::Long) => Read::IntAsLong,
        (Ty::Int, Ty::Float) => Read::IntAsFloat,
        (Ty::Int, Ty::Double) => Read::IntAsDouble,
        (Ty::Long, Ty::Long) => Read::Long,
        (Ty::Long, Ty::Float) => Read::LongAsFloat,
        (Ty::Long, Ty::Double) => Read::LongAsDouble,
        (Ty::Float, Ty::Float) => Read::Float,
        (Ty::Float, Ty::Double) => Read::FloatAsDouble,
        (Ty::Double, Ty::Double) => Read::Double,
        (Ty::Bytes, Ty::Bytes) => Read::Bytes,
        (Ty::Bytes, Ty::String) => Read::BytesAsString,
        (Ty::String, Ty::String) => Read::String,
        (Ty::String, Ty::Bytes) => Read::StringAsBytes,
        (Ty::Enum(we), Ty::Enum(re)) if Ty::short_name(&we.name) == Ty::short_name(&re.name) => {
            enum_read(we, re)
        }
        _ => return Ok(None),
    }))
}

fn same_kind(w: &Ty, r: &Ty) -> bool {
    match (w, r) {
        (Ty::Enum(a), Ty::Enum(b)) => Ty::short_name(&a.name) == Ty::short_name(&b.name),
        _ => std::mem::discriminant(w) == std::mem::discriminant(r),
    }
}

fn enum_read(w: &EnumTy, r: &EnumTy) -> Read {
    let index = |s: &str| {
        r.symbols
            .iter()
            .position(|x| x == s)
            .and_then(|i| u32::try_from(i).ok())
    };
    Read::Enum {
        map: w.symbols.iter().map(|s| index(s)).collect(),
        writer_symbols: w.symbols.clone().into(),
        default: r.default.as_deref().and_then(index),
    }
}

fn default_value(ty: &Ty, json: &Json) -> Option<Default> {
    Some(match (ty, json) {
        // A union's default has the type of its first branch.
        (Ty::Union(b), _) => return default_value(b.first()?, json),
        (Ty::Null, Json::Null) => Default::Null,
        (Ty::Boolean, Json::Bool(b)) => Default::Bool(*b),
        (Ty::Int, Json::Number(n)) => Default::Int(i32::try_from(n.as_i64()?).ok()?),
        (Ty::Long, Json::Number(n)) => Default::Long(n.as_i64()?),
        (Ty::Float, Json::Number(n)) => Default::Float(n.as_f64()? as f32),
        (Ty::Double, Json::Number(n)) => Default::Double(n.as_f64()?),
        (Ty::String | Ty::Bytes, Json::String(s)) => Default::Str(s.as_str().into()),
        (Ty::Enum(e), Json::String(s)) => {
            Default::Enum(u32::try_from(e.symbols.iter().position(|x| x == s)?).ok()?)
        }
        _ => return None,
    })
}

#[inline]
fn exec<'a>(read: &'a Read, c: &mut Cursor<'a>) -> Result<Val<'a>, DatumError> {
    Ok(match read {
        Read::Null => Val::Null,
        Read::Boolean => Val::Bool(c.boolean()?),
        Read::Int => Val::Int(c.int()?),
        Read::Long => Val::Long(c.long()?),
        Read::Float => Val::Float(c.float()?),
        Read::Double => Val::Double(c.double()?),
        Read::Bytes | Read::StringAsBytes => Val::Bytes(c.bytes()?),
        Read::String | Read::BytesAsString => Val::Str(c.str()?),
        Read::IntAsLong => Val::Long(i64::from(c.int()?)),
        Read::IntAsFloat => Val::Float(c.int()? as f32),
        Read::IntAsDouble => Val::Double(f64::from(c.int()?)),
        Read::LongAsFloat => Val::Float(c.long()? as f32),
        Read::LongAsDouble => Val::Double(c.long()? as f64),
        Read::FloatAsDouble => Val::Double(f64::from(c.float()?)),
        Read::Enum {
            map,
            writer_symbols,
            default,
        } => {
            let i = c.long()?;
            let reader = usize::try_from(i)
                .ok()
                .and_then(|i| map.get(i))
                .ok_or(DatumError::EnumIndex(i))?;
            match (reader, default) {
                (Some(r), _) | (None, Some(r)) => Val::Enum(*r),
                (None, None) => {
                    let symbol = usize::try_from(i)
                        .ok()
                        .and_then(|i| writer_symbols.get(i))
                        .cloned()
                        .unwrap_or_default();
                    return Err(DatumError::UnknownSymbol(symbol));
                }
            }
        }
        Read::Records(body) => {
            let start = c.position();
            walk_blocks(c, |c| {
                let mut slots = [Val::Absent; MAX_FIELDS];
                body.read(c, &mut slots).map(|_| ()).map_err(|(_, e)| e)
            })?;
            Val::Records(c.since(start), BodyRef(body))
        }
        Read::Strings => {
            let start = c.position();
            walk_blocks(c, |c| c.str().map(|_| ()))?;
            Val::Strings(c.since(start))
        }
        Read::WriterUnion(branches) => {
            let i = c.long()?;
            let branch = usize::try_from(i)
                .ok()
                .and_then(|b| branches.get(b))
                .ok_or(DatumError::UnionIndex(i))?;
            match branch {
                Some(r) => exec(r, c)?,
                None => {
                    return Err(DatumError::UnresolvableBranch(
                        usize::try_from(i).unwrap_or(0),
                    ));
                }
            }
        }
    })
}

/// Skips a value of a writer-only field.
fn skip(ty: &Ty, c: &mut Cursor<'_>) -> Result<(), DatumError> {
    match ty {
        Ty::Null => {}
        Ty::Boolean => {
            c.boolean()?;
        }
        Ty::Int => {
            c.int()?;
        }
        Ty::Long => {
            c.long()?;
        }
        Ty::Float => {
            c.float()?;
        }
        Ty::Double => {
            c.double()?;
        }
        Ty::Bytes | Ty::String => {
            c.bytes()?;
        }
        Ty::Fixed(n) => {
            c.fixed(*n)?;
        }
        Ty::Enum(e) => {
            let i = c.long()?;
            if usize::try_from(i).map_or(true, |i| i >= e.symbols.len()) {
                return Err(DatumError::EnumIndex(i));
            }
        }
        Ty::Union(b) => {
            let i = c.long()?;
            let t = usize::try_from(i)
                .ok()
                .and_then(|i| b.get(i))
                .ok_or(DatumError::UnionIndex(i))?;
            skip(t, c)?;
        }
        Ty::Record(r) => {
            for f in &r.fields {
                skip(&f.ty, c)?;
            }
        }
        Ty::Array(items) => walk_blocks(c, |c| skip(items, c))?,
        Ty::Map(values) => walk_blocks(c, |c| {
            c.bytes()?;
            skip(values, c)
        })?,
    }
    Ok(())
}

/// Array and map blocks: a count, items, until a zero count. A negative count is
/// followed by the block's size in bytes.
pub(crate) fn walk_blocks<'a>(
    c: &mut Cursor<'a>,
    mut item: impl FnMut(&mut Cursor<'a>) -> Result<(), DatumError>,
) -> Result<(), DatumError> {
    loop {
        let mut count = c.long()?;
        if count == 0 {
            return Ok(());
        }
        if count < 0 {
            count = count.checked_neg().ok_or(DatumError::BlockCount(count))?;
            c.long()?;
        }
        // Null items take no bytes: bound the count so a hostile one cannot spin.
        if count > c.remaining() as i64 + 1 {
            return Err(DatumError::BlockCount(count));
        }
        for _ in 0..count {
            item(c)?;
        }
    }
}
