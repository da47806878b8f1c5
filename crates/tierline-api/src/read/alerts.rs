//! `GET /v1/alerts`: which episodes by status, their keyset, and the listing.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tierline_events::Date;
use tracing::instrument;

use super::{Reader, date, pg_date, rfc3339};
use crate::model::{AlertJson, AlertPage};
use crate::problem::Problem;

/// Keyset position in the alert list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AlertKey {
    pub(crate) d: i32,
    pub(crate) id: uuid::Uuid,
}

/// Which episodes `GET /v1/alerts` lists by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum AlertStatus {
    /// Open today.
    Open,
    /// Over.
    Resolved,
    /// Announced, then erased by a late event.
    Retracted,
    /// Open and resolved: what happened (the default).
    #[default]
    Current,
    /// Every status.
    All,
}

impl AlertStatus {
    /// Whether an episode (over when `ended`, retracted when `retracted`) is listed.
    pub(crate) fn lists(self, ended: bool, retracted: bool) -> bool {
        match self {
            AlertStatus::Open => !ended && !retracted,
            AlertStatus::Resolved => ended && !retracted,
            AlertStatus::Retracted => retracted,
            AlertStatus::Current => !retracted,
            AlertStatus::All => true,
        }
    }

    /// As the API names it, and as the SQL below switches on it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Resolved => "resolved",
            AlertStatus::Retracted => "retracted",
            AlertStatus::Current => "current",
            AlertStatus::All => "all",
        }
    }
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
        let rows = sqlx::query(
            "SELECT alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
                    ended_on, value_at_end, raised_at, resolved_at, retracted_at
             FROM alert_episodes
             WHERE CASE $1::text
                     WHEN 'open' THEN ended_on IS NULL AND retracted_at IS NULL
                     WHEN 'resolved' THEN ended_on IS NOT NULL AND retracted_at IS NULL
                     WHEN 'retracted' THEN retracted_at IS NOT NULL
                     WHEN 'all' THEN TRUE
                     ELSE retracted_at IS NULL END
               AND ($2::text IS NULL OR supplier_id = $2)
               AND ($3::text IS NULL OR level = $3)
               AND (NOT $6 OR started_on < $4 OR (started_on = $4 AND alert_id > $5))
             ORDER BY started_on DESC, alert_id LIMIT $7",
        )
        .bind(filter.status.name())
        .bind(filter.supplier_id.as_deref())
        .bind(filter.level.as_deref())
        .bind(pg_date(after.as_ref().map_or(Date(0), |k| Date(k.d))))
        .bind(after.as_ref().map_or(uuid::Uuid::nil(), |k| k.id))
        .bind(after.is_some())
        .bind((page_size + 1) as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut keys = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: uuid::Uuid = r.try_get(0)?;
            let started: NaiveDate = r.try_get(6)?;
            let ended: Option<NaiveDate> = r.try_get(8)?;
            let window: i32 = r.try_get(5)?;
            let raised: Option<DateTime<Utc>> = r.try_get(10)?;
            let resolved: Option<DateTime<Utc>> = r.try_get(11)?;
            let retracted: Option<DateTime<Utc>> = r.try_get(12)?;
            keys.push(AlertKey {
                d: date(started).0,
                id,
            });
            items.push(AlertJson {
                alert_id: id.to_string(),
                supplier_id: r.try_get(1)?,
                rule: r.try_get(2)?,
                level: r.try_get(3)?,
                status: episode_status(ended.is_some(), retracted.is_some()).to_owned(),
                value: r.try_get(7)?,
                value_at_end: r.try_get(9)?,
                threshold: r.try_get(4)?,
                window_days: window.max(0) as u32,
                started_on: date(started).to_string(),
                ended_on: ended.map(|d| date(d).to_string()),
                raised_at: raised.map(rfc3339),
                resolved_at: resolved.map(rfc3339),
                retracted_at: retracted.map(rfc3339),
            });
        }
        let next = (items.len() > page_size).then(|| {
            items.truncate(page_size);
            crate::params::token(&keys[page_size - 1])
        });
        Ok(AlertPage {
            items,
            next_page_token: next,
        })
    }
}
