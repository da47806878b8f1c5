//! History from CSV files: one file per record type (named after it, e.g.
//! `GoodsReceived.csv` or `goods_received.csv`), one column per Avro field of
//! `schemas/`, one event per row.
//!
//! Pure: rows in, validated records or errors with file and line out. Where the
//! records go (the store, or the inbound topics) is the caller's business. A row
//! without an `event_id` gets one derived from its content (UUIDv5), so importing the
//! same files again adds nothing.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};
use tierline_events::{
    AfterSalesCaseOpened, AfterSalesCaseResolved, Codec, Framing, GoodsReceiptReversed,
    GoodsReceived, InspectionCompleted, PurchaseOrderLineCancelled, PurchaseOrderLineChanged,
    PurchaseOrderLineConfirmed, PurchaseOrderLinePlaced, Record, RecordKind,
    RectificationPlanClosed, RectificationPlanOpened, RectificationProgressReported,
    SupplierAssessmentCompleted, SupplierAssessmentRetracted, SupplierCertificateRecorded,
    SupplierComplianceViolationRecorded, SupplierComplianceViolationRetracted,
    SupplierRiskSignalRecorded, SupplierStatusDecided,
};
use uuid::Uuid;

/// Namespace of the event ids derived from rows.
pub const IMPORT_NAMESPACE: Uuid = Uuid::from_u128(0x3c1e_5a0f_2b7d_4e61_9a44_8c0b_6f2d_1e93);

/// Why a file or a row was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// The file name names no inbound record type.
    #[error("{file}: the file name names no inbound record type (expected one of: {expected})")]
    UnknownType {
        /// The file.
        file: String,
        /// Accepted names.
        expected: String,
    },
    /// The header lacks required columns or has unknown ones.
    #[error("{file}:1: {problem}")]
    Header {
        /// The file.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// A row is not a valid event.
    #[error("{file}:{line}: {problem}")]
    Row {
        /// The file.
        file: String,
        /// 1-based line in the file.
        line: u64,
        /// What is wrong (the field, the value, the rule).
        problem: String,
    },
    /// The file cannot be read.
    #[error("{file}: {problem}")]
    Io {
        /// The file.
        file: String,
        /// What happened.
        problem: String,
    },
}

/// The inbound record type a file name stands for: `GoodsReceived`,
/// `goods_received` or `goods-received`, any case, with or without `.csv`.
pub fn kind_for_file(path: &Path) -> Option<RecordKind> {
    let stem = path.file_stem()?.to_str()?;
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let want = norm(stem.split('.').next().unwrap_or(stem));
    RecordKind::ALL
        .iter()
        .copied()
        .filter(|k| !k.default_topic().contains("alerts"))
        .find(|k| norm(k.name()) == want)
}

/// How to turn a cell into the JSON the record types read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Text,
    Int,
    Double,
    Bool,
    /// An array (the criteria of an assessment): one JSON cell.
    Json,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    cell: Cell,
    nullable: bool,
}

fn cell_of(t: &Value) -> Cell {
    match t {
        Value::String(s) => match s.as_str() {
            "int" | "long" => Cell::Int,
            "double" | "float" => Cell::Double,
            "boolean" => Cell::Bool,
            _ => Cell::Text,
        },
        // Logical types (uuid, date, timestamp) and enums read from their text form.
        Value::Object(o) if o.contains_key("logicalType") => Cell::Text,
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("array") => Cell::Json,
        Value::Object(o) => o.get("type").map_or(Cell::Text, cell_of),
        _ => Cell::Text,
    }
}

/// The fields of the current writer schema of `kind`.
fn fields(codec: &Codec, kind: RecordKind) -> Vec<Field> {
    let schema: Value =
        serde_json::from_str(&codec.catalog().writer_for(kind).json).unwrap_or(Value::Null);
    schema["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    let t = &f["type"];
                    let (nullable, inner) = match t.as_array() {
                        Some(branches) => (
                            branches.iter().any(|b| b == "null"),
                            branches
                                .iter()
                                .find(|b| *b != "null")
                                .cloned()
                                .unwrap_or(Value::Null),
                        ),
                        None => (false, t.clone()),
                    };
                    Field {
                        name: f["name"].as_str().unwrap_or_default().to_owned(),
                        cell: cell_of(&inner),
                        nullable,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The result of reading one file.
#[derive(Debug, Default)]
pub struct FileImport {
    /// Valid records, in file order.
    pub records: Vec<Record>,
    /// Rows refused (the rest of the file is still read).
    pub errors: Vec<ImportError>,
    /// Data rows read.
    pub rows: u64,
}

/// Reads one CSV file of `kind` rows. `default_source` fills a missing `source` column.
pub fn read_csv(
    codec: &Codec,
    kind: RecordKind,
    file: &str,
    input: impl Read,
    default_source: Option<&str>,
) -> Result<FileImport, ImportError> {
    let fields = fields(codec, kind);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Header {
            file: file.to_owned(),
            problem: e.to_string(),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut twice: Vec<&str> = header
        .iter()
        .enumerate()
        .filter(|(i, h)| header[..*i].contains(h))
        .map(|(_, h)| h.as_str())
        .collect();
    twice.dedup();
    if !twice.is_empty() {
        return Err(ImportError::Header {
            file: file.to_owned(),
            problem: format!(
                "column(s) {} appear more than once (which one would count?)",
                twice.join(", ")
            ),
        });
    }
    let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let unknown: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|h| !known.contains(h))
        .collect();
    if !unknown.is_empty() {
        return Err(ImportError::Header {
            file: file.to_owned(),
            problem: format!(
                "unknown column(s) {} for {} (its fields: {})",
                unknown.join(", "),
                kind.name(),
                known.join(", ")
            ),
        });
    }
    // Optional fields, event_id (derived) and source (defaulted) may be left out.
    let missing: Vec<&str> = fields
        .iter()
        .filter(|f| {
            !f.nullable && f.name != "event_id" && !(f.name == "source" && default_source.is_some())
        })
        .map(|f| f.name.as_str())
        .filter(|n| !header.iter().any(|h| h == n))
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::Header {
            file: file.to_owned(),
            problem: format!(
                "missing column(s) {} for {}",
                missing.join(", "),
                kind.name()
            ),
        });
    }
    let column: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut out = FileImport::default();
    for row in reader.records() {
        let row_err = |line: u64, problem: String| ImportError::Row {
            file: file.to_owned(),
            line,
            problem,
        };
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.errors.push(row_err(line, e.to_string()));
                continue;
            }
        };
        out.rows += 1;
        let line = row.position().map_or(0, |p| p.line());
        match row_record(codec, kind, &fields, &column, &row, default_source) {
            Ok(r) => out.records.push(r),
            Err(problem) => out.errors.push(row_err(line, problem)),
        }
    }
    Ok(out)
}

/// The record of `kind` from its JSON form; an error names the field at fault.
fn typed_record(kind: RecordKind, obj: Value) -> Result<Record, String> {
    fn typed<T: serde::de::DeserializeOwned + Into<Record>>(obj: Value) -> Result<Record, String> {
        serde_path_to_error::deserialize::<_, T>(obj)
            .map(Into::into)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }
    match kind {
        RecordKind::PurchaseOrderLinePlaced => typed::<PurchaseOrderLinePlaced>(obj),
        RecordKind::PurchaseOrderLineConfirmed => typed::<PurchaseOrderLineConfirmed>(obj),
        RecordKind::PurchaseOrderLineChanged => typed::<PurchaseOrderLineChanged>(obj),
        RecordKind::PurchaseOrderLineCancelled => typed::<PurchaseOrderLineCancelled>(obj),
        RecordKind::GoodsReceived => typed::<GoodsReceived>(obj),
        RecordKind::GoodsReceiptReversed => typed::<GoodsReceiptReversed>(obj),
        RecordKind::InspectionCompleted => typed::<InspectionCompleted>(obj),
        RecordKind::AfterSalesCaseOpened => typed::<AfterSalesCaseOpened>(obj),
        RecordKind::AfterSalesCaseResolved => typed::<AfterSalesCaseResolved>(obj),
        RecordKind::SupplierAssessmentCompleted => typed::<SupplierAssessmentCompleted>(obj),
        RecordKind::SupplierAssessmentRetracted => typed::<SupplierAssessmentRetracted>(obj),
        RecordKind::SupplierCertificateRecorded => typed::<SupplierCertificateRecorded>(obj),
        RecordKind::SupplierComplianceViolationRecorded => {
            typed::<SupplierComplianceViolationRecorded>(obj)
        }
        RecordKind::SupplierComplianceViolationRetracted => {
            typed::<SupplierComplianceViolationRetracted>(obj)
        }
        RecordKind::SupplierRiskSignalRecorded => typed::<SupplierRiskSignalRecorded>(obj),
        RecordKind::RectificationPlanOpened => typed::<RectificationPlanOpened>(obj),
        RecordKind::RectificationProgressReported => typed::<RectificationProgressReported>(obj),
        RecordKind::RectificationPlanClosed => typed::<RectificationPlanClosed>(obj),
        RecordKind::SupplierStatusDecided => typed::<SupplierStatusDecided>(obj),
        other => Err(format!(
            "{} is not imported (Tierline publishes it)",
            other.name()
        )),
    }
}

fn row_record(
    codec: &Codec,
    kind: RecordKind,
    fields: &[Field],
    column: &HashMap<&str, usize>,
    row: &csv::StringRecord,
    default_source: Option<&str>,
) -> Result<Record, String> {
    let mut obj = Map::new();
    obj.insert("type".into(), Value::String(kind.name().to_owned()));
    for f in fields {
        let raw = column
            .get(f.name.as_str())
            .and_then(|i| row.get(*i))
            .unwrap_or("");
        let raw = if raw.is_empty() && f.name == "source" {
            default_source.unwrap_or("")
        } else {
            raw
        };
        let value = if raw.is_empty() {
            if f.nullable || f.name == "event_id" {
                Value::Null
            } else {
                return Err(format!("{}: a value is required", f.name));
            }
        } else {
            match f.cell {
                Cell::Text => Value::String(raw.to_owned()),
                Cell::Int => raw
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| format!("{}: {raw:?} is not a whole number", f.name))?,
                Cell::Double => raw
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| format!("{}: {raw:?} is not a finite number", f.name))?,
                Cell::Json => serde_json::from_str(raw)
                    .map_err(|e| format!("{}: not JSON ({e}): {raw:?}", f.name))?,
                Cell::Bool => match raw.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => Value::Bool(true),
                    "false" | "0" | "no" => Value::Bool(false),
                    _ => return Err(format!("{}: {raw:?} is not true/false", f.name)),
                },
            }
        };
        obj.insert(f.name.clone(), value);
    }
    if obj.get("event_id").is_none_or(Value::is_null) {
        // Stable: the record type and every other cell, in schema order.
        let mut name = kind.name().to_owned();
        for f in fields.iter().filter(|f| f.name != "event_id") {
            name.push('|');
            name.push_str(&obj.get(&f.name).map(Value::to_string).unwrap_or_default());
        }
        obj.insert(
            "event_id".into(),
            Value::String(Uuid::new_v5(&IMPORT_NAMESPACE, name.as_bytes()).to_string()),
        );
    }
    let record = typed_record(kind, Value::Object(obj))?;
    // The same validation as ingest: frame it and read it back.
    let bytes = codec
        .to_bytes(&record, Framing::Confluent)
        .map_err(|e| e.to_string())?;
    codec.decode(&bytes).map_err(|e| e.to_string())?;
    Ok(record)
}
