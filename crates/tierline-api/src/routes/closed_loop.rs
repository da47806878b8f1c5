//! The order gate and the plans board across suppliers (docs/api.md "The gate", "Plans").

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use tierline_events::{Date, RecordKind};
use tierline_projections::{AlertQuery, AlertStatus};
use tierline_scoring::GateAction;

use crate::AppState;
use crate::model::*;
use crate::params::Params;
use crate::problem::Problem;

/// Days ahead a plan's review date makes it `due`.
const DUE_WITHIN_DAYS: i32 = 14;

/// Whether the ERP may use this supplier for a purchase order or an RFQ, and why not.
/// Answers for any well-formed supplier id, also one never seen (WARN `not_evaluated`).
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/gate", tag = "gate",
    params(
        ("supplier_id" = String, Path, description = "Supplier id"),
        ("action" = Option<String>, Query, description = "`po` (default) or `rfq`"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD, default today"),
    ),
    responses(
        (status = 200, body = GateJson),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn gate(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<GateJson>, Problem> {
    if !tierline_events::is_supplier_id(&supplier) {
        return Err(Problem::bad_parameter(
            "supplier_id",
            "not a supplier id: 1..64 characters of [A-Za-z0-9._:-]",
        ));
    }
    let p = Params::parse(q.as_deref(), &["action", "as_of"])?;
    // Without `action`: a purchase order, the call an ERP makes inline.
    let action = p
        .one_of("action", &["po", "rfq"])?
        .and_then(GateAction::from_name)
        .unwrap_or(GateAction::Po);
    let as_of = s.as_of(&p)?;
    Ok(Json(
        s.reader.gate(&supplier, action, as_of, s.today()).await?,
    ))
}

/// Plans of every supplier (or one), by state and owner: the plans board.
#[utoipa::path(get, path = "/v1/plans", tag = "plans",
    params(
        ("status" = Option<String>, Query, description = "open, due (open, review within 14 days), verified, failed, unverifiable or closed"),
        ("supplier_id" = Option<String>, Query, description = "One supplier"),
        ("owner" = Option<String>, Query, description = "One owner"),
    ),
    responses(
        (status = 200, body = PlanList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn all_plans(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Json<PlanList>, Problem> {
    let p = Params::parse(q.as_deref(), &["status", "supplier_id", "owner"])?;
    let status = p.one_of(
        "status",
        &[
            "open",
            "due",
            "verified",
            "failed",
            "unverifiable",
            "closed",
        ],
    )?;
    let today = s.today();
    let suppliers = match p.get("supplier_id") {
        Some(id) => vec![id.to_owned()],
        None => s.plan_suppliers().await?,
    };
    let mut items = Vec::new();
    for supplier in suppliers {
        for plan in s.reader.plans(&supplier, today).await? {
            if p.get("owner").is_some_and(|o| o != plan.owner) {
                continue;
            }
            if status.is_none_or(|st| in_status(&plan, st, today)) {
                items.push(plan);
            }
        }
    }
    Ok(Json(PlanList {
        as_of: today.to_string(),
        items,
    }))
}

/// Whether a plan is in a board column.
fn in_status(plan: &PlanJson, status: &str, today: Date) -> bool {
    match status {
        "due" => {
            plan.state == "OPEN"
                && plan
                    .review_date
                    .as_deref()
                    .and_then(Date::parse)
                    .is_some_and(|r| r >= today && r.0 - today.0 <= DUE_WITHIN_DAYS)
        }
        other => plan.state.eq_ignore_ascii_case(other),
    }
}

impl AppState {
    /// Suppliers that may have plans: those with stored Opened records and those with
    /// a CRITICAL episode of a rule that derives plans.
    async fn plan_suppliers(&self) -> Result<Vec<String>, Problem> {
        let mut out: BTreeSet<String> = self
            .reader
            .store()
            .suppliers_with(RecordKind::RectificationPlanOpened)
            .await?
            .into_iter()
            .collect();
        let policy = self.reader.policy();
        let critical = self
            .reader
            .projections()
            .alerts(&AlertQuery {
                status: AlertStatus::Current,
                supplier_id: None,
                level: Some("CRITICAL"),
                after: None,
                limit: 1_000_000,
            })
            .await?;
        out.extend(
            critical
                .into_iter()
                .filter(|e| policy.rectification.derives(&e.rule))
                .map(|e| e.supplier_id),
        );
        Ok(out.into_iter().collect())
    }
}
