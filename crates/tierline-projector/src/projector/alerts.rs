//! A supplier's alert episodes and tier as stored and announced: the publication state
//! `announce` decides, written with the episodes, and the outbox messages.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, Row, Transaction};
use tierline_events::{
    AlertLevel, Date, Framing, Record, SupplierAlertRaised, SupplierAlertResolved,
    SupplierTierChanged, Timestamp,
};
use tierline_scoring::{
    Episode, ID_NAMESPACE, Indicator, Level, SupplierLedger, Tier, indicator_value, tier_change_id,
};

use super::{Projector, ProjectorError, pg_date, pg_ts};
use crate::announce::{Message, Published, Stored, announce};

impl Projector {
    /// Stores the supplier's current episodes with their publication state, retracts
    /// announced episodes a late event erased, and enqueues what [`announce`] decides.
    pub(super) async fn project_alerts(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        l: &SupplierLedger,
        episodes: Vec<Episode>,
        today: Date,
        now: Timestamp,
    ) -> Result<(), ProjectorError> {
        let supplier = l.supplier_id();
        let rows = sqlx::query(
            "SELECT alert_id, published_state, announced, raised_at, resolved_at, retracted_at, rule, window_days, value_at_start
             FROM alert_episodes WHERE supplier_id = $1",
        )
        .bind(supplier)
        .fetch_all(&mut **tx)
        .await?;
        let mut stored = HashMap::with_capacity(rows.len());
        let mut known: HashMap<uuid::Uuid, (String, i32, f64)> = HashMap::new();
        for r in &rows {
            let id: uuid::Uuid = r.try_get(0)?;
            let ts = |i: usize| -> Result<Option<Timestamp>, sqlx::Error> {
                Ok(r.try_get::<Option<DateTime<Utc>>, _>(i)?
                    .map(|t| Timestamp(t.timestamp_millis())))
            };
            stored.insert(
                id,
                Stored {
                    state: Published::from_name(r.try_get::<Option<String>, _>(1)?.as_deref()),
                    cycles: r.try_get(2)?,
                    raised_at: ts(3)?,
                    resolved_at: ts(4)?,
                    retracted_at: ts(5)?,
                },
            );
            known.insert(id, (r.try_get(6)?, r.try_get(7)?, r.try_get(8)?));
        }
        let decided = announce(&episodes, &stored, now);
        let mut rows = EpisodeRows::default();
        for (e, (_, state)) in episodes.iter().zip(&decided.current) {
            rows.push(e, state);
        }
        if !rows.id.is_empty() {
            sqlx::query(
                "INSERT INTO alert_episodes (alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
                                             ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at)
                 SELECT id, $1, rule, level, threshold, window_days, started_on, value_at_start, ended_on, value_at_end,
                        published_state, announced, raised_at, resolved_at, NULL
                 FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::float8[], $6::int4[], $7::date[], $8::float8[], $9::date[],
                             $10::float8[], $11::text[], $12::int4[], $13::timestamptz[], $14::timestamptz[])
                      AS e (id, rule, level, threshold, window_days, started_on, value_at_start, ended_on, value_at_end,
                            published_state, announced, raised_at, resolved_at)
                 ON CONFLICT (alert_id) DO UPDATE SET ended_on = EXCLUDED.ended_on, value_at_end = EXCLUDED.value_at_end,
                     value_at_start = EXCLUDED.value_at_start, threshold = EXCLUDED.threshold,
                     published_state = EXCLUDED.published_state, announced = EXCLUDED.announced,
                     raised_at = EXCLUDED.raised_at, resolved_at = EXCLUDED.resolved_at, retracted_at = NULL",
            )
            .bind(supplier)
            .bind(&rows.id)
            .bind(&rows.rule)
            .bind(&rows.level)
            .bind(&rows.threshold)
            .bind(&rows.window_days)
            .bind(&rows.started_on)
            .bind(&rows.value_at_start)
            .bind(&rows.ended_on)
            .bind(&rows.value_at_end)
            .bind(&rows.published_state)
            .bind(&rows.announced)
            .bind(&rows.raised_at)
            .bind(&rows.resolved_at)
            .execute(&mut **tx)
            .await?;
        }
        // A retracted episode was never open: it ends where it starts.
        for (id, s) in &decided.retracted {
            sqlx::query(
                "UPDATE alert_episodes SET published_state = $2, resolved_at = $3, retracted_at = $3,
                     ended_on = started_on, value_at_end = NULL WHERE alert_id = $1",
            )
            .bind(id)
            .bind(s.state.name())
            .bind(s.retracted_at.map(pg_ts))
            .execute(&mut **tx)
            .await?;
        }
        if !decided.forgotten.is_empty() {
            sqlx::query("DELETE FROM alert_episodes WHERE alert_id = ANY($1)")
                .bind(&decided.forgotten)
                .execute(&mut **tx)
                .await?;
        }
        let by_id: HashMap<uuid::Uuid, &Episode> =
            episodes.iter().map(|e| (e.alert_id, e)).collect();
        for m in &decided.messages {
            let record: Record = match m {
                Message::Raise { alert_id, .. } => match by_id.get(alert_id) {
                    Some(e) => self.raised(supplier, e, today, now),
                    None => continue,
                },
                Message::Resolve {
                    alert_id, reason, ..
                } => {
                    let (rule, value, as_of) = match by_id.get(alert_id) {
                        Some(e) => (
                            e.rule.clone(),
                            e.value_at_end.unwrap_or(e.value_at_start),
                            e.ended_on.unwrap_or(today),
                        ),
                        // Retracted: today's value of the rule where it is sufficient.
                        None => {
                            let Some((rule, window, at_start)) = known.get(alert_id) else {
                                continue;
                            };
                            let value = Indicator::from_name(rule)
                                .and_then(|i| {
                                    let w = (*window).max(1) as u32;
                                    indicator_value(l.policy(), i, &l.window(i, today, w)).value
                                })
                                .unwrap_or(*at_start);
                            (rule.clone(), value, today)
                        }
                    };
                    SupplierAlertResolved {
                        alert_id: *alert_id,
                        supplier_id: supplier.to_owned(),
                        rule,
                        value,
                        as_of,
                        resolved_at: now,
                        policy_version: self.policy.version.clone(),
                        reason: *reason,
                    }
                    .into()
                }
            };
            let message_id = match m {
                Message::Raise { message_id, .. } | Message::Resolve { message_id, .. } => {
                    *message_id
                }
            };
            self.enqueue(tx, supplier, &record, message_id, now).await?;
        }
        Ok(())
    }

    pub(super) async fn project_tier(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        l: &SupplierLedger,
        history: &[tierline_scoring::TierDay],
        now: Timestamp,
    ) -> Result<(), ProjectorError> {
        let Some(last) = history.last() else {
            return Ok(());
        };
        let supplier = l.supplier_id();
        let published: Option<String> =
            sqlx::query_scalar("SELECT tier FROM published_tiers WHERE supplier_id = $1")
                .bind(supplier)
                .fetch_optional(&mut **tx)
                .await?;
        // Nothing published counts as UNRATED: a new supplier is announced once rated.
        let from = published
            .clone()
            .unwrap_or_else(|| Tier::Unrated.name().to_owned());
        if from == last.tier.name() {
            return Ok(());
        }
        let effective = history
            .iter()
            .rev()
            .take_while(|t| t.tier == last.tier)
            .last()
            .map_or(last.date, |t| t.date);
        // An id already published (the same run announced before) gets `|k` appended
        // (docs/scoring.md, "Tiers"), so consumers deduplicating by id still see it.
        let base = tier_change_id(supplier, last.tier, effective);
        let base_name = format!("{supplier}|TIER|{}|{effective}", last.tier.name());
        let mut event_id = base;
        for k in 2.. {
            let taken: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE message_id = $1)")
                    .bind(event_id)
                    .fetch_one(&mut **tx)
                    .await?;
            if !taken {
                break;
            }
            event_id = uuid::Uuid::new_v5(&ID_NAMESPACE, format!("{base_name}|{k}").as_bytes());
        }
        let record: Record = SupplierTierChanged {
            event_id,
            supplier_id: supplier.to_owned(),
            from_tier: published,
            to_tier: last.tier.name().to_owned(),
            score: last.score,
            effective_date: effective,
            policy_version: self.policy.version.clone(),
        }
        .into();
        self.enqueue(tx, supplier, &record, event_id, now).await?;
        sqlx::query(
            "INSERT INTO published_tiers (supplier_id, tier, effective_date) VALUES ($1, $2, $3)
             ON CONFLICT (supplier_id) DO UPDATE SET tier = EXCLUDED.tier, effective_date = EXCLUDED.effective_date",
        )
        .bind(supplier)
        .bind(last.tier.name())
        .bind(pg_date(effective))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    fn raised(&self, supplier: &str, e: &Episode, today: Date, now: Timestamp) -> Record {
        SupplierAlertRaised {
            alert_id: e.alert_id,
            supplier_id: supplier.to_owned(),
            rule: e.rule.clone(),
            level: match e.level {
                Level::Warning => AlertLevel::Warning,
                Level::Critical => AlertLevel::Critical,
            },
            value: e.value_at_start,
            threshold: e.threshold,
            window_days: e.window_days as i32,
            as_of: today,
            raised_at: now,
            policy_version: self.policy.version.clone(),
        }
        .into()
    }

    /// Adds a message to the outbox; `id` is its CloudEvents id (and outbox message id).
    async fn enqueue(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        supplier: &str,
        record: &Record,
        id: uuid::Uuid,
        now: Timestamp,
    ) -> Result<(), ProjectorError> {
        let value = self.codec.to_bytes(record, Framing::Confluent)?;
        let headers = serde_json::json!({
            "ce_specversion": "1.0",
            "ce_id": id.to_string(),
            "ce_source": self.source,
            "ce_type": record.kind().full_name(),
            "ce_subject": supplier,
            "ce_time": now.to_string(),
        });
        self.metrics
            .messages_enqueued
            .get_or_create(&crate::metrics::RecordLabel {
                record: record.kind().name().into(),
            })
            .inc();
        sqlx::query("INSERT INTO outbox (message_id, supplier_id, record_name, value, headers) VALUES ($1, $2, $3, $4, $5::jsonb)")
            .bind(id)
            .bind(supplier)
            .bind(record.kind().full_name())
            .bind(value)
            .bind(headers.to_string())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// Alert episode columns, for one bulk upsert.
#[derive(Default)]
struct EpisodeRows {
    id: Vec<uuid::Uuid>,
    rule: Vec<String>,
    level: Vec<String>,
    threshold: Vec<f64>,
    window_days: Vec<i32>,
    started_on: Vec<NaiveDate>,
    value_at_start: Vec<f64>,
    ended_on: Vec<Option<NaiveDate>>,
    value_at_end: Vec<Option<f64>>,
    published_state: Vec<Option<String>>,
    announced: Vec<i32>,
    raised_at: Vec<Option<DateTime<Utc>>>,
    resolved_at: Vec<Option<DateTime<Utc>>>,
}

impl EpisodeRows {
    fn push(&mut self, e: &Episode, s: &Stored) {
        self.id.push(e.alert_id);
        self.rule.push(e.rule.clone());
        self.level.push(e.level.name().to_owned());
        self.threshold.push(e.threshold);
        self.window_days.push(e.window_days as i32);
        self.started_on.push(pg_date(e.started_on));
        self.value_at_start.push(e.value_at_start);
        self.ended_on.push(e.ended_on.map(pg_date));
        self.value_at_end.push(e.value_at_end);
        self.published_state.push(s.state.name().map(str::to_owned));
        self.announced.push(s.cycles);
        self.raised_at.push(s.raised_at.map(pg_ts));
        self.resolved_at.push(s.resolved_at.map(pg_ts));
    }
}
