//! The field rules of docs/events.md. Beyond the letter of the contract (written down in
//! `docs/contract-decisions.md`): doubles must be finite, dates and timestamps must
//! fall in the years 0001..=9999, the nil UUID is refused, and optional fields obey
//! the rule of their non-optional namesakes when present.

use uuid::Uuid;

use crate::error::{Rule, ValidationError};
use crate::records::*;
use crate::value::{Date, Timestamp, truncate};

type Result = std::result::Result<(), ValidationError>;

struct Check {
    record: &'static str,
}

impl Check {
    fn fail(&self, field: &'static str, rule: Rule, value: impl ToString) -> Result {
        Err(ValidationError {
            record: self.record,
            field,
            rule,
            value: truncate(&value.to_string()),
        })
    }

    fn uuid(&self, field: &'static str, v: &Uuid) -> Result {
        if v.is_nil() {
            self.fail(field, Rule::NilUuid, v)
        } else {
            Ok(())
        }
    }

    /// Text any store can hold: no NUL.
    fn text(&self, field: &'static str, v: &str) -> Result {
        if v.as_bytes().contains(&0) {
            self.fail(field, Rule::Nul, v.escape_default())
        } else {
            Ok(())
        }
    }

    /// Each of several text fields, in order.
    fn texts(&self, fields: &[(&'static str, &str)]) -> Result {
        for (field, v) in fields {
            self.text(field, v)?;
        }
        Ok(())
    }

    fn len(&self, field: &'static str, v: &str, min: usize, max: usize) -> Result {
        // Characters are Unicode scalar values; a string has no more of them than
        // bytes, so counting is needed only near the bounds.
        if v.len() <= max && (min == 0 || (min == 1 && !v.is_empty())) {
            return Ok(());
        }
        let actual = v.chars().count();
        if actual < min || actual > max {
            self.fail(field, Rule::Length { min, max, actual }, v)
        } else {
            Ok(())
        }
    }

    fn supplier_id(&self, field: &'static str, v: &str) -> Result {
        self.len(field, v, 1, 64)?;
        if is_supplier_id_charset(v) {
            Ok(())
        } else {
            self.fail(
                field,
                Rule::Charset {
                    allowed: "[A-Za-z0-9._:-]",
                },
                v,
            )
        }
    }

    fn currency(&self, field: &'static str, v: &str) -> Result {
        if v.len() == 3 && v.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(())
        } else {
            self.fail(field, Rule::Currency, v)
        }
    }

    fn finite(&self, field: &'static str, v: f64) -> Result {
        if v.is_finite() {
            Ok(())
        } else {
            self.fail(field, Rule::NotFinite, v)
        }
    }

    fn positive(&self, field: &'static str, v: f64) -> Result {
        self.finite(field, v)?;
        if v > 0.0 {
            Ok(())
        } else {
            self.fail(field, Rule::Positive, v)
        }
    }

    fn non_negative(&self, field: &'static str, v: f64) -> Result {
        self.finite(field, v)?;
        // -0.0 >= 0.0 holds in IEEE-754; it is zero.
        if v >= 0.0 {
            Ok(())
        } else {
            self.fail(field, Rule::NonNegative, v)
        }
    }

    fn at_least(&self, field: &'static str, v: i32, min: i32) -> Result {
        if v >= min {
            Ok(())
        } else {
            self.fail(field, Rule::AtLeast(i64::from(min)), v)
        }
    }

    fn timestamp(&self, field: &'static str, v: Timestamp) -> Result {
        if (Timestamp::MIN..=Timestamp::MAX).contains(&v) {
            Ok(())
        } else {
            self.fail(field, Rule::OutOfRange, v.0)
        }
    }

    fn date(&self, field: &'static str, v: Date) -> Result {
        if (Date::MIN..=Date::MAX).contains(&v) {
            Ok(())
        } else {
            self.fail(field, Rule::OutOfRange, v.0)
        }
    }

    /// v2 text: no control character but tab, CR and LF (NUL never).
    fn plain(&self, field: &'static str, v: &str) -> Result {
        if v.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
        {
            let rule = if v.contains('\0') {
                Rule::Nul
            } else {
                Rule::ControlCharacter
            };
            return self.fail(field, rule, v.escape_default());
        }
        Ok(())
    }

    /// Free text typed by people: 1..4000, or sealed (see [`crate::Sealed`]).
    fn free_text(&self, field: &'static str, v: &str) -> Result {
        if crate::Sealed::parse(v).is_some() {
            return self.len(field, v, 1, crate::SEALED_MAX_CHARS);
        }
        self.len(field, v, 1, 4000)?;
        self.plain(field, v)
    }

    /// A name or a person's id: 1..128.
    fn name(&self, field: &'static str, v: &str) -> Result {
        self.len(field, v, 1, 128)?;
        self.plain(field, v)
    }

    /// An object id of a v2 record: 1..64 of `[A-Za-z0-9._:-]`.
    fn object_id(&self, field: &'static str, v: &str) -> Result {
        self.supplier_id(field, v)
    }

    /// A date not before the UTC date of `occurred_at`.
    fn not_before_occurred(&self, field: &'static str, d: Date, occurred_at: Timestamp) -> Result {
        self.date(field, d)?;
        match occurred_at.date() {
            Some(o) if d < o => self.fail(field, Rule::BeforeOccurredAt, d),
            _ => Ok(()),
        }
    }

    fn criteria(&self, criteria: &[CriterionScore]) -> Result {
        const F: &str = "criteria";
        if !(1..=64).contains(&criteria.len()) {
            let rule = Rule::Count {
                min: 1,
                max: 64,
                actual: criteria.len(),
            };
            return self.fail(F, rule, format!("{} entries", criteria.len()));
        }
        for (n, c) in criteria.iter().enumerate() {
            let at = |what: &str, v: &dyn std::fmt::Display| format!("criteria[{n}].{what} = {v}");
            let name = &c.criterion;
            if !snake_name(name) {
                let rule = Rule::Charset {
                    allowed: "[a-z0-9_], 1..64",
                };
                return self.fail(F, rule, at("criterion", &name.escape_default()));
            }
            if criteria[..n].iter().any(|o| o.criterion == *name) {
                return self.fail(F, Rule::Duplicate, at("criterion", name));
            }
            for (what, v) in [
                ("score", c.score),
                ("min_score", c.min_score),
                ("max_score", c.max_score),
            ] {
                if !v.is_finite() {
                    return self.fail(F, Rule::NotFinite, at(what, &v));
                }
            }
            if c.min_score >= c.max_score {
                return self.fail(
                    F,
                    Rule::LessThanField("max_score"),
                    at("min_score", &c.min_score),
                );
            }
            if !(c.min_score..=c.max_score).contains(&c.score) {
                let rule = Rule::BetweenFields("min_score", "max_score");
                return self.fail(F, rule, at("score", &c.score));
            }
        }
        Ok(())
    }

    fn common(
        &self,
        event_id: &Uuid,
        source: &str,
        occurred_at: Timestamp,
        supplier_id: &str,
    ) -> Result {
        self.uuid("event_id", event_id)?;
        self.len("source", source, 1, 128)?;
        self.text("source", source)?;
        if !(Timestamp::PLAUSIBLE_FROM..Timestamp::PLAUSIBLE_UNTIL).contains(&occurred_at) {
            return self.fail("occurred_at", Rule::Implausible, occurred_at);
        }
        self.supplier_id("supplier_id", supplier_id)
    }

    fn po_line(&self, po_number: &str, line_number: i32) -> Result {
        self.len("po_number", po_number, 1, 64)?;
        self.text("po_number", po_number)?;
        self.at_least("line_number", line_number, 1)
    }
}

/// A criterion's or indicator's name: 1..64 of `[a-z0-9_]`.
fn snake_name(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Only the characters a supplier id may hold: `[A-Za-z0-9._:-]`.
fn is_supplier_id_charset(v: &str) -> bool {
    v.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Whether `id` follows the supplier id rule (1..64 characters of `[A-Za-z0-9._:-]`),
/// for callers that check an id outside a record (an API path, a filter).
pub fn is_supplier_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && is_supplier_id_charset(id)
}

/// Checks every rule of docs/events.md for this record; the first broken rule, in field
/// order, is returned.
pub fn validate(record: &Record) -> Result {
    let c = Check {
        record: record.kind().name(),
    };
    match record {
        Record::PurchaseOrderLinePlaced(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.po_line(&r.po_number, r.line_number)?;
            c.texts(&[
                ("item_id", &r.item_id),
                ("category", &r.category),
                ("unit_of_measure", &r.unit_of_measure),
            ])?;
            c.positive("quantity", r.quantity)?;
            c.non_negative("unit_price", r.unit_price)?;
            c.currency("currency", &r.currency)?;
            if let Some(p) = r.reference_unit_price {
                c.non_negative("reference_unit_price", p)?;
            }
            c.date("requested_date", r.requested_date)?;
            if let Some(d) = r.promised_date {
                c.date("promised_date", d)?;
            }
            Ok(())
        }
        Record::PurchaseOrderLineConfirmed(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.po_line(&r.po_number, r.line_number)?;
            c.date("promised_date", r.promised_date)?;
            c.positive("confirmed_quantity", r.confirmed_quantity)
        }
        Record::PurchaseOrderLineChanged(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.po_line(&r.po_number, r.line_number)?;
            if let Some(d) = r.requested_date {
                c.date("requested_date", d)?;
            }
            if let Some(q) = r.quantity {
                c.positive("quantity", q)?;
            }
            Ok(())
        }
        Record::PurchaseOrderLineCancelled(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.po_line(&r.po_number, r.line_number)?;
            c.text("reason", &r.reason)
        }
        Record::GoodsReceived(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.text("receipt_id", &r.receipt_id)?;
            c.po_line(&r.po_number, r.line_number)?;
            c.positive("quantity", r.quantity)?;
            c.text("site", &r.site)?;
            c.text(
                "delivery_note",
                r.delivery_note.as_deref().unwrap_or_default(),
            )?;
            if let Some(d) = r.posting_date {
                c.date("posting_date", d)?;
            }
            Ok(())
        }
        Record::GoodsReceiptReversed(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.len("receipt_id", &r.receipt_id, 1, 128)?;
            c.text("receipt_id", &r.receipt_id)?;
            c.free_text("reason", &r.reason)
        }
        Record::InspectionCompleted(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.texts(&[
                ("inspection_id", &r.inspection_id),
                ("receipt_id", r.receipt_id.as_deref().unwrap_or_default()),
                ("po_number", r.po_number.as_deref().unwrap_or_default()),
                ("item_id", &r.item_id),
            ])?;
            if let Some(po) = &r.po_number {
                c.len("po_number", po, 1, 64)?;
            }
            if let Some(line) = r.line_number {
                c.at_least("line_number", line, 1)?;
            }
            c.positive("inspected_quantity", r.inspected_quantity)?;
            c.non_negative("defective_quantity", r.defective_quantity)?;
            if r.defective_quantity > r.inspected_quantity {
                return c.fail(
                    "defective_quantity",
                    Rule::AtMostField("inspected_quantity"),
                    r.defective_quantity,
                );
            }
            if r.critical_defects < 0 {
                return c.fail("critical_defects", Rule::AtLeast(0), r.critical_defects);
            }
            if let Some(d) = r.posting_date {
                c.date("posting_date", d)?;
            }
            Ok(())
        }
        Record::AfterSalesCaseOpened(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.texts(&[
                ("case_id", &r.case_id),
                ("item_id", &r.item_id),
                ("po_number", r.po_number.as_deref().unwrap_or_default()),
            ])?;
            if let Some(po) = &r.po_number {
                c.len("po_number", po, 1, 64)?;
            }
            c.non_negative("quantity", r.quantity)
        }
        Record::AfterSalesCaseResolved(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.text("case_id", &r.case_id)?;
            if let Some(cost) = r.cost {
                c.non_negative("cost", cost)?;
            }
            if let Some(cur) = &r.currency {
                c.currency("currency", cur)?;
            }
            Ok(())
        }
        Record::SupplierAssessmentCompleted(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("assessment_id", &r.assessment_id)?;
            c.name("assessor", &r.assessor)?;
            c.criteria(&r.criteria)?;
            if let Some(d) = r.valid_until {
                c.not_before_occurred("valid_until", d, r.occurred_at)?;
            }
            match &r.comment {
                Some(t) => c.free_text("comment", t),
                None => Ok(()),
            }
        }
        Record::SupplierAssessmentRetracted(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("assessment_id", &r.assessment_id)?;
            c.free_text("reason", &r.reason)
        }
        Record::SupplierCertificateRecorded(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("certificate_id", &r.certificate_id)?;
            c.len("standard", &r.standard, 1, 64)?;
            c.plain("standard", &r.standard)?;
            c.date("valid_from", r.valid_from)?;
            c.date("valid_until", r.valid_until)?;
            if r.valid_until < r.valid_from {
                return c.fail(
                    "valid_until",
                    Rule::AtLeastField("valid_from"),
                    r.valid_until,
                );
            }
            match &r.issuer {
                Some(t) => c.name("issuer", t),
                None => Ok(()),
            }
        }
        Record::SupplierComplianceViolationRecorded(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("violation_id", &r.violation_id)?;
            c.name("regulation", &r.regulation)?;
            c.free_text("description", &r.description)
        }
        Record::SupplierComplianceViolationRetracted(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("violation_id", &r.violation_id)?;
            c.free_text("reason", &r.reason)
        }
        Record::SupplierRiskSignalRecorded(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("signal_id", &r.signal_id)?;
            c.finite("risk_score", r.risk_score)?;
            if !(0.0..=100.0).contains(&r.risk_score) {
                let rule = Rule::Within {
                    min: 0.0,
                    max: 100.0,
                };
                return c.fail("risk_score", rule, r.risk_score);
            }
            c.not_before_occurred("valid_until", r.valid_until, r.occurred_at)?;
            c.name("feed", &r.feed)?;
            c.free_text("summary", &r.summary)
        }
        Record::RectificationPlanOpened(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("plan_id", &r.plan_id)?;
            if !snake_name(&r.indicator) {
                let rule = Rule::Charset {
                    allowed: "[a-z0-9_], 1..64",
                };
                return c.fail("indicator", rule, &r.indicator);
            }
            if ![30, 90, 365].contains(&r.window_days) {
                return c.fail("window_days", Rule::Window, r.window_days);
            }
            c.finite("target", r.target)?;
            c.date("due_date", r.due_date)?;
            if r.occurred_at.date().is_some_and(|d| r.due_date <= d) {
                return c.fail("due_date", Rule::NotAfterOccurredAt, r.due_date);
            }
            if let Some(a) = &r.trigger_alert_id {
                c.uuid("trigger_alert_id", a)?;
            }
            c.name("owner", &r.owner)?;
            if r.measures.len() > 32 {
                let rule = Rule::Count {
                    min: 0,
                    max: 32,
                    actual: r.measures.len(),
                };
                return c.fail("measures", rule, format!("{} entries", r.measures.len()));
            }
            for (n, m) in r.measures.iter().enumerate() {
                if let Err(mut e) = c.free_text("measures", m) {
                    e.value = truncate(&format!("measures[{n}] = {}", e.value));
                    return Err(e);
                }
            }
            Ok(())
        }
        Record::RectificationProgressReported(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("plan_id", &r.plan_id)?;
            if !(0..=100).contains(&r.percent_complete) {
                let rule = Rule::Within {
                    min: 0.0,
                    max: 100.0,
                };
                return c.fail("percent_complete", rule, r.percent_complete);
            }
            c.free_text("note", &r.note)
        }
        Record::RectificationPlanClosed(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.object_id("plan_id", &r.plan_id)?;
            match &r.note {
                Some(t) => c.free_text("note", t),
                None => Ok(()),
            }
        }
        Record::SupplierStatusDecided(r) => {
            c.common(&r.event_id, &r.source, r.occurred_at, &r.supplier_id)?;
            c.free_text("reason", &r.reason)?;
            c.name("decided_by", &r.decided_by)?;
            match r.valid_until {
                Some(d) => c.date("valid_until", d),
                None => Ok(()),
            }
        }
        Record::RectificationPlanReviewed(r) => {
            c.uuid("event_id", &r.event_id)?;
            c.supplier_id("supplier_id", &r.supplier_id)?;
            c.finite("target", r.target)?;
            if let Some(v) = r.value {
                c.finite("value", v)?;
            }
            c.date("due_date", r.due_date)
        }
        Record::SupplierStatusChanged(r) => {
            c.uuid("event_id", &r.event_id)?;
            c.supplier_id("supplier_id", &r.supplier_id)?;
            c.date("effective_date", r.effective_date)
        }
        Record::SupplierAlertRaised(r) => {
            c.uuid("alert_id", &r.alert_id)?;
            c.supplier_id("supplier_id", &r.supplier_id)?;
            c.finite("value", r.value)?;
            c.finite("threshold", r.threshold)?;
            c.at_least("window_days", r.window_days, 1)?;
            c.date("as_of", r.as_of)?;
            c.timestamp("raised_at", r.raised_at)
        }
        Record::SupplierAlertResolved(r) => {
            c.uuid("alert_id", &r.alert_id)?;
            c.supplier_id("supplier_id", &r.supplier_id)?;
            c.finite("value", r.value)?;
            c.date("as_of", r.as_of)?;
            c.timestamp("resolved_at", r.resolved_at)
        }
        Record::SupplierTierChanged(r) => {
            c.uuid("event_id", &r.event_id)?;
            c.supplier_id("supplier_id", &r.supplier_id)?;
            if let Some(s) = r.score {
                c.finite("score", s)?;
            }
            c.date("effective_date", r.effective_date)
        }
    }
}
