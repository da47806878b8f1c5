//! A supplier's qualitative profile (docs/scoring.md "Assessments, compliance and external risk"): assessments and their
//! criteria, certificates, compliance violations and external risk signals, and the
//! state indicators they make. Each state is given as change points: the bucket of a
//! day holds the state from that day until the next bucket.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashSet as HashSet;
use tierline_events::{AssessmentKind, CertificateStatus, CriterionScore, Date, ViolationSeverity};

use crate::entity::{Contributions, EventKey, Events};
use crate::exact::ExactSum;
use crate::indicator::{Criterion, Indicator};
use crate::ledger::Agg;
use crate::policy::Policy;

/// What scoring reads of a `SupplierAssessmentCompleted`.
#[derive(Debug, Clone)]
pub(crate) struct Completed {
    pub(crate) kind: AssessmentKind,
    pub(crate) criteria: Vec<CriterionScore>,
    pub(crate) valid_until: Option<Date>,
}

/// What scoring reads of a `SupplierCertificateRecorded`.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    pub(crate) standard: String,
    pub(crate) status: CertificateStatus,
    pub(crate) valid_from: Date,
    pub(crate) valid_until: Date,
}

/// What scoring reads of a `SupplierRiskSignalRecorded`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signal {
    pub(crate) risk_score: f64,
    pub(crate) valid_until: Date,
}

/// Every profile record of one supplier, by the object it names.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProfileEvents {
    pub(crate) assessments: BTreeMap<Arc<str>, Events<Completed>>,
    pub(crate) retracted_assessments: HashSet<Arc<str>>,
    pub(crate) certificates: BTreeMap<Arc<str>, Events<Certificate>>,
    pub(crate) violations: BTreeMap<Arc<str>, Events<ViolationSeverity>>,
    pub(crate) retracted_violations: HashSet<Arc<str>>,
    pub(crate) signals: BTreeMap<Arc<str>, Events<Signal>>,
}

/// A standard's name as compared (docs/scoring.md): spaces removed, then a final
/// `:` and four ASCII digits (the edition), then upper-cased.
pub fn standard_key(name: &str) -> String {
    let s: String = name.chars().filter(|c| *c != ' ').collect();
    let b = s.as_bytes();
    let cut =
        b.len() >= 5 && b[b.len() - 5] == b':' && b[b.len() - 4..].iter().all(u8::is_ascii_digit);
    let s = if cut { &s[..s.len() - 5] } else { &s[..] };
    s.to_uppercase()
}

/// One assessment as scoring sees it: its date and ordering key from its earliest
/// record, everything else from its latest.
pub struct Assessment<'a> {
    /// The assessment id.
    pub id: &'a str,
    /// The date of its earliest record.
    pub date: Date,
    /// The ordering key of its earliest record.
    pub key: &'a EventKey,
    /// From its latest record.
    pub kind: AssessmentKind,
    /// From its latest record.
    pub criteria: &'a [CriterionScore],
    /// From its latest record.
    pub valid_until: Option<Date>,
    /// A retraction names it.
    pub void: bool,
}

impl Assessment<'_> {
    /// The last day it counts for a criterion with this validity.
    pub fn end(&self, validity_days: u32) -> Date {
        self.valid_until
            .unwrap_or(Date(self.date.0.saturating_add(validity_days as i32 - 1)))
    }

    /// Its value for a criterion, if it scores it.
    pub fn value(&self, criterion: &str) -> Option<f64> {
        self.criteria
            .iter()
            .find(|c| c.criterion == criterion)
            .map(CriterionScore::value)
    }
}

impl ProfileEvents {
    /// Every assessment with at least one completed record, by id.
    pub(crate) fn assessments<'a>(&'a self, policy: &Policy) -> Vec<Assessment<'a>> {
        self.assessments
            .iter()
            .filter_map(|(id, records)| {
                let (first, _) = records.first()?;
                let (_, latest) = records.iter().next_back()?;
                Some(Assessment {
                    id,
                    date: policy.day_of(first.at),
                    key: first,
                    kind: latest.kind,
                    criteria: &latest.criteria,
                    valid_until: latest.valid_until,
                    void: self.retracted_assessments.contains(id),
                })
            })
            .collect()
    }
}

/// The assessments a criterion's value comes from on `day`, and the value's parts
/// (exact sum of values, count). Empty when the criterion is insufficient that day.
pub fn criterion_sources<'a, 'b>(
    assessments: &'b [Assessment<'a>],
    policy: &Policy,
    criterion: &str,
    validity_days: u32,
    day: Date,
) -> Vec<&'b Assessment<'a>> {
    for kind in &policy.assessments.precedence {
        let mut valid: Vec<&Assessment<'_>> = assessments
            .iter()
            .filter(|a| {
                !a.void
                    && a.kind == *kind
                    && a.date <= day
                    && day <= a.end(validity_days)
                    && a.value(criterion).is_some()
            })
            .collect();
        if valid.is_empty() {
            continue;
        }
        if *kind != AssessmentKind::BuyerReview {
            // The latest valid one, by ordering key.
            valid.sort_by(|a, b| a.key.cmp(b.key));
            valid.drain(..valid.len() - 1);
        }
        return valid;
    }
    Vec::new()
}

/// What an object is on day `d`: its latest record dated on or before `d`.
fn described_on<'a, T>(records: &'a Events<T>, policy: &Policy, d: Date) -> Option<&'a T> {
    records
        .iter()
        .rev()
        .find(|(k, _)| policy.day_of(k.at) <= d)
        .map(|(_, r)| r)
}

/// Emits `state(d)` for each candidate day (ascending), where it differs from the
/// state before: the change points of one state indicator.
fn change_points(
    c: &mut Contributions,
    indicator: Indicator,
    days: BTreeSet<Date>,
    mut state: impl FnMut(Date) -> Agg,
) {
    let mut previous = Agg::default();
    for d in days {
        let now = state(d);
        if now != previous {
            c.push(((indicator, d), now.clone()));
            previous = now;
        }
    }
}

/// The change points of every state indicator of a supplier whose first day is
/// `first_day`.
pub(crate) fn profile_contributions(
    p: &ProfileEvents,
    first_day: Date,
    policy: &Policy,
) -> Contributions {
    let mut c = Contributions::new();
    criteria(&mut c, p, policy);
    certificate_coverage(&mut c, p, first_day, policy);
    violation_points(&mut c, p, first_day, policy);
    external_risk(&mut c, p, first_day, policy);
    c
}

fn criteria(c: &mut Contributions, p: &ProfileEvents, policy: &Policy) {
    let all = p.assessments(policy);
    for cp in &policy.criteria {
        let Some(criterion) = Criterion::new(&cp.name) else {
            continue;
        };
        let mut days = BTreeSet::new();
        for a in all
            .iter()
            .filter(|a| !a.void && a.value(&cp.name).is_some())
        {
            days.insert(a.date);
            days.insert(Date(a.end(cp.validity_days).0.saturating_add(1)));
        }
        change_points(c, Indicator::Criterion(criterion), days, |d| {
            let used = criterion_sources(&all, policy, &cp.name, cp.validity_days, d);
            let mut num = ExactSum::default();
            for a in &used {
                num.add(a.value(&cp.name).unwrap_or(0.0));
            }
            Agg {
                num,
                den: ExactSum::of(used.len() as f64),
                samples: used.len() as u64,
            }
        });
    }
}

fn certificate_coverage(c: &mut Contributions, p: &ProfileEvents, first: Date, policy: &Policy) {
    let required: BTreeSet<String> = policy
        .required_certificates
        .iter()
        .map(|s| standard_key(s))
        .collect();
    if required.is_empty() {
        return;
    }
    let mut days = BTreeSet::from([first]);
    for (k, r) in p.certificates.values().flat_map(|e| e.iter()) {
        for d in [
            policy.day_of(k.at),
            r.valid_from,
            Date(r.valid_until.0.saturating_add(1)),
        ] {
            days.insert(d.max(first));
        }
    }
    let n = required.len() as f64;
    change_points(c, Indicator::CertificateCoverage, days, |d| {
        let covered: BTreeSet<String> = p
            .certificates
            .values()
            .filter_map(|records| described_on(records, policy, d))
            .filter(|r| {
                r.status == CertificateStatus::Valid && r.valid_from <= d && d <= r.valid_until
            })
            .map(|r| standard_key(&r.standard))
            .collect();
        let hit = required.intersection(&covered).count() as f64;
        Agg::term(hit, n, required.len() as u64)
    });
}

fn violation_points(c: &mut Contributions, p: &ProfileEvents, first: Date, policy: &Policy) {
    let w = policy.compliance_window_days as i32;
    let counted: Vec<(Date, f64)> = p
        .violations
        .iter()
        .filter(|(id, _)| !p.retracted_violations.contains(*id))
        .filter_map(|(_, records)| {
            let (earliest, _) = records.first()?;
            let (_, severity) = records.iter().next_back()?;
            Some((
                policy.day_of(earliest.at),
                policy.violation_points.of(*severity),
            ))
        })
        .collect();
    let mut days = BTreeSet::from([first]);
    for (d, _) in &counted {
        days.insert((*d).max(first));
        days.insert(Date(d.0.saturating_add(w)).max(first));
    }
    change_points(c, Indicator::ViolationPoints, days, |d| {
        let inside: Vec<f64> = counted
            .iter()
            .filter(|(v, _)| v.0 > d.0 - w && *v <= d)
            .map(|(_, pts)| *pts)
            .collect();
        Agg {
            num: inside.iter().fold(ExactSum::default(), |mut s, x| {
                s.add(*x);
                s
            }),
            den: ExactSum::of(1.0),
            samples: inside.len() as u64,
        }
    });
}

fn external_risk(c: &mut Contributions, p: &ProfileEvents, first: Date, policy: &Policy) {
    let mut days = BTreeSet::from([first]);
    for (k, s) in p.signals.values().flat_map(|e| e.iter()) {
        days.insert(policy.day_of(k.at).max(first));
        days.insert(Date(s.valid_until.0.saturating_add(1)).max(first));
    }
    change_points(c, Indicator::ExternalRisk, days, |d| {
        let valid: Vec<f64> = p
            .signals
            .values()
            .filter_map(|records| described_on(records, policy, d))
            .filter(|s| d <= s.valid_until)
            .map(|s| s.risk_score)
            .collect();
        let max = valid.iter().copied().fold(0.0, f64::max);
        Agg::term(max, 1.0, valid.len() as u64)
    });
}
