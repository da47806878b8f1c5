//! A supplier's qualitative profile read straight from its stored events: assessments
//! (with the assessments each criterion's value comes from), certificates, violations
//! and risk signals; and the certificates of every supplier that expire soon.

use std::collections::BTreeMap;

use tierline_events::{
    CertificateStatus, Date, Record, RecordKind, SupplierCertificateRecorded, Timestamp,
};
use tierline_scoring::{Policy, SupplierLedger, criterion_sources, standard_key};
use tierline_store::Store;
use uuid::Uuid;

use crate::model::*;
use crate::problem::Problem;

/// The ordering key of docs/scoring.md: (`occurred_at`, lower-case `event_id`, `source`).
type Key = (Timestamp, Uuid, String);

fn key_of(r: &Record) -> Key {
    r.envelope()
        .map_or((Timestamp(0), Uuid::nil(), String::new()), |e| {
            (e.occurred_at, e.event_id, e.source.to_owned())
        })
}

/// The supplier's stored records of these kinds, in ordering-key order.
pub(crate) async fn records_of(
    store: &Store,
    codec: &tierline_events::Codec,
    supplier: &str,
    kinds: &[RecordKind],
) -> Result<Vec<Record>, Problem> {
    let mut out = Vec::new();
    for e in store.supplier_records(supplier, kinds).await? {
        out.push(e.decode(codec).map_err(|err| {
            tracing::error!(position = e.position, error = %err, "stored event cannot be decoded");
            Problem::internal()
        })?);
    }
    out.sort_by_key(key_of);
    Ok(out)
}

/// The assessments of a supplier as of `today`.
pub(crate) fn assessments(
    supplier: &str,
    policy: &std::sync::Arc<Policy>,
    records: &[Record],
    today: Date,
) -> AssessmentList {
    let mut ledger = SupplierLedger::new(supplier, policy.clone());
    ledger.apply_all(records);
    let all = ledger.assessments();
    // Which assessments each policy criterion's value comes from today.
    let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &policy.criteria {
        let used = criterion_sources(&all, policy, &c.name, c.validity_days, today);
        sources.insert(
            c.name.clone(),
            used.iter().map(|a| a.id.to_owned()).collect(),
        );
    }
    let mut by_id: BTreeMap<&str, (Vec<&Record>, Vec<String>)> = BTreeMap::new();
    for r in records {
        if let Record::SupplierAssessmentCompleted(a) = r {
            let entry = by_id.entry(a.assessment_id.as_str()).or_default();
            entry.0.push(r);
            entry.1.push(a.event_id.to_string());
        }
    }
    let items = all
        .iter()
        .map(|a| {
            let (recs, event_ids) = by_id.remove(a.id).unwrap_or_default();
            let latest = recs.iter().rev().find_map(|r| match r {
                Record::SupplierAssessmentCompleted(x) => Some(x),
                _ => None,
            });
            let criteria = a
                .criteria
                .iter()
                .map(|c| {
                    let validity = policy
                        .criteria
                        .iter()
                        .find(|p| p.name == c.criterion)
                        .map(|p| p.validity_days);
                    CriterionJson {
                        criterion: c.criterion.clone(),
                        score: c.score,
                        min_score: c.min_score,
                        max_score: c.max_score,
                        value: c.value(),
                        valid_through: match (a.valid_until, validity) {
                            (Some(d), _) => Some(d.to_string()),
                            (None, Some(days)) => Some(a.end(days).to_string()),
                            (None, None) => None,
                        },
                        scored: validity.is_some(),
                        used_today: sources
                            .get(&c.criterion)
                            .is_some_and(|ids| ids.iter().any(|i| i == a.id)),
                    }
                })
                .collect();
            AssessmentJson {
                assessment_id: a.id.to_owned(),
                kind: a.kind.symbol().to_owned(),
                assessor: latest.map(|l| l.assessor.clone()).unwrap_or_default(),
                assessed_on: a.date.to_string(),
                valid_until: a.valid_until.map(|d| d.to_string()),
                void: a.void,
                comment: latest.and_then(|l| l.comment.clone()),
                criteria,
                event_ids,
            }
        })
        .collect();
    AssessmentList {
        as_of: today.to_string(),
        items,
        sources,
    }
}

/// Each certificate as its latest record dated on or before `today` describes it (or,
/// for one recorded ahead, its earliest record).
pub(crate) fn certificates(
    policy: &Policy,
    records: &[Record],
    today: Date,
) -> Vec<CertificateJson> {
    let mut by_id: BTreeMap<&str, Vec<&SupplierCertificateRecorded>> = BTreeMap::new();
    for r in records {
        if let Record::SupplierCertificateRecorded(c) = r {
            by_id.entry(c.certificate_id.as_str()).or_default().push(c);
        }
    }
    let required: Vec<String> = policy
        .required_certificates
        .iter()
        .map(|s| standard_key(s))
        .collect();
    by_id
        .into_values()
        .filter_map(|recs| {
            let current = recs
                .iter()
                .rev()
                .find(|c| policy.day_of(c.occurred_at) <= today)
                .or_else(|| recs.first())?;
            Some(certificate_json(current, today, &required, policy))
        })
        .collect()
}

pub(crate) fn certificate_json(
    c: &SupplierCertificateRecorded,
    today: Date,
    required: &[String],
    policy: &Policy,
) -> CertificateJson {
    let known = policy.day_of(c.occurred_at) <= today;
    let covers = known
        && c.status == CertificateStatus::Valid
        && c.valid_from <= today
        && today <= c.valid_until;
    CertificateJson {
        supplier_id: c.supplier_id.clone(),
        certificate_id: c.certificate_id.clone(),
        standard: c.standard.clone(),
        status: c.status.symbol().to_owned(),
        valid_from: c.valid_from.to_string(),
        valid_until: c.valid_until.to_string(),
        issuer: c.issuer.clone(),
        covers_today: covers,
        days_to_expiry: c.valid_until.0 - today.0,
        required: required.contains(&standard_key(&c.standard)),
    }
}

/// Violations, each from its latest record and dated by its earliest.
pub(crate) fn violations(policy: &Policy, records: &[Record]) -> Vec<ViolationJson> {
    let retracted: Vec<&str> = records
        .iter()
        .filter_map(|r| match r {
            Record::SupplierComplianceViolationRetracted(v) => Some(v.violation_id.as_str()),
            _ => None,
        })
        .collect();
    let mut by_id: BTreeMap<&str, Vec<&tierline_events::SupplierComplianceViolationRecorded>> =
        BTreeMap::new();
    for r in records {
        if let Record::SupplierComplianceViolationRecorded(v) = r {
            by_id.entry(v.violation_id.as_str()).or_default().push(v);
        }
    }
    by_id
        .into_iter()
        .filter_map(|(id, recs)| {
            let (first, latest) = (recs.first()?, recs.last()?);
            Some(ViolationJson {
                violation_id: id.to_owned(),
                severity: latest.severity.symbol().to_owned(),
                regulation: latest.regulation.clone(),
                description: latest.description.clone(),
                occurred_on: policy.day_of(first.occurred_at).to_string(),
                points: policy.violation_points.of(latest.severity),
                void: retracted.contains(&id),
            })
        })
        .collect()
}

/// Risk signals, each as its latest record dated on or before `today` describes it.
pub(crate) fn risk_signals(
    policy: &Policy,
    records: &[Record],
    today: Date,
) -> Vec<RiskSignalJson> {
    let mut by_id: BTreeMap<&str, Vec<&tierline_events::SupplierRiskSignalRecorded>> =
        BTreeMap::new();
    for r in records {
        if let Record::SupplierRiskSignalRecorded(s) = r {
            by_id.entry(s.signal_id.as_str()).or_default().push(s);
        }
    }
    by_id
        .into_iter()
        .filter_map(|(id, recs)| {
            let current = recs
                .iter()
                .rev()
                .find(|s| policy.day_of(s.occurred_at) <= today)
                .or_else(|| recs.first())?;
            Some(RiskSignalJson {
                signal_id: id.to_owned(),
                kind: current.kind.symbol().to_owned(),
                risk_score: current.risk_score,
                valid_until: current.valid_until.to_string(),
                valid_today: policy.day_of(current.occurred_at) <= today
                    && today <= current.valid_until,
                feed: current.feed.clone(),
                summary: current.summary.clone(),
            })
        })
        .collect()
}
