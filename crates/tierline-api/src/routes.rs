//! The `/v1` handlers: parameters in, [`Reader`] calls, JSON out.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use tierline_events::{Date, RecordKind};
use tierline_scoring::Tier;

pub(crate) mod closed_loop;
pub(crate) mod people;
pub(crate) mod profile;
pub(crate) mod sources;

use crate::AppState;
use crate::keys::{Identity, Role};
use crate::model::*;
use crate::params::Params;
use crate::problem::Problem;
use crate::read;
use crate::read::{AlertFilter, AlertStatus, EventQuery, Sort};
use axum::Extension;

const TIER_NAMES: [&str; 5] = ["STRATEGIC", "KEY", "RESERVE", "AT_RISK", "UNRATED"];

impl AppState {
    fn today(&self) -> Date {
        self.clock.today(self.reader.policy())
    }

    /// `as_of` (default today), never after today.
    fn as_of(&self, p: &Params) -> Result<Date, Problem> {
        let today = self.today();
        match p.date("as_of")? {
            None => Ok(today),
            Some(d) if d > today => Err(Problem::bad_parameter(
                "as_of",
                format!("as_of {d} is after today ({today}): scores are known up to today"),
            )),
            Some(d) => Ok(d),
        }
    }
}

/// List suppliers with their score, tier, dimensions and open alerts.
#[utoipa::path(get, path = "/v1/suppliers", tag = "suppliers",
    params(
        ("tier" = Option<String>, Query, description = "Only this tier: STRATEGIC, KEY, RESERVE, AT_RISK, UNRATED"),
        ("status" = Option<String>, Query, description = "Only this status today: APPROVED, CONDITIONAL, SUSPENDED, BLACKLISTED"),
        ("sort" = Option<String>, Query, description = "`-score` (default, nulls last), `score` (nulls last), `supplier_id`"),
        ("window" = Option<u32>, Query, description = "30, 90 (default) or 365"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD, default today"),
        ("page_size" = Option<u32>, Query, description = "1..=500, default 50; larger values are lowered to 500"),
        ("page_token" = Option<String>, Query, description = "next_page_token of the previous page"),
    ),
    responses(
        (status = 200, body = SupplierPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_suppliers(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Json<SupplierPage>, Problem> {
    let p = Params::parse(
        q.as_deref(),
        &[
            "tier",
            "status",
            "sort",
            "window",
            "as_of",
            "page_size",
            "page_token",
        ],
    )?;
    let tier = p.one_of("tier", &TIER_NAMES)?.and_then(Tier::from_name);
    let status = p.one_of(
        "status",
        &["APPROVED", "CONDITIONAL", "SUSPENDED", "BLACKLISTED"],
    )?;
    let sort = match p.one_of("sort", &["score", "-score", "supplier_id"])? {
        Some("score") => Sort::ScoreAsc,
        Some("supplier_id") => Sort::SupplierId,
        _ => Sort::ScoreDesc,
    };
    let window = p.window()?;
    let as_of = s.as_of(&p)?;
    let page_size = p.page_size(s.max_page_size)?;
    let after = p.page_token()?;
    Ok(Json(
        s.reader
            .suppliers(as_of, window, tier, status, sort, page_size, after)
            .await?,
    ))
}

/// A supplier's scorecard: composite, tier, dimensions and every indicator (criteria name their assessments).
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/scorecard", tag = "suppliers",
    params(
        ("supplier_id" = String, Path, description = "Supplier id"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD, default today"),
        ("window" = Option<u32>, Query, description = "30, 90 (default) or 365"),
    ),
    responses(
        (status = 200, body = ScorecardJson),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn scorecard(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<ScorecardJson>, Problem> {
    let supplier = known_shape(supplier)?;
    let p = Params::parse(q.as_deref(), &["as_of", "window"])?;
    let window = p.window()?;
    let as_of = s.as_of(&p)?;
    let mut sc = s.reader.scorecard(&supplier, as_of, window).await?;
    let kinds = [
        RecordKind::SupplierAssessmentCompleted,
        RecordKind::SupplierAssessmentRetracted,
        RecordKind::SupplierStatusDecided,
    ];
    let records =
        read::profile::records_of(s.reader.store(), s.reader.codec(), &supplier, &kinds).await?;
    sc.status = read::gate::status_line_of(s.reader.policy(), &records)
        .on(as_of)
        .status
        .symbol()
        .to_owned();
    // Each criterion names the assessments its value comes from on `as_of`.
    if !s.reader.policy().criteria.is_empty() {
        let list = read::profile::assessments(&supplier, s.reader.policy(), &records, as_of);
        for (criterion, ids) in list.sources {
            if let Some(i) = sc.indicators.get_mut(&criterion) {
                i.assessment_ids = Some(ids);
            }
        }
    }
    Ok(Json(sc))
}

/// A path's supplier id: one that breaks the id rule names no supplier (404), and never
/// reaches the database.
fn known_shape(id: String) -> Result<String, Problem> {
    if tierline_events::is_supplier_id(&id) {
        Ok(id)
    } else {
        Err(Problem::unknown_supplier(&id.escape_default().to_string()))
    }
}

/// Longest history one request may ask for, in days.
pub(crate) const MAX_HISTORY_DAYS: i32 = 1830;

/// A supplier's daily score, tier and indicator values.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/history", tag = "suppliers",
    params(
        ("supplier_id" = String, Path, description = "Supplier id"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD; default `to` - 89 days"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD; default today"),
        ("window" = Option<u32>, Query, description = "30, 90 (default) or 365"),
    ),
    responses(
        (status = 200, body = History),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn history(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<History>, Problem> {
    let supplier = known_shape(supplier)?;
    let p = Params::parse(q.as_deref(), &["from", "to", "window"])?;
    let window = p.window()?;
    let today = s.today();
    let to = p.date("to")?.unwrap_or(today);
    if to > today {
        return Err(Problem::bad_parameter(
            "to",
            format!("to {to} is after today ({today})"),
        ));
    }
    let from = p.date("from")?.unwrap_or(Date(to.0 - 89));
    if from > to {
        return Err(Problem::bad_parameter(
            "from",
            format!("from {from} is after to {to}"),
        ));
    }
    if to.0 - from.0 >= MAX_HISTORY_DAYS {
        return Err(Problem::bad_parameter(
            "from",
            format!("at most {MAX_HISTORY_DAYS} days per request (from {from} to {to})"),
        ));
    }
    Ok(Json(s.reader.history(&supplier, from, to, window).await?))
}

/// The supplier's stored events, decoded: the lineage of every number.
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}/events", tag = "suppliers",
    params(
        ("supplier_id" = String, Path, description = "Supplier id"),
        ("from" = Option<String>, Query, description = "Only events that occurred on or after this day (YYYY-MM-DD)"),
        ("to" = Option<String>, Query, description = "Only events that occurred on or before this day (YYYY-MM-DD)"),
        ("type" = Option<String>, Query, description = "Record name, e.g. GoodsReceived"),
        ("order" = Option<String>, Query, description = "`asc` (oldest occurred_at first, the default) or `desc` (newest first)"),
        ("page_size" = Option<u32>, Query, description = "1..=500, default 50"),
        ("page_token" = Option<String>, Query, description = "next_page_token of the previous page"),
    ),
    responses(
        (status = 200, body = EventPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn events(
    State(s): State<AppState>,
    Path(supplier): Path<String>,
    RawQuery(q): RawQuery,
    who: Option<Extension<Identity>>,
) -> Result<Json<EventPage>, Problem> {
    let supplier = known_shape(supplier)?;
    let p = Params::parse(
        q.as_deref(),
        &["from", "to", "type", "order", "page_size", "page_token"],
    )?;
    let newest_first = match p.get("order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(o) => {
            return Err(Problem::bad_parameter(
                "order",
                format!("order must be asc or desc, got {o:?}"),
            ));
        }
    };
    let (from, to) = (p.date("from")?, p.date("to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(Problem::bad_parameter(
            "from",
            format!("from {f} is after to {t}"),
        ));
    }
    let kind = match p.get("type") {
        None => None,
        Some(t) => Some(
            RecordKind::ALL
                .iter()
                .copied()
                .find(|k| k.name() == t || k.full_name() == t)
                .ok_or_else(|| {
                    let names: Vec<&str> = RecordKind::ALL.iter().map(|k| k.name()).collect();
                    Problem::bad_parameter(
                        "type",
                        format!(
                            "type must be a record name ({}), got {t:?}",
                            names.join(", ")
                        ),
                    )
                })?,
        ),
    };
    let q = EventQuery {
        from,
        to,
        kind,
        newest_first,
        page_size: p.page_size(s.max_page_size)?,
        after: p.page_token()?,
    };
    q.check_token(&supplier)?;
    let mut page = s.reader.events(&supplier, q).await?;
    // A supplier key sees the lineage of only the events its own key wrote.
    if let Some(Extension(who)) = who
        && who.role == Role::Supplier
    {
        let mine = who.source();
        page.items.retain(|e| e.source == mine);
    }
    Ok(Json(page))
}

/// Alert episodes, newest first: open and over by default; retracted ones (announced,
/// then erased by a late event) with `status=retracted` or `all`.
#[utoipa::path(get, path = "/v1/alerts", tag = "alerts",
    params(
        ("status" = Option<String>, Query, description = "open, resolved, retracted, or all; default: open and resolved"),
        ("supplier_id" = Option<String>, Query, description = "Only this supplier"),
        ("level" = Option<String>, Query, description = "WARNING or CRITICAL"),
        ("page_size" = Option<u32>, Query, description = "1..=500, default 50"),
        ("page_token" = Option<String>, Query, description = "next_page_token of the previous page"),
    ),
    responses(
        (status = 200, body = AlertPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn alerts(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Json<AlertPage>, Problem> {
    let p = Params::parse(
        q.as_deref(),
        &["status", "supplier_id", "level", "page_size", "page_token"],
    )?;
    let status = match p.one_of("status", &["open", "resolved", "retracted", "all"])? {
        Some("open") => AlertStatus::Open,
        Some("resolved") => AlertStatus::Resolved,
        Some("retracted") => AlertStatus::Retracted,
        Some(_) => AlertStatus::All,
        None => AlertStatus::Current,
    };
    let supplier_id = p.get("supplier_id").map(str::to_owned);
    if let Some(id) = supplier_id
        .as_deref()
        .filter(|id| !tierline_events::is_supplier_id(id))
    {
        return Err(Problem::bad_parameter(
            "supplier_id",
            format!(
                "supplier_id {:?} breaks the id rule (1..64 of [A-Za-z0-9._:-])",
                id.escape_default().to_string()
            ),
        ));
    }
    let filter = AlertFilter {
        status,
        supplier_id,
        level: p
            .one_of("level", &["WARNING", "CRITICAL"])?
            .map(str::to_owned),
    };
    let page_size = p.page_size(s.max_page_size)?;
    let after = p.page_token()?;
    Ok(Json(s.reader.alerts(&filter, page_size, after).await?))
}

/// How many suppliers hold each tier.
#[utoipa::path(get, path = "/v1/tiers", tag = "tiers",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD, default today")),
    responses(
        (status = 200, body = TierCounts),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn tiers(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Json<TierCounts>, Problem> {
    let p = Params::parse(q.as_deref(), &["as_of"])?;
    let as_of = s.as_of(&p)?;
    Ok(Json(s.reader.tier_counts(as_of).await?))
}

/// The active scoring policy, with its `version`.
#[utoipa::path(get, path = "/v1/policy", tag = "policy",
    responses(
        (status = 200, description = "The policy (the TOML file's content as JSON)", body = Object),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn policy(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Json<serde_json::Value>, Problem> {
    Params::parse(q.as_deref(), &[])?;
    serde_json::to_value(s.reader.policy())
        .map(Json)
        .map_err(|_| Problem::internal())
}

/// Who this key is: its name, role and (for a supplier key) supplier. The dashboard
/// shows only what the role may do.
#[utoipa::path(get, path = "/v1/me", tag = "keys",
    responses((status = 200, body = Identity), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub(crate) async fn me(axum::Extension(who): axum::Extension<Identity>) -> Json<Identity> {
    Json(who)
}

/// Every configured key's name, role and supplier (never a digest). Admin only.
#[utoipa::path(get, path = "/v1/keys", tag = "keys",
    responses(
        (status = 200, body = KeyList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn keys(State(s): State<AppState>) -> Json<KeyList> {
    Json(KeyList {
        items: s.keys.identities(),
    })
}
