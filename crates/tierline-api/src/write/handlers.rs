//! The `POST` handlers of docs/api.md "v2 writes" for assessments, certificates,
//! violations and risk signals (editor role; checked in `auth`).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::bodies::*;
use super::{limits, write};
use crate::AppState;
use crate::keys::Identity;
use crate::model::EventJson;
use crate::problem::Problem;

/// One write endpoint whose path names only the supplier.
macro_rules! write_endpoint {
    ($name:ident, $path:literal, $body:ty, $limit:expr, $what:literal, $list:literal) => {
        #[doc = $what]
        #[utoipa::path(post, path = $path, tag = "writes",
            params(
                ("supplier_id" = String, Path, description = "The supplier"),
                ("Idempotency-Key" = Option<String>, Header, description = "A UUID: the event id; the same request again answers 200 with the stored event, another request with it a 409"),
            ),
            request_body = $body,
            responses(
                (status = 201, body = EventJson, description = "Stored; `Location` is where the object is shown"),
                (status = 200, body = EventJson, description = "The same request again (same key, path, Idempotency-Key and fields)"),
                (status = 400, body = Problem, content_type = "application/problem+json", description = "A field breaks a rule (named in `field` and `rule`)"),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, body = Problem, content_type = "application/problem+json", description = "The key's role may not write this"),
                (status = 409, body = Problem, content_type = "application/problem+json", description = "The Idempotency-Key was used for another request"),
                (status = 413, body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        pub(crate) async fn $name(
            State(s): State<AppState>,
            Extension(who): Extension<Identity>,
            Path(supplier): Path<String>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, Problem> {
            let location = |_: &_| format!("/v1/suppliers/{supplier}/{}", $list);
            write(&s, &who, &supplier, &headers, &body, $limit, |b: $body, c| b.record(c), location).await
        }
    };
}

write_endpoint!(
    post_assessment,
    "/v1/suppliers/{supplier_id}/assessments",
    AssessmentBody,
    limits::ASSESSMENT,
    "Record an assessment (audit, buyer review, questionnaire), or amend one by posting its id again.",
    "assessments"
);
write_endpoint!(
    post_certificate,
    "/v1/suppliers/{supplier_id}/certificates",
    CertificateBody,
    limits::CERTIFICATE,
    "Record a certificate's state from `occurred_at` on.",
    "certificates"
);
write_endpoint!(
    post_violation,
    "/v1/suppliers/{supplier_id}/violations",
    ViolationBody,
    limits::TEXT,
    "Record a compliance violation, or amend one by posting its id again.",
    "violations"
);
write_endpoint!(
    post_risk_signal,
    "/v1/suppliers/{supplier_id}/risk-signals",
    RiskSignalBody,
    limits::TEXT,
    "Record an external risk signal.",
    "risk-signals"
);

write_endpoint!(
    post_status,
    "/v1/suppliers/{supplier_id}/status",
    StatusBody,
    limits::TEXT,
    "Decide a supplier's status (admin only): in force from `occurred_at` until `valid_until`.",
    "status"
);

/// A retraction of the object named in the path.
macro_rules! retract_endpoint {
    ($name:ident, $path:literal, $id:literal, $make:ident, $what:literal, $list:literal) => {
        #[doc = $what]
        #[utoipa::path(post, path = $path, tag = "writes",
            params(
                ("supplier_id" = String, Path, description = "The supplier"),
                ($id = String, Path, description = "The object retracted (it need not exist yet)"),
                ("Idempotency-Key" = Option<String>, Header, description = "A UUID: the event id"),
            ),
            request_body = RetractBody,
            responses(
                (status = 201, body = EventJson),
                (status = 200, body = EventJson, description = "The same request again"),
                (status = 400, body = Problem, content_type = "application/problem+json"),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, body = Problem, content_type = "application/problem+json"),
                (status = 409, body = Problem, content_type = "application/problem+json"),
                (status = 413, body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        pub(crate) async fn $name(
            State(s): State<AppState>,
            Extension(who): Extension<Identity>,
            Path((supplier, id)): Path<(String, String)>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, Problem> {
            let location = |_: &_| format!("/v1/suppliers/{supplier}/{}", $list);
            let record = |b: RetractBody, c| b.$make(c, id);
            write(&s, &who, &supplier, &headers, &body, limits::TEXT, record, location).await
        }
    };
}

retract_endpoint!(
    retract_assessment,
    "/v1/suppliers/{supplier_id}/assessments/{assessment_id}/retract",
    "assessment_id",
    assessment,
    "Retract an assessment: void for every date.",
    "assessments"
);
retract_endpoint!(
    retract_violation,
    "/v1/suppliers/{supplier_id}/violations/{violation_id}/retract",
    "violation_id",
    violation,
    "Retract a violation: void for every date.",
    "violations"
);

/// Whether the plan exists: stored (an Opened with its id) or derived from one of the
/// supplier's CRITICAL episodes (and not suppressed), as `GET .../plans` lists them.
async fn plan_exists(s: &AppState, supplier: &str, plan_id: &str) -> Result<bool, Problem> {
    let today = s.clock.today(s.reader.policy());
    let standing = s.reader.unreviewed_standing(supplier, today).await?;
    Ok(standing.plans.contains_key(plan_id))
}

/// Open a rectification plan (editor), or amend one by posting its `plan_id` again.
#[utoipa::path(post, path = "/v1/suppliers/{supplier_id}/plans", tag = "plans",
    params(
        ("supplier_id" = String, Path, description = "The supplier"),
        ("Idempotency-Key" = Option<String>, Header, description = "A UUID: the event id"),
    ),
    request_body = PlanBody,
    responses(
        (status = 201, body = EventJson, description = "Stored; `Location` is the plan"),
        (status = 200, body = EventJson, description = "The same request again"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn post_plan(
    State(s): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(supplier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let location = |r: &tierline_events::Record| match r {
        tierline_events::Record::RectificationPlanOpened(p) => {
            format!("/v1/suppliers/{supplier}/plans/{}", p.plan_id)
        }
        _ => format!("/v1/suppliers/{supplier}/plans"),
    };
    write(
        &s,
        &who,
        &supplier,
        &headers,
        &body,
        limits::PLAN,
        PlanBody::record,
        location,
    )
    .await
}

/// A write on an existing plan: progress or closing.
macro_rules! plan_endpoint {
    ($name:ident, $path:literal, $body:ty, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(post, path = $path, tag = "plans",
            params(
                ("supplier_id" = String, Path, description = "The supplier"),
                ("plan_id" = String, Path, description = "A stored or derived plan (else 404)"),
                ("Idempotency-Key" = Option<String>, Header, description = "A UUID: the event id"),
            ),
            request_body = $body,
            responses(
                (status = 201, body = EventJson),
                (status = 200, body = EventJson, description = "The same request again"),
                (status = 400, body = Problem, content_type = "application/problem+json"),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, body = Problem, content_type = "application/problem+json"),
                (status = 404, body = Problem, content_type = "application/problem+json", description = "No such plan"),
                (status = 409, body = Problem, content_type = "application/problem+json"),
                (status = 413, body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        pub(crate) async fn $name(
            State(s): State<AppState>,
            Extension(who): Extension<Identity>,
            Path((supplier, plan_id)): Path<(String, String)>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, Problem> {
            let location = format!("/v1/suppliers/{supplier}/plans/{plan_id}");
            if !plan_exists(&s, &supplier, &plan_id).await? {
                return Err(Problem::not_found(&location));
            }
            let record = |b: $body, c| b.record(c, plan_id);
            write(&s, &who, &supplier, &headers, &body, limits::TEXT, record, |_: &_| location).await
        }
    };
}

plan_endpoint!(
    post_progress,
    "/v1/suppliers/{supplier_id}/plans/{plan_id}/progress",
    ProgressBody,
    "Report progress on a plan (editor, or the supplier's own key)."
);
plan_endpoint!(
    post_close,
    "/v1/suppliers/{supplier_id}/plans/{plan_id}/close",
    CloseBody,
    "Close a plan: withdrawn, superseded, or completed early (editor)."
);
