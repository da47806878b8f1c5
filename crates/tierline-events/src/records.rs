//! One Rust type per record of docs/events.md. Field order is the order of the latest
//! schema version in `schemas/` (a test checks it), because encoding writes fields
//! in declaration order.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::enums::*;
use crate::value::{AvroField, Date, FieldErr, Timestamp, Val};

/// Record namespace of every Tierline schema.
pub const NAMESPACE: &str = "io.tierline.v1";

/// One criterion's score on its own scale, inside a `SupplierAssessmentCompleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionScore {
    /// 1..64 of `[a-z0-9_]`, unique within the assessment.
    pub criterion: String,
    /// `min_score` <= score <= `max_score`.
    pub score: f64,
    /// Bottom of the scale (default 0), < `max_score`.
    #[serde(default)]
    pub min_score: f64,
    /// Top of the scale.
    pub max_score: f64,
}

impl CriterionScore {
    /// Field names in schema order.
    pub const FIELDS: &'static [&'static str] = &["criterion", "score", "min_score", "max_score"];

    /// The score on a 0..1 scale: (score - min) / (max - min).
    pub fn value(&self) -> f64 {
        (self.score - self.min_score) / (self.max_score - self.min_score)
    }
}

impl crate::value::NestedRecord for CriterionScore {
    fn from_slots(slots: &[Val<'_>]) -> Result<Self, FieldErr> {
        let slot = |i: usize| slots.get(i).unwrap_or(&Val::Absent);
        Ok(CriterionScore {
            criterion: String::from_val(slot(0))?,
            score: f64::from_val(slot(1))?,
            min_score: f64::from_val(slot(2))?,
            max_score: f64::from_val(slot(3))?,
        })
    }
    fn encode_datum(&self, buf: &mut Vec<u8>) {
        self.criterion.encode(buf);
        self.score.encode(buf);
        self.min_score.encode(buf);
        self.max_score.encode(buf);
    }
}

/// The Rust field names of a record nested in another, by its short name.
pub(crate) fn nested_fields(short_name: &str) -> Option<&'static [&'static str]> {
    match short_name {
        "CriterionScore" => Some(CriterionScore::FIELDS),
        _ => None,
    }
}

macro_rules! records {
    ($(
        $(#[$m:meta])*
        $name:ident {
            $($(#[$fm:meta])* $field:ident : $ty:ty),+ $(,)?
        }
    )+) => {
        $(
            $(#[$m])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                $($(#[$fm])* pub $field: $ty),+
            }

            impl $name {
                /// Field names in schema order.
                pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

                #[inline]
                fn from_slots(slots: &[Val<'_>]) -> Result<Self, (&'static str, FieldErr)> {
                    let mut it = slots.iter();
                    Ok(Self {
                        $($field: {
                            let v = it.next().unwrap_or(&Val::Absent);
                            <$ty as AvroField>::from_val(v).map_err(|e| (stringify!($field), e))?
                        }),+
                    })
                }

                fn encode_datum(&self, buf: &mut Vec<u8>) {
                    $(AvroField::encode(&self.$field, buf);)+
                }
            }

            impl From<$name> for Record {
                fn from(r: $name) -> Record { Record::$name(r) }
            }
        )+

        /// The kind of a record, without its data.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RecordKind { $($(#[$m])* $name),+ }

        impl RecordKind {
            /// Every record kind.
            pub const ALL: &'static [RecordKind] = &[$(RecordKind::$name),+];

            /// Short name, e.g. `GoodsReceived`.
            pub fn name(self) -> &'static str {
                match self { $(RecordKind::$name => stringify!($name)),+ }
            }

            /// Full name, e.g. `io.tierline.v1.GoodsReceived`.
            pub fn full_name(self) -> &'static str {
                match self { $(RecordKind::$name => concat!("io.tierline.v1.", stringify!($name))),+ }
            }

            /// Field names of the Rust type, in schema order.
            pub fn fields(self) -> &'static [&'static str] {
                match self { $(RecordKind::$name => $name::FIELDS),+ }
            }

            /// The kind with this full name.
            pub fn from_full_name(full: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|k| k.full_name() == full)
            }
        }

        /// Any record of the contract. JSON form: the fields plus `"type"`, the short name.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum Record { $($(#[$m])* $name($name)),+ }

        impl Record {
            /// Its kind.
            pub fn kind(&self) -> RecordKind {
                match self { $(Record::$name(_) => RecordKind::$name),+ }
            }

            pub(crate) fn from_slots(kind: RecordKind, slots: &[Val<'_>]) -> Result<Self, (&'static str, FieldErr)> {
                Ok(match kind { $(RecordKind::$name => Record::$name($name::from_slots(slots)?)),+ })
            }

            /// Appends the Avro binary datum (latest schema version, no framing).
            pub fn encode_datum(&self, buf: &mut Vec<u8>) {
                match self { $(Record::$name(r) => r.encode_datum(buf)),+ }
            }
        }
    };
}

records! {
    /// A buyer placed a PO line with the supplier.
    PurchaseOrderLinePlaced {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** PO number. */ po_number: String,
        /** Line number, >= 1. */ line_number: i32,
        /** Item. */ item_id: String,
        /** Purchasing category. */ category: String,
        /** Ordered quantity, > 0. */ quantity: f64,
        /** Unit of measure. */ unit_of_measure: String,
        /** Unit price, >= 0. */ unit_price: f64,
        /** ISO 4217 currency. */ currency: String,
        /** Contract or benchmark price. */ reference_unit_price: Option<f64>,
        /** Requested delivery date. */ requested_date: Date,
        /** Promise made at placement. */ promised_date: Option<Date>,
    }
    /// The supplier acknowledged the line.
    PurchaseOrderLineConfirmed {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** PO number. */ po_number: String,
        /** Line number. */ line_number: i32,
        /** Promised delivery date. */ promised_date: Date,
        /** Confirmed quantity, > 0. */ confirmed_quantity: f64,
    }
    /// The buyer changed the line.
    PurchaseOrderLineChanged {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** PO number. */ po_number: String,
        /** Line number. */ line_number: i32,
        /** New requested date; `None` = unchanged. */ requested_date: Option<Date>,
        /** New quantity; `None` = unchanged. */ quantity: Option<f64>,
    }
    /// The line was cancelled.
    PurchaseOrderLineCancelled {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** PO number. */ po_number: String,
        /** Line number. */ line_number: i32,
        /** Who cancelled. */ cancelled_by: CancelledBy,
        /** Why. */ reason: String,
    }
    /// Goods for a PO line were received.
    GoodsReceived {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Receipt time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** Receipt. */ receipt_id: String,
        /** PO number. */ po_number: String,
        /** Line number. */ line_number: i32,
        /** Received quantity, > 0. */ quantity: f64,
        /** Receiving site. */ site: String,
        /** Delivery note number (schema version 2). */ delivery_note: Option<String>,
        /** The plant's business day of the posting (version 3): the record's date
        for every rule when present. */ posting_date: Option<Date>,
    }
    /// A goods receipt was reversed in the ERP: void for every date.
    GoodsReceiptReversed {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The reversed receipt. */ receipt_id: String,
        /** Why. */ reason: String,
    }
    /// An inspection finished.
    InspectionCompleted {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** When the inspection finished. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** Inspection. */ inspection_id: String,
        /** Receipt inspected. */ receipt_id: Option<String>,
        /** PO number. */ po_number: Option<String>,
        /** Line number. */ line_number: Option<i32>,
        /** Item. */ item_id: String,
        /** Inspected quantity, > 0. */ inspected_quantity: f64,
        /** Defective quantity, 0..=inspected. */ defective_quantity: f64,
        /** Critical nonconformities, >= 0. */ critical_defects: i32,
        /** Outcome. */ disposition: Disposition,
        /** The plant's business day of the posting (version 2): the record's date
        for every rule when present. */ posting_date: Option<Date>,
    }
    /// An after-sales case was opened.
    AfterSalesCaseOpened {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** Case. */ case_id: String,
        /** Item. */ item_id: String,
        /** PO number. */ po_number: Option<String>,
        /** Kind. */ kind: CaseKind,
        /** Units concerned, >= 0. */ quantity: f64,
        /** First assessment. */ supplier_attributable: bool,
    }
    /// An after-sales case was resolved.
    AfterSalesCaseResolved {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** Case. */ case_id: String,
        /** Resolution. */ resolution: Resolution,
        /** Final determination. */ supplier_attributable: bool,
        /** Cost. */ cost: Option<f64>,
        /** Currency of the cost. */ currency: Option<String>,
    }
    /// An audit, buyer review or questionnaire scored the supplier (docs/events.md, docs/scoring.md).
    SupplierAssessmentCompleted {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** When the assessment was made. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The assessment; a later record with this id amends it. */ assessment_id: String,
        /** How it was made. */ kind: AssessmentKind,
        /** The assessor's id in the people directory. */ assessor: String,
        /** 1..64 criteria, names unique. */ criteria: Vec<CriterionScore>,
        /** Last day it counts (`None`: each criterion's `validity_days`). */ valid_until: Option<Date>,
        /** Free text. */ comment: Option<String>,
    }
    /// An assessment is void for every date.
    SupplierAssessmentRetracted {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The assessment retracted. */ assessment_id: String,
        /** Why. */ reason: String,
    }
    /// The state of one certificate from `valid_from`.
    SupplierCertificateRecorded {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The certificate. */ certificate_id: String,
        /** The standard, e.g. `ISO9001`. */ standard: String,
        /** Its status. */ status: CertificateStatus,
        /** First day of validity. */ valid_from: Date,
        /** Last day of validity. */ valid_until: Date,
        /** Certification body. */ issuer: Option<String>,
    }
    /// A compliance violation.
    SupplierComplianceViolationRecorded {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** When it happened. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The violation; a later record with this id amends it. */ violation_id: String,
        /** Severity. */ severity: ViolationSeverity,
        /** The rule broken. */ regulation: String,
        /** What happened. */ description: String,
    }
    /// A violation is void for every date.
    SupplierComplianceViolationRetracted {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The violation retracted. */ violation_id: String,
        /** Why. */ reason: String,
    }
    /// An external risk feed's signal.
    SupplierRiskSignalRecorded {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The signal; a later record with this id describes it from its date. */ signal_id: String,
        /** Kind of risk. */ kind: RiskKind,
        /** 0..100, higher is riskier. */ risk_score: f64,
        /** Last day it counts. */ valid_until: Date,
        /** The risk provider. */ feed: String,
        /** What the feed says. */ summary: String,
    }
    /// A rectification plan opened, or amended (docs/events.md, docs/scoring.md).
    RectificationPlanOpened {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The plan. */ plan_id: String,
        /** The indicator it must improve. */ indicator: String,
        /** 30, 90 or 365. */ window_days: i32,
        /** The value to reach, in the indicator's units. */ target: f64,
        /** The review date. */ due_date: Date,
        /** The alert episode behind it. */ trigger_alert_id: Option<Uuid>,
        /** The owner's id. */ owner: String,
        /** 0..32 measures. */ measures: Vec<String>,
    }
    /// Progress on a plan.
    RectificationProgressReported {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The plan. */ plan_id: String,
        /** 0..100. */ percent_complete: i32,
        /** What was done. */ note: String,
    }
    /// A plan closed.
    RectificationPlanClosed {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** Business time. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The plan. */ plan_id: String,
        /** Why. */ reason: PlanCloseReason,
        /** Free text. */ note: Option<String>,
    }
    /// An admin's decision on a supplier's status.
    SupplierStatusDecided {
        /** Unique per source. */ event_id: Uuid,
        /** Emitting system. */ source: String,
        /** From when. */ occurred_at: Timestamp,
        /** Supplier. */ supplier_id: String,
        /** The status decided. */ status: SupplierStatus,
        /** Why. */ reason: String,
        /** The decider's id. */ decided_by: String,
        /** Last day in force (`None`: until another decision). */ valid_until: Option<Date>,
    }
    /// Tierline raised an alert episode.
    SupplierAlertRaised {
        /** Deterministic episode id. */ alert_id: Uuid,
        /** Supplier. */ supplier_id: String,
        /** Rule, e.g. `otif_rate`. */ rule: String,
        /** Level. */ level: AlertLevel,
        /** Indicator value. */ value: f64,
        /** Threshold breached. */ threshold: f64,
        /** Window in days. */ window_days: i32,
        /** Evaluation date. */ as_of: Date,
        /** When raised. */ raised_at: Timestamp,
        /** Policy version. */ policy_version: String,
    }
    /// Tierline resolved a published alert episode.
    SupplierAlertResolved {
        /** Episode id. */ alert_id: Uuid,
        /** Supplier. */ supplier_id: String,
        /** Rule. */ rule: String,
        /** Indicator value. */ value: f64,
        /** Evaluation date. */ as_of: Date,
        /** When resolved. */ resolved_at: Timestamp,
        /** Policy version. */ policy_version: String,
        /** Why (schema version 2; v1 data reads as `CLEARED`). */ reason: ResolutionReason,
    }
    /// Tierline reviewed a plan (or retracted an outcome a late event erased).
    RectificationPlanReviewed {
        /** Deterministic id. */ event_id: Uuid,
        /** Supplier. */ supplier_id: String,
        /** The plan. */ plan_id: String,
        /** Its indicator. */ indicator: String,
        /** Its window. */ window_days: i32,
        /** Its target. */ target: f64,
        /** The indicator on the review date (`None`: insufficient). */ value: Option<f64>,
        /** The verdict. */ outcome: PlanOutcome,
        /** Its due date. */ due_date: Date,
        /** Policy version. */ policy_version: String,
    }
    /// A supplier's status changed.
    SupplierStatusChanged {
        /** Deterministic id. */ event_id: Uuid,
        /** Supplier. */ supplier_id: String,
        /** Previous status. */ from_status: Option<SupplierStatus>,
        /** New status. */ to_status: SupplierStatus,
        /** First day of the new status's run. */ effective_date: Date,
        /** The decision's reason, or `expired:{event_id}`. */ reason: String,
    }
    /// A supplier's tier changed.
    SupplierTierChanged {
        /** Deterministic id. */ event_id: Uuid,
        /** Supplier. */ supplier_id: String,
        /** Previous tier. */ from_tier: Option<String>,
        /** New tier. */ to_tier: String,
        /** Composite score. */ score: Option<f64>,
        /** Effective date. */ effective_date: Date,
        /** Policy version. */ policy_version: String,
    }
}

/// The common fields of an inbound record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Envelope<'a> {
    /// Unique per source.
    pub event_id: Uuid,
    /// Emitting system.
    pub source: &'a str,
    /// Business time.
    pub occurred_at: Timestamp,
    /// Supplier.
    pub supplier_id: &'a str,
}

impl Record {
    /// The common fields, for the inbound records (`None` for Tierline's own alerts).
    pub fn envelope(&self) -> Option<Envelope<'_>> {
        macro_rules! env {
            ($r:expr) => {
                Some(Envelope {
                    event_id: $r.event_id,
                    source: &$r.source,
                    occurred_at: $r.occurred_at,
                    supplier_id: &$r.supplier_id,
                })
            };
        }
        match self {
            Record::PurchaseOrderLinePlaced(r) => env!(r),
            Record::PurchaseOrderLineConfirmed(r) => env!(r),
            Record::PurchaseOrderLineChanged(r) => env!(r),
            Record::PurchaseOrderLineCancelled(r) => env!(r),
            Record::GoodsReceived(r) => env!(r),
            Record::GoodsReceiptReversed(r) => env!(r),
            Record::InspectionCompleted(r) => env!(r),
            Record::AfterSalesCaseOpened(r) => env!(r),
            Record::AfterSalesCaseResolved(r) => env!(r),
            Record::SupplierAssessmentCompleted(r) => env!(r),
            Record::SupplierAssessmentRetracted(r) => env!(r),
            Record::SupplierCertificateRecorded(r) => env!(r),
            Record::SupplierComplianceViolationRecorded(r) => env!(r),
            Record::SupplierComplianceViolationRetracted(r) => env!(r),
            Record::SupplierRiskSignalRecorded(r) => env!(r),
            Record::RectificationPlanOpened(r) => env!(r),
            Record::RectificationProgressReported(r) => env!(r),
            Record::RectificationPlanClosed(r) => env!(r),
            Record::SupplierStatusDecided(r) => env!(r),
            Record::SupplierAlertRaised(_)
            | Record::SupplierAlertResolved(_)
            | Record::RectificationPlanReviewed(_)
            | Record::SupplierStatusChanged(_)
            | Record::SupplierTierChanged(_) => None,
        }
    }

    /// The plant's business day a receipt or inspection was posted on, if it says
    /// (docs/events.md: the record's date for every rule when present).
    pub fn posting_date(&self) -> Option<Date> {
        match self {
            Record::GoodsReceived(r) => r.posting_date,
            Record::InspectionCompleted(r) => r.posting_date,
            _ => None,
        }
    }

    /// The supplier the record is about.
    pub fn supplier_id(&self) -> &str {
        match self {
            Record::SupplierAlertRaised(r) => &r.supplier_id,
            Record::SupplierAlertResolved(r) => &r.supplier_id,
            Record::SupplierTierChanged(r) => &r.supplier_id,
            Record::RectificationPlanReviewed(r) => &r.supplier_id,
            Record::SupplierStatusChanged(r) => &r.supplier_id,
            other => other.envelope().map(|e| e.supplier_id).unwrap_or_default(),
        }
    }
}

impl RecordKind {
    /// The topic docs/events.md puts it on by default.
    pub fn default_topic(self) -> &'static str {
        match self {
            RecordKind::PurchaseOrderLinePlaced
            | RecordKind::PurchaseOrderLineConfirmed
            | RecordKind::PurchaseOrderLineChanged
            | RecordKind::PurchaseOrderLineCancelled => "srm.purchase-orders.v1",
            RecordKind::GoodsReceived | RecordKind::GoodsReceiptReversed => "srm.deliveries.v1",
            RecordKind::InspectionCompleted => "srm.inspections.v1",
            RecordKind::AfterSalesCaseOpened | RecordKind::AfterSalesCaseResolved => {
                "srm.after-sales.v1"
            }
            RecordKind::SupplierAssessmentCompleted
            | RecordKind::SupplierAssessmentRetracted
            | RecordKind::SupplierCertificateRecorded
            | RecordKind::SupplierComplianceViolationRecorded
            | RecordKind::SupplierComplianceViolationRetracted
            | RecordKind::SupplierRiskSignalRecorded => "srm.assessments.v1",
            RecordKind::RectificationPlanOpened
            | RecordKind::RectificationProgressReported
            | RecordKind::RectificationPlanClosed
            | RecordKind::SupplierStatusDecided => "srm.supplier-actions.v1",
            RecordKind::SupplierAlertRaised
            | RecordKind::SupplierAlertResolved
            | RecordKind::RectificationPlanReviewed
            | RecordKind::SupplierStatusChanged
            | RecordKind::SupplierTierChanged => "srm.supplier-alerts.v1",
        }
    }

    /// Whether systems outside Tierline publish it (the inbound topics).
    pub fn is_inbound(self) -> bool {
        !matches!(
            self,
            RecordKind::SupplierAlertRaised
                | RecordKind::SupplierAlertResolved
                | RecordKind::RectificationPlanReviewed
                | RecordKind::SupplierStatusChanged
                | RecordKind::SupplierTierChanged
        )
    }
}
