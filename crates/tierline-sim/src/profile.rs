//! The qualitative side of the population (docs/scoring.md "Assessments, compliance and external risk"): quarterly audits or
//! questionnaires, monthly buyer reviews for some suppliers, yearly certificates (some
//! renewed late, suspended during a quality collapse), occasional violations (some
//! retracted) and risk signals (a high one when a delivery slide starts); a rectification
//! plan for each incident, with progress and outcomes, and one suspension.
//!
//! Drawn from a randomness of its own, with ids of their own, so the transactional
//! stream of a seed is the same with or without these records.

use tierline_events::{
    AssessmentKind, CertificateStatus, CriterionScore, Date, PlanCloseReason, Record,
    RectificationPlanClosed, RectificationPlanOpened, RectificationProgressReported, RiskKind,
    SupplierAssessmentCompleted, SupplierAssessmentRetracted, SupplierCertificateRecorded,
    SupplierComplianceViolationRecorded, SupplierComplianceViolationRetracted,
    SupplierRiskSignalRecorded, SupplierStatus, SupplierStatusDecided, ViolationSeverity,
};
use uuid::Uuid;

use crate::population::{IncidentKind, Rng};
use crate::{Simulator, hours, ts};

const CRITERIA: [&str; 5] = [
    "rnd_strength",
    "cooperation",
    "risk_resilience",
    "technical_support",
    "regional_advantage",
];

/// The qualitative side's own randomness and ids.
#[derive(Debug, Clone)]
pub(crate) struct ProfileRng {
    rng: Rng,
    next_id: u64,
}

impl ProfileRng {
    pub(crate) fn new(seed: u64) -> Self {
        ProfileRng {
            rng: Rng(seed ^ 0x7072_6f66_696c_6573),
            next_id: 0,
        }
    }
}

impl Simulator {
    fn profile_id(&mut self, supplier: usize) -> Uuid {
        self.q.next_id += 1;
        // Bit 63 of the counter part: never one of the transactional ids.
        Uuid::from_u128(
            (u128::from(self.config.seed) << 96)
                | ((supplier as u128) << 64)
                | (1u128 << 63)
                | u128::from(self.q.next_id),
        )
    }

    /// Emitted on its own day; now and then twice (a duplicate).
    fn schedule_profile(&mut self, r: Record) {
        let Some(day) = r.envelope().and_then(|e| e.occurred_at.date()) else {
            return;
        };
        if self.q.rng.chance(self.config.duplicate_rate) {
            self.pending.entry(day.0 + 1).or_default().push(r.clone());
        }
        self.pending.entry(day.0).or_default().push(r);
    }

    /// Everything qualitative that happens to supplier `k` on `day`.
    pub(crate) fn profile_day(&mut self, k: usize, day: i32) {
        let offset = (k as i32 * 13) % 91;
        let since_start = day - self.config.start.0;
        if (since_start + offset) % 91 == 0 {
            self.assessment(k, day, since_start / 91 % 2 == 0);
        }
        if k.is_multiple_of(3) && (since_start + k as i32) % 30 == 0 {
            self.review(k, day);
        }
        if since_start == 0 || (since_start + (k as i32 * 11) % 365) % 365 == 0 {
            self.certificate(k, day, since_start == 0);
        }
        self.incidents_on(k, day);
        let p = &self.profiles[k];
        let collapse = p
            .incident
            .is_some_and(|i| i.kind == IncidentKind::QualityCollapse && day >= i.start.0);
        // Excellent suppliers break no rules (incident ones only once it starts); the
        // others now and then.
        let careless = match p.incident {
            Some(i) => day >= i.start.0,
            None => p.defect_rate > 0.001 || p.on_time < 0.99,
        };
        let rate = if collapse { 1.0 / 60.0 } else { 1.0 / 400.0 };
        if careless && self.q.rng.chance(rate) {
            self.violation(k, day);
        }
        // Commodity risk for everybody, below the warning threshold (50).
        if self.q.rng.chance(1.0 / 250.0) {
            let score = 10.0 + (self.q.rng.below(350) as f64) / 10.0;
            self.risk(k, day, score, RiskKind::Commodity);
        }
    }

    /// A supplier's latent quality on a 1..5 scale on `day`.
    fn grade(&self, k: usize, day: i32) -> f64 {
        let p = &self.profiles[k];
        let (on_time, _, defects, _) = self.behaviour(k, day);
        let base = 1.0 + 4.0 * ((on_time - 0.5) / 0.5).clamp(0.0, 1.0);
        let quality_hit = if defects > 0.02 { 1.5 } else { 0.0 };
        (base - quality_hit + p.seasonality).clamp(1.0, 5.0)
    }

    fn criteria(&mut self, k: usize, day: i32, count: usize) -> Vec<CriterionScore> {
        let g = self.grade(k, day);
        CRITERIA
            .iter()
            .take(count)
            .map(|c| {
                let noise = (self.q.rng.f() - 0.5) * 1.0;
                // Scores in half points on 1..5.
                let score = ((g + noise).clamp(1.0, 5.0) * 2.0).round() / 2.0;
                CriterionScore {
                    criterion: (*c).into(),
                    score,
                    min_score: 1.0,
                    max_score: 5.0,
                }
            })
            .collect()
    }

    /// A quarterly onsite audit (even quarters) or questionnaire; one in twenty audits
    /// is retracted the next day (audited the wrong plant).
    fn assessment(&mut self, k: usize, day: i32, audit: bool) {
        let supplier = self.profiles[k].supplier_id.clone();
        let assessment_id = format!("{}-{}-{day}", if audit { "AUD" } else { "QST" }, k);
        let event_id = self.profile_id(k);
        let criteria = self.criteria(k, day, 5);
        let at = ts(day, hours(9.0) + self.q.rng.below(hours(8.0) as u64) as i64);
        let assessor = format!("P-{}", 1000 + self.q.rng.below(40));
        let kind = if audit {
            AssessmentKind::OnsiteAudit
        } else {
            AssessmentKind::Questionnaire
        };
        self.schedule_profile(
            SupplierAssessmentCompleted {
                event_id,
                source: if audit {
                    "qms-audit"
                } else {
                    "supplier-portal"
                }
                .into(),
                occurred_at: at,
                supplier_id: supplier.clone(),
                assessment_id: assessment_id.clone(),
                kind,
                assessor,
                criteria,
                valid_until: None,
                comment: audit.then(|| "plant audit".to_owned()),
            }
            .into(),
        );
        if audit && self.q.rng.chance(0.05) {
            let event_id = self.profile_id(k);
            self.schedule_profile(
                SupplierAssessmentRetracted {
                    event_id,
                    source: "qms-audit".into(),
                    occurred_at: ts(day + 1, hours(10.0)),
                    supplier_id: supplier,
                    assessment_id,
                    reason: "audited the wrong plant".into(),
                }
                .into(),
            );
        }
    }

    /// A buyer's review of two criteria, valid 90 days.
    fn review(&mut self, k: usize, day: i32) {
        let supplier = self.profiles[k].supplier_id.clone();
        let event_id = self.profile_id(k);
        let mut criteria = self.criteria(k, day, 2);
        criteria.rotate_left(1);
        let assessor = format!("B-{}", 200 + self.q.rng.below(10));
        self.schedule_profile(
            SupplierAssessmentCompleted {
                event_id,
                source: "buyer-desk".into(),
                occurred_at: ts(day, hours(15.0)),
                supplier_id: supplier,
                assessment_id: format!("REV-{k}-{day}"),
                kind: AssessmentKind::BuyerReview,
                assessor,
                criteria,
                valid_until: Some(Date(day + 89)),
                comment: None,
            }
            .into(),
        );
    }

    /// ISO 9001 for a year; one supplier in seven renews 20 days late (a lapse).
    fn certificate(&mut self, k: usize, day: i32, first: bool) {
        let supplier = self.profiles[k].supplier_id.clone();
        let lapse = k % 7 == 2 && !first;
        let from = if first {
            day - 200
        } else if lapse {
            day + 20
        } else {
            day
        };
        let until = if first {
            day + (k as i32 * 11) % 365
        } else {
            from + 364
        };
        let at = if lapse { from } else { day };
        let event_id = self.profile_id(k);
        self.schedule_profile(
            SupplierCertificateRecorded {
                event_id,
                source: "qms-audit".into(),
                occurred_at: ts(at, hours(8.0)),
                supplier_id: supplier,
                certificate_id: format!("ISO9001-{k}"),
                standard: "ISO 9001:2015".into(),
                status: CertificateStatus::Valid,
                valid_from: Date(from),
                valid_until: Date(until),
                issuer: Some("TÜV".into()),
            }
            .into(),
        );
    }

    /// On an incident's first day: a quality collapse suspends the certificate, a
    /// delivery slide comes with a high risk signal.
    fn incidents_on(&mut self, k: usize, day: i32) {
        let Some(inc) = self.profiles[k].incident else {
            return;
        };
        if inc.start.0 != day {
            return;
        }
        match inc.kind {
            IncidentKind::QualityCollapse => {
                let supplier = self.profiles[k].supplier_id.clone();
                let event_id = self.profile_id(k);
                self.schedule_profile(
                    SupplierCertificateRecorded {
                        event_id,
                        source: "qms-audit".into(),
                        occurred_at: ts(day, hours(11.0)),
                        supplier_id: supplier,
                        certificate_id: format!("ISO9001-SUSP-{k}"),
                        standard: "ISO 9001:2015".into(),
                        status: CertificateStatus::Suspended,
                        valid_from: Date(day),
                        valid_until: Date(day + 180),
                        issuer: Some("TÜV".into()),
                    }
                    .into(),
                );
            }
            IncidentKind::DeliverySlide => self.risk(k, day, 86.0, RiskKind::Financial),
            IncidentKind::Recovery => {}
        }
        if inc.kind != IncidentKind::Recovery {
            self.plan(k, day, inc.kind);
        }
    }

    /// A rectification plan five days into an incident, the supplier's progress, and an
    /// outcome: completed early for some, withdrawn for a few, left to its due date for
    /// the rest; the first quality collapse's supplier is suspended by an admin.
    fn plan(&mut self, k: usize, start: i32, kind: IncidentKind) {
        let supplier = self.profiles[k].supplier_id.clone();
        let plan_id = format!("PLAN-{k}-{start}");
        let (indicator, target) = match kind {
            IncidentKind::QualityCollapse => ("defect_ppm", 4500.0),
            _ => ("otif_rate", 0.92),
        };
        let opened = start + 5;
        let event_id = self.profile_id(k);
        self.schedule_profile(
            RectificationPlanOpened {
                event_id,
                source: "api:sqe-desk".into(),
                occurred_at: ts(opened, hours(10.0)),
                supplier_id: supplier.clone(),
                plan_id: plan_id.clone(),
                indicator: indicator.into(),
                window_days: 30,
                target,
                due_date: Date(opened + 60),
                trigger_alert_id: None,
                owner: format!("P-{}", 2000 + k),
                measures: vec![
                    "root-cause analysis (8D)".into(),
                    "containment: 100% inspection".into(),
                ],
            }
            .into(),
        );
        for (after, percent) in [(20, 50), (40, 90)] {
            let event_id = self.profile_id(k);
            self.schedule_profile(
                RectificationProgressReported {
                    event_id,
                    source: "supplier-portal".into(),
                    occurred_at: ts(opened + after, hours(16.0)),
                    supplier_id: supplier.clone(),
                    plan_id: plan_id.clone(),
                    percent_complete: percent,
                    note: format!("{percent}% of the measures in place"),
                }
                .into(),
            );
        }
        let close = match k % 4 {
            1 => Some((PlanCloseReason::Completed, 45)),
            3 if k % 8 == 7 => Some((PlanCloseReason::Withdrawn, 10)),
            _ => None,
        };
        if let Some((reason, after)) = close {
            let event_id = self.profile_id(k);
            self.schedule_profile(
                RectificationPlanClosed {
                    event_id,
                    source: "api:sqe-desk".into(),
                    occurred_at: ts(opened + after, hours(11.0)),
                    supplier_id: supplier.clone(),
                    plan_id,
                    reason,
                    note: None,
                }
                .into(),
            );
        }
        let first_collapse = self.profiles.iter().position(|p| {
            p.incident
                .is_some_and(|i| i.kind == IncidentKind::QualityCollapse)
        });
        if first_collapse == Some(k) {
            let event_id = self.profile_id(k);
            self.schedule_profile(
                SupplierStatusDecided {
                    event_id,
                    source: "api:sqe-admin".into(),
                    occurred_at: ts(start + 30, hours(9.0)),
                    supplier_id: supplier,
                    status: SupplierStatus::Suspended,
                    reason: "persistent quality failures".into(),
                    decided_by: "P-0001".into(),
                    valid_until: None,
                }
                .into(),
            );
        }
    }

    fn violation(&mut self, k: usize, day: i32) {
        let supplier = self.profiles[k].supplier_id.clone();
        let severity = match self.q.rng.below(10) {
            0 => ViolationSeverity::Critical,
            1..=3 => ViolationSeverity::Major,
            _ => ViolationSeverity::Minor,
        };
        let violation_id = format!("VIO-{k}-{day}");
        let event_id = self.profile_id(k);
        self.schedule_profile(
            SupplierComplianceViolationRecorded {
                event_id,
                source: "compliance".into(),
                occurred_at: ts(day, hours(13.0)),
                supplier_id: supplier.clone(),
                violation_id: violation_id.clone(),
                severity,
                regulation: "REACH Annex XVII".into(),
                description: "restricted substance above the limit in a lab test".into(),
            }
            .into(),
        );
        if self.q.rng.chance(0.15) {
            let event_id = self.profile_id(k);
            self.schedule_profile(
                SupplierComplianceViolationRetracted {
                    event_id,
                    source: "compliance".into(),
                    occurred_at: ts(day + 3, hours(9.0)),
                    supplier_id: supplier,
                    violation_id,
                    reason: "the retest was below the limit".into(),
                }
                .into(),
            );
        }
    }

    fn risk(&mut self, k: usize, day: i32, score: f64, kind: RiskKind) {
        let supplier = self.profiles[k].supplier_id.clone();
        let event_id = self.profile_id(k);
        self.schedule_profile(
            SupplierRiskSignalRecorded {
                event_id,
                source: "riskfeed".into(),
                occurred_at: ts(day, hours(6.0)),
                supplier_id: supplier,
                signal_id: format!("RS-{k}-{day}"),
                kind,
                risk_score: score,
                valid_until: Date(day + 30),
                feed: "creditwatch".into(),
                summary: "payment delays reported by trade creditors".into(),
            }
            .into(),
        );
    }
}
