//! Shared test helpers: one invalidating mutation per field rule of docs/events.md.
#![allow(dead_code, unreachable_pub, clippy::expect_used)]

use tierline_events::*;

/// A mutation that breaks one rule: (description, record kind, mutate, field, rule code).
pub struct Breaker {
    pub what: &'static str,
    pub kind: RecordKind,
    pub mutate: fn(&mut Record),
    pub field: &'static str,
    pub rule: &'static str,
}

/// A valid sample of this kind.
pub fn sample_of(kind: RecordKind) -> Record {
    sample::all()
        .into_iter()
        .find(|r| r.kind() == kind)
        .expect("sample::all has every kind")
}

macro_rules! breaker {
    ($what:literal, $kind:ident, |$r:ident| $body:expr, $field:literal, $rule:literal) => {
        Breaker {
            what: $what,
            kind: RecordKind::$kind,
            mutate: |rec| {
                if let Record::$kind($r) = rec {
                    $body;
                }
            },
            field: $field,
            rule: $rule,
        }
    };
}

mod v2;

/// Every field rule of docs/events.md (plus the documented extras), broken once.
pub fn breakers() -> Vec<Breaker> {
    let mut all = v1_breakers();
    all.extend(v2::breakers());
    all
}

fn v1_breakers() -> Vec<Breaker> {
    vec![
        breaker!(
            "nil event_id",
            GoodsReceived,
            |r| r.event_id = uuid::Uuid::nil(),
            "event_id",
            "nil-uuid"
        ),
        breaker!(
            "empty source",
            GoodsReceived,
            |r| r.source = String::new(),
            "source",
            "length"
        ),
        breaker!(
            "source of 129 chars",
            GoodsReceived,
            |r| r.source = "é".repeat(129),
            "source",
            "length"
        ),
        breaker!(
            "occurred_at after 9999",
            GoodsReceived,
            |r| r.occurred_at = Timestamp(Timestamp::MAX.0 + 1),
            "occurred_at",
            "implausible-date"
        ),
        breaker!(
            "occurred_at before 0001",
            PurchaseOrderLineCancelled,
            |r| r.occurred_at = Timestamp(i64::MIN),
            "occurred_at",
            "implausible-date"
        ),
        breaker!(
            "occurred_at an ERP's empty date, 0001-01-01",
            GoodsReceived,
            |r| r.occurred_at = Timestamp::MIN,
            "occurred_at",
            "implausible-date"
        ),
        breaker!(
            "occurred_at just before 1990",
            InspectionCompleted,
            |r| r.occurred_at = Timestamp(Timestamp::PLAUSIBLE_FROM.0 - 1),
            "occurred_at",
            "implausible-date"
        ),
        breaker!(
            "occurred_at 2100-01-01",
            AfterSalesCaseOpened,
            |r| r.occurred_at = Timestamp::PLAUSIBLE_UNTIL,
            "occurred_at",
            "implausible-date"
        ),
        breaker!(
            "source with a NUL",
            GoodsReceived,
            |r| r.source = "wms\0".into(),
            "source",
            "nul"
        ),
        breaker!(
            "item_id with a NUL",
            PurchaseOrderLinePlaced,
            |r| r.item_id = "I\0".into(),
            "item_id",
            "nul"
        ),
        breaker!(
            "reason with a NUL",
            PurchaseOrderLineCancelled,
            |r| r.reason = "\0".into(),
            "reason",
            "nul"
        ),
        breaker!(
            "delivery_note with a NUL",
            GoodsReceived,
            |r| r.delivery_note = Some("DN\0".into()),
            "delivery_note",
            "nul"
        ),
        breaker!(
            "case_id with a NUL",
            AfterSalesCaseResolved,
            |r| r.case_id = "C\0".into(),
            "case_id",
            "nul"
        ),
        breaker!(
            "empty supplier_id",
            PurchaseOrderLinePlaced,
            |r| r.supplier_id = String::new(),
            "supplier_id",
            "length"
        ),
        breaker!(
            "supplier_id of 65 chars",
            PurchaseOrderLinePlaced,
            |r| r.supplier_id = "S".repeat(65),
            "supplier_id",
            "length"
        ),
        breaker!(
            "supplier_id with a space",
            InspectionCompleted,
            |r| r.supplier_id = "SUP 1".into(),
            "supplier_id",
            "charset"
        ),
        breaker!(
            "supplier_id with a slash",
            AfterSalesCaseOpened,
            |r| r.supplier_id = "SUP/1".into(),
            "supplier_id",
            "charset"
        ),
        breaker!(
            "supplier_id non-ASCII",
            AfterSalesCaseResolved,
            |r| r.supplier_id = "SÜP".into(),
            "supplier_id",
            "charset"
        ),
        breaker!(
            "empty po_number",
            PurchaseOrderLinePlaced,
            |r| r.po_number = String::new(),
            "po_number",
            "length"
        ),
        breaker!(
            "po_number of 65 chars",
            PurchaseOrderLineConfirmed,
            |r| r.po_number = "P".repeat(65),
            "po_number",
            "length"
        ),
        breaker!(
            "line_number 0",
            PurchaseOrderLinePlaced,
            |r| r.line_number = 0,
            "line_number",
            "at-least"
        ),
        breaker!(
            "line_number negative",
            GoodsReceived,
            |r| r.line_number = -4,
            "line_number",
            "at-least"
        ),
        breaker!(
            "placed quantity 0",
            PurchaseOrderLinePlaced,
            |r| r.quantity = 0.0,
            "quantity",
            "positive"
        ),
        breaker!(
            "placed quantity negative",
            PurchaseOrderLinePlaced,
            |r| r.quantity = -1.0,
            "quantity",
            "positive"
        ),
        breaker!(
            "placed quantity NaN",
            PurchaseOrderLinePlaced,
            |r| r.quantity = f64::NAN,
            "quantity",
            "not-finite"
        ),
        breaker!(
            "placed quantity infinite",
            PurchaseOrderLinePlaced,
            |r| r.quantity = f64::INFINITY,
            "quantity",
            "not-finite"
        ),
        breaker!(
            "unit_price negative",
            PurchaseOrderLinePlaced,
            |r| r.unit_price = -0.01,
            "unit_price",
            "non-negative"
        ),
        breaker!(
            "currency lower case",
            PurchaseOrderLinePlaced,
            |r| r.currency = "eur".into(),
            "currency",
            "currency"
        ),
        breaker!(
            "currency of 4 letters",
            PurchaseOrderLinePlaced,
            |r| r.currency = "EURO".into(),
            "currency",
            "currency"
        ),
        breaker!(
            "reference_unit_price negative",
            PurchaseOrderLinePlaced,
            |r| r.reference_unit_price = Some(-2.0),
            "reference_unit_price",
            "non-negative"
        ),
        breaker!(
            "requested_date after 9999",
            PurchaseOrderLinePlaced,
            |r| r.requested_date = Date(Date::MAX.0 + 1),
            "requested_date",
            "out-of-range"
        ),
        breaker!(
            "promised_date before 0001",
            PurchaseOrderLinePlaced,
            |r| r.promised_date = Some(Date(i32::MIN)),
            "promised_date",
            "out-of-range"
        ),
        breaker!(
            "confirmed_quantity 0",
            PurchaseOrderLineConfirmed,
            |r| r.confirmed_quantity = 0.0,
            "confirmed_quantity",
            "positive"
        ),
        breaker!(
            "confirmed promised_date out of range",
            PurchaseOrderLineConfirmed,
            |r| r.promised_date = Date(i32::MAX),
            "promised_date",
            "out-of-range"
        ),
        breaker!(
            "changed quantity 0",
            PurchaseOrderLineChanged,
            |r| r.quantity = Some(0.0),
            "quantity",
            "positive"
        ),
        breaker!(
            "changed requested_date out of range",
            PurchaseOrderLineChanged,
            |r| r.requested_date = Some(Date(i32::MAX)),
            "requested_date",
            "out-of-range"
        ),
        breaker!(
            "cancelled line_number 0",
            PurchaseOrderLineCancelled,
            |r| r.line_number = 0,
            "line_number",
            "at-least"
        ),
        breaker!(
            "received quantity 0",
            GoodsReceived,
            |r| r.quantity = 0.0,
            "quantity",
            "positive"
        ),
        breaker!(
            "received quantity -inf",
            GoodsReceived,
            |r| r.quantity = f64::NEG_INFINITY,
            "quantity",
            "not-finite"
        ),
        breaker!(
            "inspection po_number empty",
            InspectionCompleted,
            |r| r.po_number = Some(String::new()),
            "po_number",
            "length"
        ),
        breaker!(
            "inspection line_number 0",
            InspectionCompleted,
            |r| r.line_number = Some(0),
            "line_number",
            "at-least"
        ),
        breaker!(
            "inspected_quantity 0",
            InspectionCompleted,
            |r| r.inspected_quantity = 0.0,
            "inspected_quantity",
            "positive"
        ),
        breaker!(
            "defective_quantity negative",
            InspectionCompleted,
            |r| r.defective_quantity = -1.0,
            "defective_quantity",
            "non-negative"
        ),
        breaker!(
            "defective above inspected",
            InspectionCompleted,
            |r| r.defective_quantity = r.inspected_quantity + 1.0,
            "defective_quantity",
            "at-most-field"
        ),
        breaker!(
            "critical_defects negative",
            InspectionCompleted,
            |r| r.critical_defects = -1,
            "critical_defects",
            "at-least"
        ),
        breaker!(
            "case quantity negative",
            AfterSalesCaseOpened,
            |r| r.quantity = -3.0,
            "quantity",
            "non-negative"
        ),
        breaker!(
            "case po_number too long",
            AfterSalesCaseOpened,
            |r| r.po_number = Some("P".repeat(65)),
            "po_number",
            "length"
        ),
        breaker!(
            "resolution cost negative",
            AfterSalesCaseResolved,
            |r| r.cost = Some(-1.0),
            "cost",
            "non-negative"
        ),
        breaker!(
            "resolution cost NaN",
            AfterSalesCaseResolved,
            |r| r.cost = Some(f64::NAN),
            "cost",
            "not-finite"
        ),
        breaker!(
            "resolution currency bad",
            AfterSalesCaseResolved,
            |r| r.currency = Some("E1R".into()),
            "currency",
            "currency"
        ),
        breaker!(
            "alert nil id",
            SupplierAlertRaised,
            |r| r.alert_id = uuid::Uuid::nil(),
            "alert_id",
            "nil-uuid"
        ),
        breaker!(
            "alert value NaN",
            SupplierAlertRaised,
            |r| r.value = f64::NAN,
            "value",
            "not-finite"
        ),
        breaker!(
            "alert window 0",
            SupplierAlertRaised,
            |r| r.window_days = 0,
            "window_days",
            "at-least"
        ),
        breaker!(
            "resolved alert bad supplier",
            SupplierAlertResolved,
            |r| r.supplier_id = "a b".into(),
            "supplier_id",
            "charset"
        ),
        breaker!(
            "tier score infinite",
            SupplierTierChanged,
            |r| r.score = Some(f64::INFINITY),
            "score",
            "not-finite"
        ),
    ]
}

/// Where `python3` with fastavro is: `TIERLINE_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("TIERLINE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The repository root.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
