//! The JSON bodies of docs/api.md.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// One indicator over the window.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct IndicatorJson {
    /// numerator / denominator x scale (the count for `critical_defects`); null when insufficient.
    pub value: Option<f64>,
    /// `ok` or `insufficient`.
    pub status: String,
    /// 0..100; null when insufficient, always null for `critical_defects`.
    pub subscore: Option<f64>,
    /// Sum of numerators in the window.
    pub numerator: f64,
    /// Sum of denominators in the window.
    pub denominator: f64,
    /// Samples in the window.
    pub samples: u64,
    /// For a criterion: the assessments its value comes from on `as_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_ids: Option<Vec<String>>,
}

/// A row of the supplier list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SupplierSummary {
    /// Supplier id.
    pub supplier_id: String,
    /// Composite score on the window, or null (UNRATED).
    pub score: Option<f64>,
    /// Tier as of the date (always on the tier window).
    pub tier: String,
    /// Dimension scores (null: insufficient).
    pub dimensions: BTreeMap<String, Option<f64>>,
    /// Alert episodes open as of the date.
    pub open_alerts: i64,
    /// The latest `occurred_at` among the supplier's stored events.
    pub last_event_at: Option<String>,
    /// The status today (`APPROVED`, `CONDITIONAL`, `SUSPENDED`, `BLACKLISTED`).
    pub status: String,
}

/// A page of suppliers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SupplierPage {
    /// The suppliers of this page.
    pub items: Vec<SupplierSummary>,
    /// Pass as `page_token` for the next page; null on the last page.
    pub next_page_token: Option<String>,
}

/// A supplier's scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScorecardJson {
    /// Supplier id.
    pub supplier_id: String,
    /// Evaluation date.
    pub as_of: String,
    /// Window in days.
    pub window: u32,
    /// Version of the policy that scored it.
    pub policy_version: String,
    /// Composite on the window (null: coverage too low).
    pub score: Option<f64>,
    /// Sum of the weights of the sufficient dimensions.
    pub coverage: f64,
    /// Tier as of `as_of` (on the policy's tier window).
    pub tier: String,
    /// The status on `as_of` (`APPROVED` without a decision in force).
    pub status: String,
    /// Dimension scores (null: insufficient).
    pub dimensions: BTreeMap<String, Option<f64>>,
    /// Every indicator of the specs and every criterion of the policy.
    pub indicators: BTreeMap<String, IndicatorJson>,
}

/// One day of a supplier's history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HistoryPoint {
    /// The day.
    pub date: String,
    /// Composite on the requested window as of the day.
    pub score: Option<f64>,
    /// Tier as of the day.
    pub tier: String,
    /// Indicator values on the requested window as of the day.
    pub indicators: BTreeMap<String, Option<f64>>,
}

/// A supplier's daily history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct History {
    /// Supplier id.
    pub supplier_id: String,
    /// Window of the scores.
    pub window: u32,
    /// One point per day, oldest first.
    pub points: Vec<HistoryPoint>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventJson {
    /// Event id.
    pub event_id: String,
    /// Emitting system.
    pub source: String,
    /// Record name, e.g. `GoodsReceived`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Business time.
    pub occurred_at: String,
    /// When the store recorded it.
    pub recorded_at: String,
    /// Position in the store.
    pub position: i64,
    /// The record's fields.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A page of events.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventPage {
    /// Events, oldest first by `occurred_at`.
    pub items: Vec<EventJson>,
    /// Pass as `page_token` for the next page; null on the last page.
    pub next_page_token: Option<String>,
}

/// One alert episode.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlertJson {
    /// Deterministic id (UUIDv5 of supplier, rule, level, start).
    pub alert_id: String,
    /// Supplier id.
    pub supplier_id: String,
    /// The rule (an indicator name).
    pub rule: String,
    /// `WARNING` or `CRITICAL`.
    pub level: String,
    /// `open`, `resolved` or `retracted` (announced, then erased by a late event: it
    /// was never open, and its `ended_on` equals its `started_on`).
    pub status: String,
    /// The indicator's value on the day the episode opened.
    pub value: f64,
    /// The value on the day it closed, if it has.
    pub value_at_end: Option<f64>,
    /// The threshold of the level.
    pub threshold: f64,
    /// Window of the rule.
    pub window_days: u32,
    /// The day the episode opened.
    pub started_on: String,
    /// The first day the walk found it closed (null while open).
    pub ended_on: Option<String>,
    /// When the raise was published (null: never announced, e.g. over before replay).
    pub raised_at: Option<String>,
    /// When the resolution (or the retraction) was published.
    pub resolved_at: Option<String>,
    /// When a late event erased it (status `retracted`).
    pub retracted_at: Option<String>,
}

/// A page of alerts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlertPage {
    /// Episodes, newest start first.
    pub items: Vec<AlertJson>,
    /// Pass as `page_token` for the next page; null on the last page.
    pub next_page_token: Option<String>,
}

/// How many suppliers hold each tier.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TierCounts {
    /// The date.
    pub as_of: String,
    /// Count per tier, every tier present.
    pub counts: BTreeMap<String, i64>,
}

/// The configured API keys (`GET /v1/keys`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KeyList {
    /// Names, roles and supplier scopes; never digests.
    pub items: Vec<crate::keys::Identity>,
}

/// One criterion of an assessment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CriterionJson {
    /// The criterion's name.
    pub criterion: String,
    /// The score given.
    pub score: f64,
    /// Bottom of its scale.
    pub min_score: f64,
    /// Top of its scale.
    pub max_score: f64,
    /// (score − min) / (max − min).
    pub value: f64,
    /// The last day it counts for this criterion (`valid_until`, else the assessment's
    /// date + the criterion's `validity_days` − 1; null for a criterion the policy does
    /// not score and an assessment without `valid_until`).
    pub valid_through: Option<String>,
    /// Whether the policy scores this criterion.
    pub scored: bool,
    /// Whether the criterion's value comes from this assessment on `as_of`.
    pub used_today: bool,
}

/// One assessment as scoring sees it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AssessmentJson {
    /// The assessment.
    pub assessment_id: String,
    /// `ONSITE_AUDIT`, `BUYER_REVIEW`, `QUESTIONNAIRE` or `UNKNOWN` (from its latest record).
    pub kind: String,
    /// The assessor's id (latest record).
    pub assessor: String,
    /// Its date (its earliest record's).
    pub assessed_on: String,
    /// The latest record's `valid_until`, or null.
    pub valid_until: Option<String>,
    /// Retracted: void for every date.
    pub void: bool,
    /// The latest record's comment.
    pub comment: Option<String>,
    /// Its criteria (latest record).
    pub criteria: Vec<CriterionJson>,
    /// Every `SupplierAssessmentCompleted` event of it, oldest first.
    pub event_ids: Vec<String>,
}

/// `GET /v1/suppliers/{id}/assessments`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AssessmentList {
    /// The day `used_today` and `sources` refer to (today).
    pub as_of: String,
    /// Every assessment, by id.
    pub items: Vec<AssessmentJson>,
    /// Per criterion of the policy: the assessments its value comes from on `as_of`
    /// (empty: insufficient).
    pub sources: BTreeMap<String, Vec<String>>,
}

/// A certificate's current state.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CertificateJson {
    /// The supplier.
    pub supplier_id: String,
    /// The certificate.
    pub certificate_id: String,
    /// The standard as recorded.
    pub standard: String,
    /// `VALID`, `SUSPENDED`, `WITHDRAWN` or `UNKNOWN`.
    pub status: String,
    /// First day of validity.
    pub valid_from: String,
    /// Last day of validity.
    pub valid_until: String,
    /// Certification body.
    pub issuer: Option<String>,
    /// Whether it covers its standard today.
    pub covers_today: bool,
    /// `valid_until` − today, in days (negative: expired).
    pub days_to_expiry: i32,
    /// Whether the policy requires its standard.
    pub required: bool,
}

/// A list of certificates.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CertificateList {
    /// Today.
    pub as_of: String,
    /// The certificates.
    pub items: Vec<CertificateJson>,
}

/// A compliance violation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ViolationJson {
    /// The violation.
    pub violation_id: String,
    /// Severity (latest record).
    pub severity: String,
    /// The rule broken.
    pub regulation: String,
    /// What happened.
    pub description: String,
    /// Its date (earliest record).
    pub occurred_on: String,
    /// Points under the policy.
    pub points: f64,
    /// Retracted: void for every date.
    pub void: bool,
}

/// `GET /v1/suppliers/{id}/violations`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ViolationList {
    /// The violations, by id.
    pub items: Vec<ViolationJson>,
}

/// An external risk signal's current state.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskSignalJson {
    /// The signal.
    pub signal_id: String,
    /// Kind of risk.
    pub kind: String,
    /// 0..100.
    pub risk_score: f64,
    /// Last day it counts.
    pub valid_until: String,
    /// Whether it counts today.
    pub valid_today: bool,
    /// The provider.
    pub feed: String,
    /// What it says.
    pub summary: String,
}

/// `GET /v1/suppliers/{id}/risk-signals`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskSignalList {
    /// Today.
    pub as_of: String,
    /// The signals, by id.
    pub items: Vec<RiskSignalJson>,
}

/// One status decision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DecisionJson {
    /// Its event.
    pub event_id: String,
    /// Who recorded it (`api:{key}` for the API).
    pub source: String,
    /// From when.
    pub occurred_at: String,
    /// The status decided.
    pub status: String,
    /// Why.
    pub reason: String,
    /// The decider's id.
    pub decided_by: String,
    /// Last day in force, or null.
    pub valid_until: Option<String>,
    /// Whether it gives the status on `as_of`.
    pub in_force: bool,
}

/// `GET /v1/suppliers/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusJson {
    /// The day asked.
    pub as_of: String,
    /// The status on `as_of`.
    pub status: String,
    /// First day of the current run of that status (null: since the beginning).
    pub since: Option<String>,
    /// The reason of the decision in force, or `expired:{event_id}`.
    pub reason: String,
    /// Every decision, oldest first by ordering key.
    pub decisions: Vec<DecisionJson>,
}

/// One progress report on a plan.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgressJson {
    /// When.
    pub occurred_at: String,
    /// 0..100.
    pub percent_complete: i32,
    /// What was done.
    pub note: String,
    /// Who reported it (`api:{key}` through the API).
    pub source: String,
}

/// A rectification plan and its state today.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlanJson {
    /// The plan.
    pub plan_id: String,
    /// The supplier.
    pub supplier_id: String,
    /// Derived from a CRITICAL episode (not stored).
    pub derived: bool,
    /// The indicator to improve.
    pub indicator: String,
    /// Its window.
    pub window_days: i32,
    /// The value to reach.
    pub target: f64,
    /// The due date.
    pub due_date: String,
    /// The day it opened.
    pub opened_on: String,
    /// `OPEN`, `CLOSED` (withdrawn or superseded), `VERIFIED`, `FAILED`, `UNVERIFIABLE`.
    pub state: String,
    /// The counted closing's reason, if any.
    pub close_reason: Option<String>,
    /// The review date (the due date, or a COMPLETED closing's date); null when closed.
    pub review_date: Option<String>,
    /// The indicator on the review date, once reviewed (null: insufficient).
    pub value_at_review: Option<f64>,
    /// The owner's id.
    pub owner: String,
    /// The measures.
    pub measures: Vec<String>,
    /// The alert episode behind it.
    pub trigger_alert_id: Option<String>,
    /// Progress reports, oldest first.
    pub progress: Vec<ProgressJson>,
    /// One plan only: the indicator over its window as of the opening day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// One plan only: the indicator over its window each day from the opening day to
    /// the earlier of the review date and today.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesPoint>,
}

/// One day of a plan's series.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SeriesPoint {
    /// The day.
    pub date: String,
    /// The indicator over the plan's window as of the day (null: insufficient).
    pub value: Option<f64>,
}

/// `GET /v1/suppliers/{id}/plans`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlanList {
    /// Today.
    pub as_of: String,
    /// Every plan, stored and derived, by id.
    pub items: Vec<PlanJson>,
}

/// One delta of a credit record.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CreditDeltaJson {
    /// The day it counts on.
    pub date: String,
    /// The delta.
    pub delta: f64,
    /// `episode`, `plan` or `violation`.
    pub cause: String,
    /// The cause's id (alert_id, plan_id or violation_id).
    #[serde(rename = "ref")]
    pub reference: String,
    /// What it was.
    pub detail: String,
    /// Its cause no longer gives a delta (a retracted episode, a void violation).
    pub withdrawn: bool,
}

/// `GET /v1/suppliers/{id}/credit`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CreditJson {
    /// The day asked.
    pub as_of: String,
    /// clamp(100 + the deltas of the 365 days ending on `as_of`, 0, 100).
    pub score: f64,
    /// A >= 90, B >= 75, C >= 60, else D.
    pub class: String,
    /// Every delta, oldest first.
    pub deltas: Vec<CreditDeltaJson>,
}

/// One reason of a gate answer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GateReason {
    /// `status_blacklisted`, `status_suspended`, `status_conditional`, `tier_at_risk`,
    /// `credit_class_d`, `critical_alert_open`, `plan_failed` or `not_evaluated`.
    pub code: String,
    /// What holds, for the buyer.
    pub detail: String,
    /// This reason's decision for the action asked (`WARN` or `BLOCK`).
    pub decision: String,
}

/// `GET /v1/suppliers/{id}/gate`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GateJson {
    /// The supplier asked about.
    pub supplier_id: String,
    /// The day evaluated.
    pub as_of: String,
    /// `ALLOW`, `WARN` or `BLOCK`: the most severe reason's; ALLOW without reasons.
    pub decision: String,
    /// Every reason, in the gate's order.
    pub reasons: Vec<GateReason>,
    /// The status on `as_of`.
    pub status: String,
    /// The tier on `as_of` (null: not rated, or never seen).
    pub tier: Option<String>,
    /// The credit on `as_of` (null: never seen).
    pub credit: Option<f64>,
    /// The policy the answer comes from.
    pub policy_version: String,
}
