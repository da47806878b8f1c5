//! Source health across the feeds (docs/api.md "Sources", docs/operations.md "Source
//! health").

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;
use tierline_events::Timestamp;
use tierline_projections::health::{SourceHealth, SourceStatus};
use utoipa::ToSchema;

use crate::AppState;
use crate::params::Params;
use crate::problem::Problem;

/// Every source's health, stale first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SourceList {
    /// The instant the verdicts are for (the server's clock).
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Timestamp,
    /// How many (source, record type) pairs are stale.
    pub stale: usize,
    /// One item per (source, record type): `source`, `record_name`, `last_event_at`,
    /// `silent_seconds`, `today`, `yesterday`, `baseline_daily` (mean events a day over
    /// the 28 days before today, null before a full day), `stale_after_seconds`,
    /// `status` (`ok`, `quiet`, `stale`) and `reason`.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<SourceHealth>,
}

/// Whether every source (ERP, WMS, QMS, …) still sends each record type as usually:
/// the last event's time and the daily volume against the 28 days before. A stale
/// source means missing receipts or inspections, not late suppliers. Not for supplier keys.
#[utoipa::path(get, path = "/v1/sources", tag = "operations",
    responses(
        (status = 200, body = SourceList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn sources(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Json<SourceList>, Problem> {
    Params::parse(q.as_deref(), &[])?;
    let now = s.clock.now();
    let items = s.reader.projections().source_health(now).await?;
    Ok(Json(SourceList {
        as_of: now,
        stale: items
            .iter()
            .filter(|h| h.status == SourceStatus::Stale)
            .count(),
        items,
    }))
}
