//! `GET /v1/alerts`: which episodes by status, their keyset, and the listing.

use serde::{Deserialize, Serialize};
use tierline_events::Date;
use tierline_projections::AlertQuery;
use tracing::instrument;

use super::Reader;
use crate::model::{AlertJson, AlertPage};
use crate::problem::Problem;

pub(crate) use tierline_projections::AlertStatus;

/// Keyset position in the alert list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AlertKey {
    pub(crate) d: i32,
    pub(crate) id: uuid::Uuid,
}

/// An episode's `status` in the API.
pub(crate) fn episode_status(ended: bool, retracted: bool) -> &'static str {
    match (ended, retracted) {
        (_, true) => "retracted",
        (true, false) => "resolved",
        (false, false) => "open",
    }
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertFilter {
    pub(crate) status: AlertStatus,
    pub(crate) supplier_id: Option<String>,
    pub(crate) level: Option<String>,
}

impl Reader {
    /// `GET /v1/alerts`.
    #[instrument(skip(self), err(Debug, level = "debug"))]
    pub(crate) async fn alerts(
        &self,
        filter: &AlertFilter,
        page_size: usize,
        after: Option<AlertKey>,
    ) -> Result<AlertPage, Problem> {
        let rows = self
            .projections
            .alerts(&AlertQuery {
                status: filter.status,
                supplier_id: filter.supplier_id.as_deref(),
                level: filter.level.as_deref(),
                after: after.as_ref().map(|k| (Date(k.d), k.id)),
                limit: page_size + 1,
            })
            .await?;
        let (rows, next_page_token) = crate::params::page(rows, page_size, |r| AlertKey {
            d: r.started_on.0,
            id: r.alert_id,
        });
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            let (ended, retracted) = (r.ended_on.is_some(), r.publication.retracted_at.is_some());
            items.push(AlertJson {
                alert_id: r.alert_id.to_string(),
                supplier_id: r.supplier_id,
                rule: r.rule,
                level: r.level,
                status: episode_status(ended, retracted).to_owned(),
                value: r.value_at_start,
                value_at_end: r.value_at_end,
                threshold: r.threshold,
                window_days: r.window_days.max(0) as u32,
                started_on: r.started_on.to_string(),
                ended_on: r.ended_on.map(|d| d.to_string()),
                raised_at: r.publication.raised_at.map(|t| t.to_string()),
                resolved_at: r.publication.resolved_at.map(|t| t.to_string()),
                retracted_at: r.publication.retracted_at.map(|t| t.to_string()),
            });
        }
        Ok(AlertPage {
            items,
            next_page_token,
        })
    }
}
