//! A step's alert episodes and tiers as stored and announced: the publication state
//! `announce` decides for each supplier against what is stored (read for the whole step
//! at once), the episodes that changed, and the outbox messages.

use std::collections::HashMap;

use tierline_events::{
    AlertLevel, Date, Framing, Record, SupplierAlertRaised, SupplierAlertResolved,
    SupplierTierChanged, Timestamp,
};
use tierline_projections::{
    EpisodeRow, OutboxMessage, PageRows, Publication, StandingRow, WriteTx,
};
use tierline_scoring::{
    Episode, ID_NAMESPACE, Indicator, Level, SupplierLedger, Tier, TierDay, indicator_value,
    proposals, tier_change_id,
};
use uuid::Uuid;

use super::writers::Computed;
use super::{Projector, ProjectorError};
use crate::announce::{Message, Published, Stored, announce};

/// A tier to announce.
struct TierChange {
    supplier: String,
    from: Option<String>,
    last: TierDay,
    effective: Date,
}

impl Projector {
    /// Adds to `rows` what the step announces for the `computed` suppliers: their
    /// episodes that changed (the status proposals among them), retractions, the outbox
    /// messages of alerts and tiers, and the closed loop's standings, plan outcomes and
    /// status changes.
    /// Returns every supplier's standing (only changed ones are in `rows`).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn announce_page<'a>(
        &self,
        tx: &mut WriteTx,
        computed: &[Computed],
        ledger: impl Fn(&str) -> Option<&'a SupplierLedger>,
        last: impl Fn(&str) -> Option<&'a StandingRow>,
        today: Date,
        now: Timestamp,
        rows: &mut PageRows,
    ) -> Result<HashMap<String, StandingRow>, ProjectorError> {
        let suppliers: Vec<&str> = computed.iter().map(|c| c.supplier.as_str()).collect();
        let mut stored: HashMap<String, Vec<EpisodeRow>> = HashMap::new();
        for r in tx.episodes_of(&suppliers).await? {
            stored.entry(r.supplier_id.clone()).or_default().push(r);
        }
        let published = tx.published_tiers_of(&suppliers).await?;
        let mut changes = Vec::new();
        let mut loops = HashMap::with_capacity(computed.len());
        for c in computed {
            let Some(l) = ledger(&c.supplier) else {
                continue;
            };
            let lp = self.loop_of(c, l, today);
            // The status proposals are alert episodes like the rules' own.
            let mut episodes: Vec<Episode> = c.walks.episodes().cloned().collect();
            episodes.extend(proposals(
                &c.supplier,
                &c.walks.tiers,
                &lp.status,
                &lp.failed(),
                today,
            ));
            loops.insert(c.supplier.as_str(), lp);
            let was = stored.remove(&c.supplier).unwrap_or_default();
            self.announce_alerts(l, &episodes, was, today, now, rows)?;
            if let Some(change) = tier_change(c, published.get(&c.supplier)) {
                changes.push(change);
            }
        }
        let standings = self
            .announce_closed_loop(tx, computed, &loops, &ledger, &last, today, now, rows)
            .await?;
        self.announce_tiers(tx, changes, now, rows).await?;
        Ok(standings)
    }

    /// One supplier's episodes against its stored ones.
    fn announce_alerts(
        &self,
        l: &SupplierLedger,
        episodes: &[Episode],
        was: Vec<EpisodeRow>,
        today: Date,
        now: Timestamp,
        rows: &mut PageRows,
    ) -> Result<(), ProjectorError> {
        let supplier = l.supplier_id();
        let mut states = HashMap::with_capacity(was.len());
        let mut known: HashMap<Uuid, EpisodeRow> = HashMap::with_capacity(was.len());
        for r in was {
            let p = &r.publication;
            states.insert(
                r.alert_id,
                Stored {
                    state: Published::from_name(p.state.as_deref()),
                    cycles: p.announced,
                    raised_at: p.raised_at,
                    resolved_at: p.resolved_at,
                    retracted_at: p.retracted_at,
                },
            );
            known.insert(r.alert_id, r);
        }
        let decided = announce(episodes, &states, now);
        for (e, (_, state)) in episodes.iter().zip(&decided.current) {
            let row = episode_row(supplier, e, state);
            // Unchanged rows are not rewritten.
            if known.get(&e.alert_id) != Some(&row) {
                rows.episodes.push(row);
            }
        }
        for (id, s) in &decided.retracted {
            let state = s.state.name().unwrap_or_default().to_owned();
            rows.retracted.push((*id, state, s.retracted_at));
        }
        rows.forgotten.extend(&decided.forgotten);
        let by_id: HashMap<Uuid, &Episode> = episodes.iter().map(|e| (e.alert_id, e)).collect();
        for m in &decided.messages {
            let (record, message_id): (Record, Uuid) = match m {
                Message::Raise {
                    alert_id,
                    message_id,
                } => match by_id.get(alert_id) {
                    Some(e) => (self.raised(supplier, e, today, now), *message_id),
                    None => continue,
                },
                Message::Resolve {
                    alert_id,
                    message_id,
                    reason,
                } => {
                    let (rule, value, as_of) = match by_id.get(alert_id) {
                        Some(e) => (
                            e.rule.clone(),
                            e.value_at_end.unwrap_or(e.value_at_start),
                            e.ended_on.unwrap_or(today),
                        ),
                        // Retracted: today's value of the rule where it is sufficient.
                        None => {
                            let Some(r) = known.get(alert_id) else {
                                continue;
                            };
                            let value = Indicator::from_name(&r.rule)
                                .and_then(|i| {
                                    let w = r.window_days.max(1) as u32;
                                    indicator_value(l.policy(), i, &l.window(i, today, w)).value
                                })
                                .unwrap_or(r.value_at_start);
                            (r.rule.clone(), value, today)
                        }
                    };
                    let record = SupplierAlertResolved {
                        alert_id: *alert_id,
                        supplier_id: supplier.to_owned(),
                        rule,
                        value,
                        as_of,
                        resolved_at: now,
                        policy_version: self.policy.version.clone(),
                        reason: *reason,
                    };
                    (record.into(), *message_id)
                }
            };
            rows.messages
                .push(self.message(supplier, &record, message_id, now)?);
        }
        Ok(())
    }

    /// The tier changes: an id already in the outbox (the same run announced before)
    /// gets `|k` appended (docs/scoring.md, "Tiers"), so consumers deduplicating by id
    /// still see it.
    async fn announce_tiers(
        &self,
        tx: &mut WriteTx,
        changes: Vec<TierChange>,
        now: Timestamp,
        rows: &mut PageRows,
    ) -> Result<(), ProjectorError> {
        let bases: Vec<Uuid> = changes
            .iter()
            .map(|c| tier_change_id(&c.supplier, c.last.tier, c.effective))
            .collect();
        let taken = tx.taken_messages(&bases).await?;
        for (c, base) in changes.into_iter().zip(bases) {
            let mut event_id = base;
            if taken.contains(&base) {
                let name = format!("{}|TIER|{}|{}", c.supplier, c.last.tier.name(), c.effective);
                for k in 2.. {
                    event_id = Uuid::new_v5(&ID_NAMESPACE, format!("{name}|{k}").as_bytes());
                    if tx.taken_messages(&[event_id]).await?.is_empty() {
                        break;
                    }
                }
            }
            let record: Record = SupplierTierChanged {
                event_id,
                supplier_id: c.supplier.clone(),
                from_tier: c.from,
                to_tier: c.last.tier.name().to_owned(),
                score: c.last.score,
                effective_date: c.effective,
                policy_version: self.policy.version.clone(),
            }
            .into();
            rows.messages
                .push(self.message(&c.supplier, &record, event_id, now)?);
            rows.published_tiers
                .push((c.supplier, c.last.tier.name().to_owned(), c.effective));
        }
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

    /// An outbox message; `id` is its CloudEvents id (and outbox message id).
    pub(super) fn message(
        &self,
        supplier: &str,
        record: &Record,
        id: Uuid,
        now: Timestamp,
    ) -> Result<OutboxMessage, ProjectorError> {
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
        Ok(OutboxMessage {
            message_id: id,
            supplier_id: supplier.to_owned(),
            record_name: record.kind().full_name().to_owned(),
            value,
            headers: headers.to_string(),
            created_at: now,
        })
    }
}

/// The tier to announce for a supplier, if it differs from the one published (nothing
/// published counts as UNRATED: a new supplier is announced once rated).
fn tier_change(c: &Computed, published: Option<&String>) -> Option<TierChange> {
    let last = *c.walks.tiers.last()?;
    let from = published.map_or(Tier::Unrated.name(), String::as_str);
    if from == last.tier.name() {
        return None;
    }
    let effective = c
        .walks
        .tiers
        .iter()
        .rev()
        .take_while(|t| t.tier == last.tier)
        .last()
        .map_or(last.date, |t| t.date);
    Some(TierChange {
        supplier: c.supplier.clone(),
        from: published.cloned(),
        last,
        effective,
    })
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
