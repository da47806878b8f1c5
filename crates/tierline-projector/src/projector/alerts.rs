//! A supplier's alert episodes and tier as stored and announced: the publication state
//! `announce` decides, written with the episodes, and the outbox messages.

use std::collections::HashMap;

use tierline_events::{
    AlertLevel, Date, Framing, Record, SupplierAlertRaised, SupplierAlertResolved,
    SupplierTierChanged, Timestamp,
};
use tierline_projections::{EpisodeRow, OutboxMessage, Publication, WriteTx};
use tierline_scoring::{
    Episode, ID_NAMESPACE, Indicator, Level, SupplierLedger, Tier, indicator_value, tier_change_id,
};

use super::{Projector, ProjectorError};
use crate::announce::{Message, Published, Stored, announce};

impl Projector {
    /// Stores the supplier's current episodes with their publication state, retracts
    /// announced episodes a late event erased, and enqueues what [`announce`] decides.
    pub(super) async fn project_alerts(
        &self,
        tx: &mut WriteTx,
        l: &SupplierLedger,
        episodes: Vec<Episode>,
        today: Date,
        now: Timestamp,
    ) -> Result<(), ProjectorError> {
        let supplier = l.supplier_id();
        let rows = tx.episodes(supplier).await?;
        let mut stored = HashMap::with_capacity(rows.len());
        let mut known: HashMap<uuid::Uuid, (String, i32, f64)> = HashMap::new();
        for r in rows {
            let p = r.publication;
            stored.insert(
                r.alert_id,
                Stored {
                    state: Published::from_name(p.state.as_deref()),
                    cycles: p.announced,
                    raised_at: p.raised_at,
                    resolved_at: p.resolved_at,
                    retracted_at: p.retracted_at,
                },
            );
            known.insert(r.alert_id, (r.rule, r.window_days, r.value_at_start));
        }
        let decided = announce(&episodes, &stored, now);
        let rows: Vec<EpisodeRow> = episodes
            .iter()
            .zip(&decided.current)
            .map(|(e, (_, state))| episode_row(supplier, e, state))
            .collect();
        tx.upsert_episodes(&rows).await?;
        // A retracted episode was never open: it ends where it starts.
        for (id, s) in &decided.retracted {
            tx.retract_episode(*id, s.state.name().unwrap_or_default(), s.retracted_at)
                .await?;
        }
        tx.forget_episodes(&decided.forgotten).await?;
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
        tx: &mut WriteTx,
        l: &SupplierLedger,
        history: &[tierline_scoring::TierDay],
        now: Timestamp,
    ) -> Result<(), ProjectorError> {
        let Some(last) = history.last() else {
            return Ok(());
        };
        let supplier = l.supplier_id();
        let published = tx.published_tier(supplier).await?;
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
            let taken = tx.message_taken(event_id).await?;
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
        tx.set_published_tier(supplier, last.tier.name(), effective)
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
        tx: &mut WriteTx,
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
        tx.enqueue(&OutboxMessage {
            message_id: id,
            supplier_id: supplier.to_owned(),
            record_name: record.kind().full_name().to_owned(),
            value,
            headers: headers.to_string(),
            created_at: now,
        })
        .await?;
        Ok(())
    }
}

/// An episode as stored, with the publication state `announce` decided.
fn episode_row(supplier: &str, e: &Episode, s: &Stored) -> EpisodeRow {
    EpisodeRow {
        alert_id: e.alert_id,
        supplier_id: supplier.to_owned(),
        rule: e.rule.clone(),
        level: e.level.name().to_owned(),
        threshold: e.threshold,
        window_days: e.window_days as i32,
        started_on: e.started_on,
        value_at_start: e.value_at_start,
        ended_on: e.ended_on,
        value_at_end: e.value_at_end,
        publication: Publication {
            state: s.state.name().map(str::to_owned),
            announced: s.cycles,
            raised_at: s.raised_at,
            resolved_at: s.resolved_at,
            retracted_at: None,
        },
    }
}
