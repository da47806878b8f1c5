//! A small model of Avro schemas, enough to compile a writer-to-reader resolution
//! plan once per writer schema. The JSON is also parsed by `apache-avro`, which
//! checks it and computes the canonical form and fingerprint.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use crate::error::CatalogError;

/// An Avro type with logical types reduced to their physical encoding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Fixed(usize),
    Enum(EnumTy),
    Array(Box<Ty>),
    Map(Box<Ty>),
    Union(Vec<Ty>),
    Record(RecordTy),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnumTy {
    pub(crate) name: String,
    pub(crate) symbols: Vec<String>,
    pub(crate) default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordTy {
    /// Full name, `namespace.name`.
    pub(crate) name: String,
    pub(crate) fields: Vec<FieldTy>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldTy {
    pub(crate) name: String,
    pub(crate) ty: Ty,
    pub(crate) default: Option<Json>,
}

impl Ty {
    /// The unqualified name of a named type, for resolution matching.
    pub(crate) fn short_name(name: &str) -> &str {
        name.rsplit('.').next().unwrap_or(name)
    }
}

/// Parses a schema whose top level is a record.
pub(crate) fn parse_record(json: &str) -> Result<RecordTy, CatalogError> {
    let value: Json =
        serde_json::from_str(json).map_err(|e| CatalogError::Schema(format!("not JSON: {e}")))?;
    let mut parser = Parser {
        named: HashMap::new(),
        depth: 0,
    };
    match parser.ty(&value, "")? {
        Ty::Record(r) => Ok(r),
        other => Err(CatalogError::Schema(format!(
            "top level must be a record, found {other:?}"
        ))),
    }
}

struct Parser {
    named: HashMap<String, Ty>,
    depth: usize,
}

fn err(msg: impl Into<String>) -> CatalogError {
    CatalogError::Schema(msg.into())
}

pub(crate) fn full_name(
    obj: &Map<String, Json>,
    ns: &str,
) -> Result<(String, String), CatalogError> {
    let name = obj
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| err("named type without a name"))?;
    if name.contains('.') {
        let ns = name.rsplit_once('.').map(|(n, _)| n).unwrap_or_default();
        return Ok((name.to_owned(), ns.to_owned()));
    }
    let ns = obj.get("namespace").and_then(Json::as_str).unwrap_or(ns);
    let full = if ns.is_empty() {
        name.to_owned()
    } else {
        format!("{ns}.{name}")
    };
    Ok((full, ns.to_owned()))
}

impl Parser {
    fn ty(&mut self, v: &Json, ns: &str) -> Result<Ty, CatalogError> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(err("schema nested deeper than 64 levels"));
        }
        let out = self.ty_inner(v, ns);
        self.depth -= 1;
        out
    }

    fn ty_inner(&mut self, v: &Json, ns: &str) -> Result<Ty, CatalogError> {
        match v {
            Json::String(s) => self.named_or_primitive(s, ns),
            Json::Array(branches) => {
                let tys = branches
                    .iter()
                    .map(|b| self.ty(b, ns))
                    .collect::<Result<Vec<_>, _>>()?;
                if tys.iter().any(|t| matches!(t, Ty::Union(_))) {
                    return Err(err("a union may not directly contain a union"));
                }
                Ok(Ty::Union(tys))
            }
            Json::Object(obj) => {
                let kind = obj
                    .get("type")
                    .ok_or_else(|| err("object schema without a type"))?;
                let Json::String(kind) = kind else {
                    // {"type": {...}} or {"type": [...]}: a wrapped schema.
                    return self.ty(kind, ns);
                };
                match kind.as_str() {
                    "record" | "error" => {
                        let (name, ns) = full_name(obj, ns)?;
                        let fields = obj
                            .get("fields")
                            .and_then(Json::as_array)
                            .ok_or_else(|| err(format!("record {name} without fields")))?;
                        let mut out = Vec::with_capacity(fields.len());
                        for f in fields {
                            let fname = f
                                .get("name")
                                .and_then(Json::as_str)
                                .ok_or_else(|| err(format!("a field of {name} has no name")))?;
                            let fty = f
                                .get("type")
                                .ok_or_else(|| err(format!("field {name}.{fname} has no type")))?;
                            let ty = self.ty(fty, &ns)?;
                            out.push(FieldTy {
                                name: fname.to_owned(),
                                ty,
                                default: f.get("default").cloned(),
                            });
                        }
                        let ty = Ty::Record(RecordTy {
                            name: name.clone(),
                            fields: out,
                        });
                        self.named.insert(name, ty.clone());
                        Ok(ty)
                    }
                    "enum" => {
                        let (name, _) = full_name(obj, ns)?;
                        let symbols = obj
                            .get("symbols")
                            .and_then(Json::as_array)
                            .ok_or_else(|| err(format!("enum {name} without symbols")))?
                            .iter()
                            .map(|s| {
                                s.as_str()
                                    .map(str::to_owned)
                                    .ok_or_else(|| err("enum symbol not a string"))
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        let default = obj.get("default").and_then(Json::as_str).map(str::to_owned);
                        let ty = Ty::Enum(EnumTy {
                            name: name.clone(),
                            symbols,
                            default,
                        });
                        self.named.insert(name, ty.clone());
                        Ok(ty)
                    }
                    "fixed" => {
                        let (name, _) = full_name(obj, ns)?;
                        let size = obj
                            .get("size")
                            .and_then(Json::as_u64)
                            .and_then(|s| usize::try_from(s).ok())
                            .ok_or_else(|| err(format!("fixed {name} without a size")))?;
                        let ty = Ty::Fixed(size);
                        self.named.insert(name, ty.clone());
                        Ok(ty)
                    }
                    "array" => {
                        let items = obj.get("items").ok_or_else(|| err("array without items"))?;
                        Ok(Ty::Array(Box::new(self.ty(items, ns)?)))
                    }
                    "map" => {
                        let values = obj.get("values").ok_or_else(|| err("map without values"))?;
                        Ok(Ty::Map(Box::new(self.ty(values, ns)?)))
                    }
                    // Logical types annotate a primitive: the physical type decides the encoding.
                    other => self.named_or_primitive(other, ns),
                }
            }
            other => Err(err(format!("not a schema: {other}"))),
        }
    }

    fn named_or_primitive(&self, s: &str, ns: &str) -> Result<Ty, CatalogError> {
        Ok(match s {
            "null" => Ty::Null,
            "boolean" => Ty::Boolean,
            "int" => Ty::Int,
            "long" => Ty::Long,
            "float" => Ty::Float,
            "double" => Ty::Double,
            "bytes" => Ty::Bytes,
            "string" => Ty::String,
            name => {
                let qualified = if name.contains('.') || ns.is_empty() {
                    name.to_owned()
                } else {
                    format!("{ns}.{name}")
                };
                self.named
                    .get(&qualified)
                    .or_else(|| self.named.get(name))
                    .cloned()
                    .ok_or_else(|| {
                        err(format!(
                            "unknown type name `{name}` (recursive types are not supported)"
                        ))
                    })?
            }
        })
    }
}

/// The Parsing Canonical Form of a schema (Avro specification, "Parsing Canonical
/// Form for Schemas"). Written here because apache-avro 0.22 keeps logical types as
/// `{"type":"int"}` where the specification (and Java, Python, fastavro) write `"int"`,
/// which changes every fingerprint.
pub(crate) fn canonical_form(json: &str) -> Result<String, CatalogError> {
    let value: Json =
        serde_json::from_str(json).map_err(|e| CatalogError::Schema(format!("not JSON: {e}")))?;
    let mut out = String::with_capacity(json.len());
    let mut defined = std::collections::HashSet::new();
    pcf(&value, "", &mut defined, &mut out)?;
    Ok(out)
}

const PRIMITIVES: &[&str] = &[
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

fn quote(s: &str, out: &mut String) {
    out.push_str(&Json::String(s.to_owned()).to_string());
}

fn pcf(
    v: &Json,
    ns: &str,
    defined: &mut std::collections::HashSet<String>,
    out: &mut String,
) -> Result<(), CatalogError> {
    match v {
        Json::String(s) if PRIMITIVES.contains(&s.as_str()) => quote(s, out),
        Json::String(s) => {
            let full = if s.contains('.') || ns.is_empty() {
                s.clone()
            } else {
                format!("{ns}.{s}")
            };
            quote(&full, out);
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pcf(item, ns, defined, out)?;
            }
            out.push(']');
        }
        Json::Object(obj) => {
            let ty = obj
                .get("type")
                .ok_or_else(|| err("object schema without a type"))?;
            let Json::String(kind) = ty else {
                return pcf(ty, ns, defined, out);
            };
            match kind.as_str() {
                "record" | "error" | "enum" | "fixed" => {
                    let (full, inner_ns) = full_name(obj, ns)?;
                    if !defined.insert(full.clone()) {
                        quote(&full, out);
                        return Ok(());
                    }
                    out.push_str("{\"name\":");
                    quote(&full, out);
                    out.push_str(",\"type\":");
                    quote(if kind == "error" { "error" } else { kind }, out);
                    if let Some(Json::Array(fields)) = obj.get("fields") {
                        out.push_str(",\"fields\":[");
                        for (i, f) in fields.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            let name = f
                                .get("name")
                                .and_then(Json::as_str)
                                .ok_or_else(|| err("field without a name"))?;
                            let fty = f.get("type").ok_or_else(|| err("field without a type"))?;
                            out.push_str("{\"name\":");
                            quote(name, out);
                            out.push_str(",\"type\":");
                            pcf(fty, &inner_ns, defined, out)?;
                            out.push('}');
                        }
                        out.push(']');
                    }
                    if let Some(Json::Array(symbols)) = obj.get("symbols") {
                        out.push_str(",\"symbols\":[");
                        for (i, s) in symbols.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            quote(
                                s.as_str().ok_or_else(|| err("enum symbol not a string"))?,
                                out,
                            );
                        }
                        out.push(']');
                    }
                    if let Some(size) = obj.get("size") {
                        let size = size
                            .as_u64()
                            .ok_or_else(|| err("fixed size not an integer"))?;
                        out.push_str(&format!(",\"size\":{size}"));
                    }
                    out.push('}');
                }
                "array" => {
                    out.push_str("{\"type\":\"array\",\"items\":");
                    pcf(
                        obj.get("items").ok_or_else(|| err("array without items"))?,
                        ns,
                        defined,
                        out,
                    )?;
                    out.push('}');
                }
                "map" => {
                    out.push_str("{\"type\":\"map\",\"values\":");
                    pcf(
                        obj.get("values").ok_or_else(|| err("map without values"))?,
                        ns,
                        defined,
                        out,
                    )?;
                    out.push('}');
                }
                // A primitive with attributes (logicalType, ...) is just the primitive.
                other => pcf(&Json::String(other.to_owned()), ns, defined, out)?,
            }
        }
        other => return Err(err(format!("not a schema: {other}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_follows_the_specification() {
        let schema = r#"{"type":"record","name":"R","namespace":"a.b","doc":"x","fields":[
            {"name":"id","type":{"type":"string","logicalType":"uuid"},"doc":"d"},
            {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"],"default":"X"}},
            {"name":"e2","type":["null","E"],"default":null},
            {"name":"m","type":{"type":"map","values":{"type":"array","items":"long"}}},
            {"name":"f","type":{"type":"fixed","name":"c.F","size":16}}]}"#;
        assert_eq!(
            canonical_form(schema).unwrap(),
            concat!(
                r#"{"name":"a.b.R","type":"record","fields":[{"name":"id","type":"string"},"#,
                r#"{"name":"e","type":{"name":"a.b.E","type":"enum","symbols":["X","Y"]}},"#,
                r#"{"name":"e2","type":["null","a.b.E"]},"#,
                r#"{"name":"m","type":{"type":"map","values":{"type":"array","items":"long"}}},"#,
                r#"{"name":"f","type":{"name":"c.F","type":"fixed","size":16}}]}"#
            )
        );
    }
}
