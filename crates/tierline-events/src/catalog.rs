//! The schema catalog: every known writer schema (all versions), each with its
//! Confluent id, CRC-64-AVRO fingerprint and a resolution plan compiled once.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use apache_avro::rabin::Rabin;
use digest::Digest;

use crate::error::CatalogError;
use crate::plan::Plan;
use crate::records::RecordKind;
use crate::schema::{RecordTy, canonical_form, parse_record};

include!(concat!(env!("OUT_DIR"), "/embedded_schemas.rs"));

/// One writer schema the catalog knows.
#[derive(Debug, Clone)]
pub struct SchemaInfo {
    /// Confluent schema id (`None` for a schema known only by fingerprint).
    pub id: Option<u32>,
    /// CRC-64-AVRO (Rabin) fingerprint of the Parsing Canonical Form.
    pub fingerprint: u64,
    /// The record it writes.
    pub kind: RecordKind,
    /// Version of that record's schema (1, 2, ...).
    pub version: u32,
    /// The schema JSON as written.
    pub json: Arc<str>,
    /// Parsing Canonical Form.
    pub canonical: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) info: SchemaInfo,
    pub(crate) plan: Plan,
}

/// Known schemas and their compiled plans. Lookups are a binary search; nothing is
/// parsed or resolved per message.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<Entry>,
    by_id: Vec<(u32, usize)>,
    by_fingerprint: Vec<(u64, usize)>,
    /// Per kind: the reader schema (its latest version) and its entry.
    readers: BTreeMap<RecordKind, (RecordTy, usize)>,
}

/// Checks a schema with apache-avro (the reference parser) and returns its Parsing
/// Canonical Form and CRC-64-AVRO fingerprint.
fn canonical(json: &str) -> Result<(String, u64), CatalogError> {
    apache_avro::Schema::parse_str(json).map_err(|e| CatalogError::Schema(e.to_string()))?;
    let form = canonical_form(json)?;
    let digest = Rabin::digest(form.as_bytes());
    let fp: [u8; 8] = digest
        .as_slice()
        .try_into()
        .map_err(|_| CatalogError::Schema("fingerprint is not 8 bytes".into()))?;
    Ok((form, u64::from_le_bytes(fp)))
}

impl Catalog {
    /// The catalog shipped in `schemas/`, built once per process.
    pub fn builtin() -> Arc<Catalog> {
        static BUILTIN: OnceLock<Arc<Catalog>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| match Catalog::from_embedded() {
                Ok(c) => Arc::new(c),
                // The embedded schemas are fixed at compile time and checked by tests.
                Err(e) => panic!("embedded schema catalog is invalid: {e}"),
            })
            .clone()
    }

    /// A private copy of the shipped catalog, to [`register`](Catalog::register) more
    /// writer schemas into.
    pub fn clone_builtin() -> Catalog {
        Catalog::builtin().as_ref().clone()
    }

    fn from_embedded() -> Result<Catalog, CatalogError> {
        let mut parsed = Vec::new();
        for (id, version, file, json) in EMBEDDED {
            let record =
                parse_record(json).map_err(|e| CatalogError::Schema(format!("{file}: {e}")))?;
            let kind = RecordKind::from_full_name(&record.name)
                .ok_or_else(|| CatalogError::UnknownRecord(record.name.clone()))?;
            parsed.push((Some(*id), *version, kind, Arc::<str>::from(*json), record));
        }
        let mut readers: BTreeMap<RecordKind, (u32, RecordTy)> = BTreeMap::new();
        for (_, version, kind, _, record) in &parsed {
            if readers.get(kind).is_none_or(|(v, _)| version > v) {
                readers.insert(*kind, (*version, record.clone()));
            }
        }
        if let Some(missing) = RecordKind::ALL.iter().find(|k| !readers.contains_key(k)) {
            return Err(CatalogError::UnknownRecord(format!(
                "no schema for {}",
                missing.full_name()
            )));
        }
        let mut catalog = Catalog {
            entries: Vec::new(),
            by_id: Vec::new(),
            by_fingerprint: Vec::new(),
            readers: readers
                .into_iter()
                .map(|(k, (_, r))| (k, (r, usize::MAX)))
                .collect(),
        };
        for (id, version, kind, json, record) in parsed {
            let index = catalog.add(id, version, kind, json, &record)?;
            if let Some((reader, slot)) = catalog.readers.get_mut(&kind)
                && *reader == record
            {
                *slot = index;
            }
        }
        Ok(catalog)
    }

    fn add(
        &mut self,
        id: Option<u32>,
        version: u32,
        kind: RecordKind,
        json: Arc<str>,
        writer: &RecordTy,
    ) -> Result<usize, CatalogError> {
        let (reader, _) = self
            .readers
            .get(&kind)
            .ok_or_else(|| CatalogError::UnknownRecord(kind.full_name().into()))?;
        let plan = Plan::compile(kind, writer, reader)?;
        let (canonical, fingerprint) = canonical(&json)?;
        let index = self.entries.len();
        if let Some(id) = id {
            match self.by_id.binary_search_by_key(&id, |(i, _)| *i) {
                Ok(_) => return Err(CatalogError::Duplicate(format!("id {id}"))),
                Err(pos) => self.by_id.insert(pos, (id, index)),
            }
        }
        // The same schema under two ids shares one fingerprint: keep the first.
        if let Err(pos) = self
            .by_fingerprint
            .binary_search_by_key(&fingerprint, |(f, _)| *f)
        {
            self.by_fingerprint.insert(pos, (fingerprint, index));
        }
        self.entries.push(Entry {
            info: SchemaInfo {
                id,
                fingerprint,
                kind,
                version,
                json,
                canonical,
            },
            plan,
        });
        Ok(index)
    }

    /// Adds a writer schema learned at run time (e.g. from a schema registry). It
    /// must be a version of a known record that resolves to the reader schema.
    pub fn register(&mut self, id: Option<u32>, json: &str) -> Result<&SchemaInfo, CatalogError> {
        let record = parse_record(json)?;
        let kind = RecordKind::from_full_name(&record.name)
            .ok_or_else(|| CatalogError::UnknownRecord(record.name.clone()))?;
        let index = self.add(id, 0, kind, json.into(), &record)?;
        Ok(&self.entries[index].info)
    }

    /// Resolves a writer schema learned elsewhere (a registry) without adding it: the
    /// catalog's own entry when it is one of the catalog's versions (same fingerprint),
    /// else a new entry compiled against the reader schema, marked foreign (`true`).
    pub(crate) fn resolve_writer(&self, json: &str) -> Result<(Entry, bool), CatalogError> {
        let record = parse_record(json)?;
        let kind = RecordKind::from_full_name(&record.name)
            .ok_or_else(|| CatalogError::UnknownRecord(record.name.clone()))?;
        let (canonical, fingerprint) = canonical(json)?;
        if let Some(entry) = self.by_fingerprint(fingerprint) {
            return Ok((entry.clone(), false));
        }
        let (reader, _) = self
            .readers
            .get(&kind)
            .ok_or_else(|| CatalogError::UnknownRecord(kind.full_name().into()))?;
        let plan = Plan::compile(kind, &record, reader)?;
        let info = SchemaInfo {
            id: None,
            fingerprint,
            kind,
            version: 0,
            json: json.into(),
            canonical,
        };
        Ok((Entry { info, plan }, true))
    }

    pub(crate) fn by_id(&self, id: u32) -> Option<&Entry> {
        let pos = self.by_id.binary_search_by_key(&id, |(i, _)| *i).ok()?;
        self.entries.get(self.by_id[pos].1)
    }

    pub(crate) fn by_fingerprint(&self, fp: u64) -> Option<&Entry> {
        let pos = self
            .by_fingerprint
            .binary_search_by_key(&fp, |(f, _)| *f)
            .ok()?;
        self.entries.get(self.by_fingerprint[pos].1)
    }

    /// The schema a record is written with: the latest version of its kind.
    pub fn writer_for(&self, kind: RecordKind) -> &SchemaInfo {
        let index = self.readers.get(&kind).map_or(0, |(_, i)| *i);
        &self.entries[index].info
    }

    /// Every known schema, in catalog order.
    pub fn schemas(&self) -> impl Iterator<Item = &SchemaInfo> {
        self.entries.iter().map(|e| &e.info)
    }

    /// The schema with this Confluent id.
    pub fn schema_by_id(&self, id: u32) -> Option<&SchemaInfo> {
        self.by_id(id).map(|e| &e.info)
    }

    /// The schema with this fingerprint.
    pub fn schema_by_fingerprint(&self, fp: u64) -> Option<&SchemaInfo> {
        self.by_fingerprint(fp).map(|e| &e.info)
    }
}
