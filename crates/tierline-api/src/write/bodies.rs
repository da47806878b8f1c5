//! The JSON bodies of the write endpoints: each record's own fields (not the common
//! ones), plus an optional `occurred_at`. Unknown fields are refused by name.

use serde::Deserialize;
use tierline_events::{
    AssessmentKind, CertificateStatus, CriterionScore, Date, PlanCloseReason, Record,
    RectificationPlanClosed, RectificationPlanOpened, RectificationProgressReported, RiskKind,
    SupplierAssessmentCompleted, SupplierAssessmentRetracted, SupplierCertificateRecorded,
    SupplierComplianceViolationRecorded, SupplierComplianceViolationRetracted,
    SupplierRiskSignalRecorded, SupplierStatus, SupplierStatusDecided, ViolationSeverity,
};
use utoipa::ToSchema;

use super::Common;

/// `POST /v1/suppliers/{id}/assessments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssessmentBody {
    /// 1..64 of `[A-Za-z0-9._:-]`; posting it again amends the assessment.
    pub(crate) assessment_id: String,
    /// `ONSITE_AUDIT`, `BUYER_REVIEW` or `QUESTIONNAIRE`.
    #[schema(value_type = String)]
    pub(crate) kind: AssessmentKind,
    /// The assessor's id in the people directory (never a name).
    pub(crate) assessor: String,
    /// 1..64 criteria: `{"criterion", "score", "min_score" (default 0), "max_score"}`.
    #[schema(value_type = Vec<Object>)]
    pub(crate) criteria: Vec<CriterionScore>,
    /// Last day it counts (`YYYY-MM-DD`); null: each criterion's `validity_days`.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub(crate) valid_until: Option<Date>,
    /// Free text.
    #[serde(default)]
    pub(crate) comment: Option<String>,
    /// When the assessment was made (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl AssessmentBody {
    pub(crate) fn record(self, c: Common) -> Record {
        SupplierAssessmentCompleted {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            assessment_id: self.assessment_id,
            kind: self.kind,
            assessor: self.assessor,
            criteria: self.criteria,
            valid_until: self.valid_until,
            comment: self.comment,
        }
        .into()
    }
}

/// `POST .../assessments/{assessment_id}/retract` and `.../violations/{violation_id}/retract`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetractBody {
    /// Why (1..4000 characters).
    pub(crate) reason: String,
    /// When (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl RetractBody {
    pub(crate) fn assessment(self, c: Common, assessment_id: String) -> Record {
        SupplierAssessmentRetracted {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            assessment_id,
            reason: self.reason,
        }
        .into()
    }

    pub(crate) fn violation(self, c: Common, violation_id: String) -> Record {
        SupplierComplianceViolationRetracted {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            violation_id,
            reason: self.reason,
        }
        .into()
    }
}

/// `POST /v1/suppliers/{id}/certificates`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CertificateBody {
    /// 1..64 of `[A-Za-z0-9._:-]`.
    pub(crate) certificate_id: String,
    /// e.g. `ISO9001`, `IATF16949`, `ISO 14001:2015`.
    pub(crate) standard: String,
    /// `VALID`, `SUSPENDED` or `WITHDRAWN`.
    #[schema(value_type = String)]
    pub(crate) status: CertificateStatus,
    /// `YYYY-MM-DD`.
    #[schema(value_type = String)]
    pub(crate) valid_from: Date,
    /// `YYYY-MM-DD`, >= `valid_from`.
    #[schema(value_type = String)]
    pub(crate) valid_until: Date,
    /// Certification body.
    #[serde(default)]
    pub(crate) issuer: Option<String>,
    /// From when this record describes the certificate (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl CertificateBody {
    pub(crate) fn record(self, c: Common) -> Record {
        SupplierCertificateRecorded {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            certificate_id: self.certificate_id,
            standard: self.standard,
            status: self.status,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            issuer: self.issuer,
        }
        .into()
    }
}

/// `POST /v1/suppliers/{id}/violations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ViolationBody {
    /// 1..64 of `[A-Za-z0-9._:-]`; posting it again amends the violation.
    pub(crate) violation_id: String,
    /// `MINOR`, `MAJOR` or `CRITICAL`.
    #[schema(value_type = String)]
    pub(crate) severity: ViolationSeverity,
    /// The rule broken.
    pub(crate) regulation: String,
    /// What happened.
    pub(crate) description: String,
    /// When it happened (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl ViolationBody {
    pub(crate) fn record(self, c: Common) -> Record {
        SupplierComplianceViolationRecorded {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            violation_id: self.violation_id,
            severity: self.severity,
            regulation: self.regulation,
            description: self.description,
        }
        .into()
    }
}

/// `POST /v1/suppliers/{id}/risk-signals`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RiskSignalBody {
    /// 1..64 of `[A-Za-z0-9._:-]`.
    pub(crate) signal_id: String,
    /// `FINANCIAL`, `REPUTATION`, `GEOPOLITICAL`, `NATURAL_DISASTER`, `COMMODITY`, `CYBER`.
    #[schema(value_type = String)]
    pub(crate) kind: RiskKind,
    /// 0..100.
    pub(crate) risk_score: f64,
    /// Last day it counts (`YYYY-MM-DD`).
    #[schema(value_type = String)]
    pub(crate) valid_until: Date,
    /// The risk provider.
    pub(crate) feed: String,
    /// What the feed says.
    pub(crate) summary: String,
    /// When (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl RiskSignalBody {
    pub(crate) fn record(self, c: Common) -> Record {
        SupplierRiskSignalRecorded {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            signal_id: self.signal_id,
            kind: self.kind,
            risk_score: self.risk_score,
            valid_until: self.valid_until,
            feed: self.feed,
            summary: self.summary,
        }
        .into()
    }
}

/// `POST /v1/suppliers/{id}/status` (admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    /// `APPROVED`, `CONDITIONAL`, `SUSPENDED` or `BLACKLISTED`.
    #[schema(value_type = String)]
    pub(crate) status: SupplierStatus,
    /// Why (1..4000 characters).
    pub(crate) reason: String,
    /// The decider's id in the people directory.
    pub(crate) decided_by: String,
    /// Last day in force (`YYYY-MM-DD`); null: until another decision.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub(crate) valid_until: Option<Date>,
    /// From when (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl StatusBody {
    pub(crate) fn record(self, c: Common) -> Record {
        SupplierStatusDecided {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            status: self.status,
            reason: self.reason,
            decided_by: self.decided_by,
            valid_until: self.valid_until,
        }
        .into()
    }
}

/// `POST /v1/suppliers/{id}/plans` (editor): opens a plan, or amends one (its `plan_id`
/// again).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanBody {
    /// 1..64 of `[A-Za-z0-9._:-]`; left out: generated.
    #[serde(default)]
    pub(crate) plan_id: Option<String>,
    /// The indicator to improve (an indicator of the specs or a criterion).
    pub(crate) indicator: String,
    /// 30, 90 or 365.
    pub(crate) window_days: i32,
    /// The value to reach, in the indicator's units.
    pub(crate) target: f64,
    /// The review date (`YYYY-MM-DD`), after the plan's date.
    #[schema(value_type = String)]
    pub(crate) due_date: Date,
    /// The alert episode behind the plan.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub(crate) trigger_alert_id: Option<uuid::Uuid>,
    /// The owner's id in the people directory.
    pub(crate) owner: String,
    /// 0..32 measures.
    #[serde(default)]
    pub(crate) measures: Vec<String>,
    /// When (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl PlanBody {
    /// The record; a plan without an id gets a UUIDv7.
    pub(crate) fn record(self, c: Common) -> Record {
        let plan_id = self
            .plan_id
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        RectificationPlanOpened {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            plan_id,
            indicator: self.indicator,
            window_days: self.window_days,
            target: self.target,
            due_date: self.due_date,
            trigger_alert_id: self.trigger_alert_id,
            owner: self.owner,
            measures: self.measures,
        }
        .into()
    }
}

/// `POST .../plans/{plan_id}/progress` (editor, or the supplier itself).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProgressBody {
    /// 0..100.
    pub(crate) percent_complete: i32,
    /// What was done.
    pub(crate) note: String,
    /// When (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl ProgressBody {
    pub(crate) fn record(self, c: Common, plan_id: String) -> Record {
        RectificationProgressReported {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            plan_id,
            percent_complete: self.percent_complete,
            note: self.note,
        }
        .into()
    }
}

/// `POST .../plans/{plan_id}/close` (editor).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseBody {
    /// `WITHDRAWN`, `SUPERSEDED` or `COMPLETED` (reviewed on this date).
    #[schema(value_type = String)]
    pub(crate) reason: PlanCloseReason,
    /// Free text.
    #[serde(default)]
    pub(crate) note: Option<String>,
    /// When (RFC 3339); default now.
    #[serde(default)]
    pub(crate) occurred_at: Option<String>,
}

impl CloseBody {
    pub(crate) fn record(self, c: Common, plan_id: String) -> Record {
        RectificationPlanClosed {
            event_id: c.event_id,
            source: c.source,
            occurred_at: c.occurred_at,
            supplier_id: c.supplier_id,
            plan_id,
            reason: self.reason,
            note: self.note,
        }
        .into()
    }
}

macro_rules! write_body {
    ($($t:ty),+) => {
        $(impl super::WriteBody for $t {
            fn occurred_at(&self) -> Option<&str> {
                self.occurred_at.as_deref()
            }
        })+
    };
}

write_body!(
    AssessmentBody,
    RetractBody,
    CertificateBody,
    ViolationBody,
    RiskSignalBody,
    StatusBody,
    PlanBody,
    ProgressBody,
    CloseBody
);
