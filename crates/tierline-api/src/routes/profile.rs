//! `GET` of a supplier's assessments, certificates, violations and risk signals, and
//! the certificates of every supplier that expire soon (docs/api.md "Assessments").

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use tierline_events::{Record, RecordKind};

use super::known_shape;
use crate::AppState;
use crate::model::*;
use crate::params::Params;
use crate::problem::Problem;
use crate::read::profile;

impl AppState {
    /// The supplier's records of these kinds; a 404 when the supplier has none and the
    /// read model does not know it.
    async fn profile_records(
        &self,
        supplier: &str,
        kinds: &[RecordKind],
    ) -> Result<Vec<Record>, Problem> {
        let records =
            profile::records_of(self.reader.store(), self.reader.codec(), supplier, kinds).await?;
        if records.is_empty() && !self.reader.is_known(supplier).await? {
            return Err(Problem::unknown_supplier(supplier));
        }
        Ok(records)
    }
}

/// A supplier's assessments: criteria, validity, void flag, and which assessments each
/// criterion's value comes from today.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/assessments", tag = "assessments",
    params(("supplier_id" = String, Path, description = "Supplier id")),
    responses(
        (status = 200, body = AssessmentList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn assessments(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
) -> Result<Json<AssessmentList>, Problem> {
    let supplier = known_shape(supplier)?;
    let kinds = [
        RecordKind::SupplierAssessmentCompleted,
        RecordKind::SupplierAssessmentRetracted,
    ];
    let records = s.profile_records(&supplier, &kinds).await?;
    Ok(Json(profile::assessments(
        &supplier,
        s.reader.policy(),
        &records,
        s.today(),
    )))
}

/// A supplier's certificates, each in its current state, with expiry.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/certificates", tag = "assessments",
    params(("supplier_id" = String, Path, description = "Supplier id")),
    responses(
        (status = 200, body = CertificateList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn certificates(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
) -> Result<Json<CertificateList>, Problem> {
    let supplier = known_shape(supplier)?;
    let records = s
        .profile_records(&supplier, &[RecordKind::SupplierCertificateRecorded])
        .await?;
    let today = s.today();
    Ok(Json(CertificateList {
        as_of: today.to_string(),
        items: profile::certificates(s.reader.policy(), &records, today),
    }))
}

/// A supplier's compliance violations.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/violations", tag = "assessments",
    params(("supplier_id" = String, Path, description = "Supplier id")),
    responses(
        (status = 200, body = ViolationList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn violations(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
) -> Result<Json<ViolationList>, Problem> {
    let supplier = known_shape(supplier)?;
    let kinds = [
        RecordKind::SupplierComplianceViolationRecorded,
        RecordKind::SupplierComplianceViolationRetracted,
    ];
    let records = s.profile_records(&supplier, &kinds).await?;
    Ok(Json(ViolationList {
        items: profile::violations(s.reader.policy(), &records),
    }))
}

/// A supplier's external risk signals, each in its current state.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/risk-signals", tag = "assessments",
    params(("supplier_id" = String, Path, description = "Supplier id")),
    responses(
        (status = 200, body = RiskSignalList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn risk_signals(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
) -> Result<Json<RiskSignalList>, Problem> {
    let supplier = known_shape(supplier)?;
    let records = s
        .profile_records(&supplier, &[RecordKind::SupplierRiskSignalRecorded])
        .await?;
    let today = s.today();
    Ok(Json(RiskSignalList {
        as_of: today.to_string(),
        items: profile::risk_signals(s.reader.policy(), &records, today),
    }))
}

/// Certificates of every supplier whose `valid_until` falls within the next
/// `within_days` days (already expired ones are not listed), soonest first.
#[utoipa::path(get, path = "/v1/certificates/expiring", tag = "assessments",
    params(("within_days" = Option<u32>, Query, description = "0..=3660, default 60")),
    responses(
        (status = 200, body = CertificateList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn expiring(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Json<CertificateList>, Problem> {
    let p = Params::parse(q.as_deref(), &["within_days"])?;
    let within = match p.get("within_days") {
        None => 60,
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|d| (0..=3660).contains(d))
            .ok_or_else(|| {
                Problem::bad_parameter(
                    "within_days",
                    format!("within_days must be 0..=3660, got {v:?}"),
                )
            })?,
    };
    let today = s.today();
    let codec = s.reader.codec();
    let mut records = Vec::new();
    for e in s.reader.store().certificates().await? {
        records.push(e.decode(codec).map_err(|_| Problem::internal())?);
    }
    // By supplier, then in ordering-key order within each.
    records.sort_by_key(|r| {
        r.envelope().map(|e| {
            (
                e.supplier_id.to_owned(),
                e.occurred_at,
                e.event_id,
                e.source.to_owned(),
            )
        })
    });
    let mut items = Vec::new();
    for group in records.chunk_by(|a, b| a.supplier_id() == b.supplier_id()) {
        items.extend(
            profile::certificates(s.reader.policy(), group, today)
                .into_iter()
                .filter(|c| (0..=within).contains(&c.days_to_expiry)),
        );
    }
    items.sort_by(|a, b| {
        (a.days_to_expiry, &a.supplier_id, &a.certificate_id).cmp(&(
            b.days_to_expiry,
            &b.supplier_id,
            &b.certificate_id,
        ))
    });
    Ok(Json(CertificateList {
        as_of: today.to_string(),
        items,
    }))
}

/// A supplier's status on `as_of` (default today), since when and why, with every
/// decision.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/status", tag = "status",
    params(
        ("supplier_id" = String, Path, description = "Supplier id"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD, default today"),
    ),
    responses(
        (status = 200, body = StatusJson),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn status(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<StatusJson>, Problem> {
    let supplier = known_shape(supplier)?;
    let p = Params::parse(q.as_deref(), &["as_of"])?;
    let as_of = s.as_of(&p)?;
    let records = s
        .profile_records(&supplier, &[RecordKind::SupplierStatusDecided])
        .await?;
    let deciders: std::collections::HashMap<_, _> = records
        .iter()
        .filter_map(|r| match r {
            Record::SupplierStatusDecided(d) => Some((d.event_id, d.decided_by.clone())),
            _ => None,
        })
        .collect();
    let line = crate::read::gate::status_line_of(s.reader.policy(), &records);
    let on = line.on(as_of);
    Ok(Json(StatusJson {
        as_of: as_of.to_string(),
        status: on.status.symbol().to_owned(),
        since: line.since(as_of).map(|d| d.to_string()),
        reason: line.reason(as_of),
        decisions: line
            .decisions()
            .iter()
            .enumerate()
            .map(|(k, d)| DecisionJson {
                event_id: d.event_id.to_string(),
                source: d.source.clone(),
                occurred_at: d.occurred_at.to_string(),
                status: d.status.symbol().to_owned(),
                reason: d.reason.clone(),
                decided_by: deciders.get(&d.event_id).cloned().unwrap_or_default(),
                valid_until: d.valid_until.map(|u| u.to_string()),
                in_force: on.decision == Some(k),
            })
            .collect(),
    }))
}

/// A supplier's rectification plans, stored and derived, each with its state today.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/plans", tag = "plans",
    params(("supplier_id" = String, Path, description = "Supplier id")),
    responses(
        (status = 200, body = PlanList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn plans(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
) -> Result<Json<PlanList>, Problem> {
    let supplier = known_shape(supplier)?;
    let today = s.today();
    let items = s.reader.plans(&supplier, today).await?;
    if items.is_empty() && !s.reader.is_known(&supplier).await? {
        return Err(Problem::unknown_supplier(&supplier));
    }
    Ok(Json(PlanList {
        as_of: today.to_string(),
        items,
    }))
}

/// One plan, stored or derived, with its state today.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/plans/{plan_id}", tag = "plans",
    params(
        ("supplier_id" = String, Path, description = "Supplier id"),
        ("plan_id" = String, Path, description = "Plan id"),
    ),
    responses(
        (status = 200, body = PlanJson),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn plan(
    State(s): State<AppState>,
    Path((supplier, plan_id)): Path<(String, String)>,
) -> Result<Json<PlanJson>, Problem> {
    let supplier = known_shape(supplier)?;
    s.reader
        .plan(&supplier, &plan_id, s.today())
        .await?
        .map(Json)
        .ok_or_else(|| Problem::not_found(&format!("/v1/suppliers/{supplier}/plans/{plan_id}")))
}

/// A supplier's credit record: score, class and every delta with its cause.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/credit", tag = "status",
    params(
        ("supplier_id" = String, Path, description = "Supplier id"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD, default today"),
    ),
    responses(
        (status = 200, body = CreditJson),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn credit(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<CreditJson>, Problem> {
    let supplier = known_shape(supplier)?;
    let p = Params::parse(q.as_deref(), &["as_of"])?;
    let as_of = s.as_of(&p)?;
    let credit = s.reader.credit(&supplier, as_of).await?;
    if credit.deltas.is_empty() && !s.reader.is_known(&supplier).await? {
        return Err(Problem::unknown_supplier(&supplier));
    }
    Ok(Json(credit))
}
