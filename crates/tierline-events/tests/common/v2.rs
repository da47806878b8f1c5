//! One invalidating mutation per field rule of the v2 records (docs/events.md
//! "Assessments, compliance and risk", "Plans and status").

use tierline_events::*;

use super::Breaker;

pub fn breakers() -> Vec<Breaker> {
    vec![
        // v2 records (docs/events.md "Assessments, compliance and risk").
        breaker!(
            "assessment id with a space",
            SupplierAssessmentCompleted,
            |r| r.assessment_id = "AUD 7".into(),
            "assessment_id",
            "charset"
        ),
        breaker!(
            "assessment id of 65",
            SupplierAssessmentCompleted,
            |r| r.assessment_id = "A".repeat(65),
            "assessment_id",
            "length"
        ),
        breaker!(
            "assessor of 129",
            SupplierAssessmentCompleted,
            |r| r.assessor = "p".repeat(129),
            "assessor",
            "length"
        ),
        breaker!(
            "assessor with a bell",
            SupplierAssessmentCompleted,
            |r| r.assessor = "P-1\u{7}".into(),
            "assessor",
            "control-character"
        ),
        breaker!(
            "no criteria",
            SupplierAssessmentCompleted,
            |r| r.criteria.clear(),
            "criteria",
            "count"
        ),
        breaker!(
            "65 criteria",
            SupplierAssessmentCompleted,
            |r| r.criteria = (0..65)
                .map(|i| CriterionScore {
                    criterion: format!("c{i}"),
                    score: 1.0,
                    min_score: 0.0,
                    max_score: 1.0
                })
                .collect(),
            "criteria",
            "count"
        ),
        breaker!(
            "criterion in upper case",
            SupplierAssessmentCompleted,
            |r| r.criteria[1].criterion = "Cooperation".into(),
            "criteria",
            "charset"
        ),
        breaker!(
            "criterion named twice",
            SupplierAssessmentCompleted,
            |r| r.criteria[2].criterion = "cooperation".into(),
            "criteria",
            "duplicate"
        ),
        breaker!(
            "criterion score NaN",
            SupplierAssessmentCompleted,
            |r| r.criteria[0].score = f64::NAN,
            "criteria",
            "not-finite"
        ),
        breaker!(
            "min_score = max_score",
            SupplierAssessmentCompleted,
            |r| r.criteria[0].min_score = 5.0,
            "criteria",
            "less-than-field"
        ),
        breaker!(
            "score above max_score",
            SupplierAssessmentCompleted,
            |r| r.criteria[0].score = 5.5,
            "criteria",
            "between-fields"
        ),
        breaker!(
            "score below min_score",
            SupplierAssessmentCompleted,
            |r| r.criteria[4].score = 0.5,
            "criteria",
            "between-fields"
        ),
        breaker!(
            "valid_until before the assessment",
            SupplierAssessmentCompleted,
            |r| r.valid_until = Some(Date(20_454 + 4)),
            "valid_until",
            "before-occurred-at"
        ),
        breaker!(
            "empty comment",
            SupplierAssessmentCompleted,
            |r| r.comment = Some(String::new()),
            "comment",
            "length"
        ),
        breaker!(
            "comment of 4001",
            SupplierAssessmentCompleted,
            |r| r.comment = Some("x".repeat(4001)),
            "comment",
            "length"
        ),
        breaker!(
            "comment with a NUL",
            SupplierAssessmentCompleted,
            |r| r.comment = Some("a\0b".into()),
            "comment",
            "nul"
        ),
        breaker!(
            "comment with an escape",
            SupplierAssessmentCompleted,
            |r| r.comment = Some("\u{1b}[31m".into()),
            "comment",
            "control-character"
        ),
        breaker!(
            "empty retraction reason",
            SupplierAssessmentRetracted,
            |r| r.reason = String::new(),
            "reason",
            "length"
        ),
        breaker!(
            "retraction of a bad id",
            SupplierAssessmentRetracted,
            |r| r.assessment_id = String::new(),
            "assessment_id",
            "length"
        ),
        breaker!(
            "standard of 65",
            SupplierCertificateRecorded,
            |r| r.standard = "S".repeat(65),
            "standard",
            "length"
        ),
        breaker!(
            "certificate ends before it starts",
            SupplierCertificateRecorded,
            |r| r.valid_until = Date(r.valid_from.0 - 1),
            "valid_until",
            "at-least-field"
        ),
        breaker!(
            "certificate id with a slash",
            SupplierCertificateRecorded,
            |r| r.certificate_id = "C/1".into(),
            "certificate_id",
            "charset"
        ),
        breaker!(
            "empty issuer",
            SupplierCertificateRecorded,
            |r| r.issuer = Some(String::new()),
            "issuer",
            "length"
        ),
        breaker!(
            "empty regulation",
            SupplierComplianceViolationRecorded,
            |r| r.regulation = String::new(),
            "regulation",
            "length"
        ),
        breaker!(
            "description of 4001",
            SupplierComplianceViolationRecorded,
            |r| r.description = "d".repeat(4001),
            "description",
            "length"
        ),
        breaker!(
            "violation id empty",
            SupplierComplianceViolationRetracted,
            |r| r.violation_id = String::new(),
            "violation_id",
            "length"
        ),
        breaker!(
            "risk score above 100",
            SupplierRiskSignalRecorded,
            |r| r.risk_score = 100.5,
            "risk_score",
            "within"
        ),
        breaker!(
            "risk score below 0",
            SupplierRiskSignalRecorded,
            |r| r.risk_score = -0.1,
            "risk_score",
            "within"
        ),
        breaker!(
            "risk score infinite",
            SupplierRiskSignalRecorded,
            |r| r.risk_score = f64::INFINITY,
            "risk_score",
            "not-finite"
        ),
        breaker!(
            "risk valid_until before the signal",
            SupplierRiskSignalRecorded,
            |r| r.valid_until = Date(20_454 + 9),
            "valid_until",
            "before-occurred-at"
        ),
        breaker!(
            "empty feed",
            SupplierRiskSignalRecorded,
            |r| r.feed = String::new(),
            "feed",
            "length"
        ),
        breaker!(
            "summary with a DEL",
            SupplierRiskSignalRecorded,
            |r| r.summary = "x\u{7f}".into(),
            "summary",
            "control-character"
        ),
        // closed-loop records.
        breaker!(
            "plan id with a space",
            RectificationPlanOpened,
            |r| r.plan_id = "PLAN 7".into(),
            "plan_id",
            "charset"
        ),
        breaker!(
            "indicator in upper case",
            RectificationPlanOpened,
            |r| r.indicator = "OTIF".into(),
            "indicator",
            "charset"
        ),
        breaker!(
            "window of 60 days",
            RectificationPlanOpened,
            |r| r.window_days = 60,
            "window_days",
            "window"
        ),
        breaker!(
            "target NaN",
            RectificationPlanOpened,
            |r| r.target = f64::NAN,
            "target",
            "not-finite"
        ),
        breaker!(
            "due on the day it opens",
            RectificationPlanOpened,
            |r| r.due_date = r.occurred_at.date().unwrap(),
            "due_date",
            "not-after-occurred-at"
        ),
        breaker!(
            "nil trigger alert",
            RectificationPlanOpened,
            |r| r.trigger_alert_id = Some(uuid::Uuid::nil()),
            "trigger_alert_id",
            "nil-uuid"
        ),
        breaker!(
            "empty owner",
            RectificationPlanOpened,
            |r| r.owner = String::new(),
            "owner",
            "length"
        ),
        breaker!(
            "33 measures",
            RectificationPlanOpened,
            |r| r.measures = vec!["m".into(); 33],
            "measures",
            "count"
        ),
        breaker!(
            "an empty measure",
            RectificationPlanOpened,
            |r| r.measures[1] = String::new(),
            "measures",
            "length"
        ),
        breaker!(
            "a measure of 4001",
            RectificationPlanOpened,
            |r| r.measures[0] = "m".repeat(4001),
            "measures",
            "length"
        ),
        breaker!(
            "progress of 101%",
            RectificationProgressReported,
            |r| r.percent_complete = 101,
            "percent_complete",
            "within"
        ),
        breaker!(
            "progress below 0%",
            RectificationProgressReported,
            |r| r.percent_complete = -1,
            "percent_complete",
            "within"
        ),
        breaker!(
            "empty progress note",
            RectificationProgressReported,
            |r| r.note = String::new(),
            "note",
            "length"
        ),
        breaker!(
            "close note with a bell",
            RectificationPlanClosed,
            |r| r.note = Some("\u{7}".into()),
            "note",
            "control-character"
        ),
        breaker!(
            "empty status reason",
            SupplierStatusDecided,
            |r| r.reason = String::new(),
            "reason",
            "length"
        ),
        breaker!(
            "decided_by of 129",
            SupplierStatusDecided,
            |r| r.decided_by = "d".repeat(129),
            "decided_by",
            "length"
        ),
    ]
}
