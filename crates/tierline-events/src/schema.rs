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

fn full_name(obj: &Map<String, Json>, ns: &str) -> Result<(String, String), CatalogError> {
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
