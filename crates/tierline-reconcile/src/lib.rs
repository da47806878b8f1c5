//! Reconciliation with the ERP (docs/scoring.md "Reconciling with the ERP"): an ERP's
//! extract of per-object numerators and denominators (CSV) against Tierline's, per
//! indicator and day, and object by object. Pure: text and terms in, a report out.

use std::collections::BTreeMap;

use tierline_events::{Date, Record};
use tierline_scoring::{Indicator, ObjectRef, ObjectTerm, RECONCILED, fsum};

/// The extract's columns, in any order.
pub const COLUMNS: [&str; 6] = [
    "indicator",
    "date",
    "object_type",
    "object_id",
    "numerator",
    "denominator",
];

/// An extract that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The CSV itself is broken.
    #[error("extract: {0}")]
    Csv(#[from] csv::Error),
    /// A column is missing.
    #[error("extract: no column `{0}` (columns: {cols})", cols = COLUMNS.join(","))]
    MissingColumn(&'static str),
    /// A row's value is not what its column takes.
    #[error("extract line {line}: {field}: {problem}")]
    Row {
        /// 1-based line in the file.
        line: u64,
        /// The column.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// One row of the extract.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractRow {
    /// Indicator.
    pub indicator: Indicator,
    /// Day.
    pub date: Date,
    /// Object.
    pub object: ObjectRef,
    /// Numerator.
    pub numerator: f64,
    /// Denominator.
    pub denominator: f64,
}

/// Reads an extract (header row naming [`COLUMNS`]).
pub fn parse_extract(text: &str) -> Result<Vec<ExtractRow>, ReconcileError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let col = |name: &'static str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or(ReconcileError::MissingColumn(name))
    };
    let cols = [
        col("indicator")?,
        col("date")?,
        col("object_type")?,
        col("object_id")?,
        col("numerator")?,
        col("denominator")?,
    ];
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |k: usize| record.get(cols[k]).unwrap_or_default();
        let bad = |field: &'static str, problem: String| ReconcileError::Row {
            line,
            field,
            problem,
        };
        let indicator = Indicator::from_name(get(0))
            .filter(|i| RECONCILED.contains(i))
            .ok_or_else(|| {
                let names: Vec<&str> = RECONCILED.iter().map(|i| i.name()).collect();
                bad(
                    "indicator",
                    format!("`{}` is not one of {}", get(0), names.join(", ")),
                )
            })?;
        let date = Date::parse(get(1))
            .ok_or_else(|| bad("date", format!("`{}` is not a YYYY-MM-DD date", get(1))))?;
        let id = get(3).to_owned();
        let object = match get(2) {
            "line" => {
                let (po, n) = id
                    .rsplit_once('/')
                    .and_then(|(po, n)| Some((po.to_owned(), n.parse().ok()?)))
                    .ok_or_else(|| bad("object_id", format!("`{id}` is not PO/LINE")))?;
                ObjectRef::Line(po, n)
            }
            "receipt" => ObjectRef::Receipt(id),
            "inspection" => ObjectRef::Inspection(id),
            other => {
                return Err(bad(
                    "object_type",
                    format!("`{other}` is not line, receipt or inspection"),
                ));
            }
        };
        let number = |k: usize, field: &'static str| {
            get(k)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(field, format!("`{}` is not a number", get(k))))
        };
        rows.push(ExtractRow {
            indicator,
            date,
            object,
            numerator: number(4, "numerator")?,
            denominator: number(5, "denominator")?,
        });
    }
    Ok(rows)
}

/// (numerator, denominator) on each side; `None` where a side has no term.
pub type Sides = (Option<(f64, f64)>, Option<(f64, f64)>);

/// What differs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Per (indicator, day) in the range: Tierline's and the ERP's sums, where they
    /// differ.
    pub days: Vec<(Indicator, Date, Sides)>,
    /// Per object term: both sides, where they differ.
    pub objects: Vec<(Indicator, Date, ObjectRef, Sides)>,
    /// Days compared (indicator x day with a term on either side).
    pub days_compared: usize,
    /// Object terms compared.
    pub objects_compared: usize,
}

impl Report {
    /// Nothing differs.
    pub fn reconciles(&self) -> bool {
        self.days.is_empty() && self.objects.is_empty()
    }
}

/// Compares Tierline's terms with the extract's, on days `from..=to`. Numbers compare
/// exactly (each side's day sum correctly rounded); the return rate's numerator
/// (after-sales cases) is not an object term: only its denominator reconciles.
pub fn compare(ours: &[ObjectTerm], theirs: &[ExtractRow], from: Date, to: Date) -> Report {
    type Key = (Indicator, Date, ObjectRef);
    let mut objects: BTreeMap<Key, Sides> = BTreeMap::new();
    for t in ours.iter().filter(|t| t.date >= from && t.date <= to) {
        let slot = objects
            .entry((t.indicator, t.date, t.object.clone()))
            .or_default();
        slot.0 = Some(add(slot.0, (t.numerator, t.denominator)));
    }
    for r in theirs.iter().filter(|r| r.date >= from && r.date <= to) {
        let slot = objects
            .entry((r.indicator, r.date, r.object.clone()))
            .or_default();
        slot.1 = Some(add(slot.1, (r.numerator, r.denominator)));
    }
    let mut report = Report {
        objects_compared: objects.len(),
        ..Report::default()
    };
    // Each side's terms of one indicator-day.
    type DayTerms = (Vec<(f64, f64)>, Vec<(f64, f64)>);
    let mut days: BTreeMap<(Indicator, Date), DayTerms> = BTreeMap::new();
    for ((indicator, date, object), sides) in objects {
        let day = days.entry((indicator, date)).or_default();
        day.0.extend(sides.0);
        day.1.extend(sides.1);
        if !same(indicator, sides.0, sides.1) {
            report.objects.push((indicator, date, object, sides));
        }
    }
    report.days_compared = days.len();
    for ((indicator, date), (a, b)) in days {
        let sum = |terms: &[(f64, f64)]| {
            (!terms.is_empty()).then(|| {
                (
                    fsum(terms.iter().map(|t| t.0)),
                    fsum(terms.iter().map(|t| t.1)),
                )
            })
        };
        let sides = (sum(&a), sum(&b));
        if !same(indicator, sides.0, sides.1) {
            report.days.push((indicator, date, sides));
        }
    }
    report
}

fn add(a: Option<(f64, f64)>, b: (f64, f64)) -> (f64, f64) {
    match a {
        Some(a) => (fsum([a.0, b.0]), fsum([a.1, b.1])),
        None => b,
    }
}

fn same(indicator: Indicator, a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> bool {
    let (a, b) = (a.unwrap_or((0.0, 0.0)), b.unwrap_or((0.0, 0.0)));
    let numerators = indicator == Indicator::ReturnRatePpm || a.0 == b.0;
    numerators && a.1 == b.1
}

/// Whether a stored record is one of the events behind an object.
pub fn concerns(record: &Record, object: &ObjectRef) -> bool {
    match (object, record) {
        (ObjectRef::Receipt(id), Record::GoodsReceived(r)) => &r.receipt_id == id,
        (ObjectRef::Receipt(id), Record::GoodsReceiptReversed(r)) => &r.receipt_id == id,
        (ObjectRef::Inspection(id), Record::InspectionCompleted(r)) => &r.inspection_id == id,
        (ObjectRef::Line(po, n), r) => line_of(r).is_some_and(|(p, l)| p == po && l == *n),
        _ => false,
    }
}

fn line_of(record: &Record) -> Option<(&str, i32)> {
    match record {
        Record::PurchaseOrderLinePlaced(r) => Some((&r.po_number, r.line_number)),
        Record::PurchaseOrderLineConfirmed(r) => Some((&r.po_number, r.line_number)),
        Record::PurchaseOrderLineChanged(r) => Some((&r.po_number, r.line_number)),
        Record::PurchaseOrderLineCancelled(r) => Some((&r.po_number, r.line_number)),
        Record::GoodsReceived(r) => Some((&r.po_number, r.line_number)),
        _ => None,
    }
}
