//! The order gate (docs/api.md "The gate"): a supplier's standing on a day turned into
//! ALLOW, WARN or BLOCK with every reason. Asked about today (the ERP's inline call),
//! it reads the standing the projector keeps (one row) and the status decisions from
//! the store (an admin's decision counts at once); about another day, or before the
//! projector has reached today, it computes the standing from the records.

use tierline_events::{Date, Record, RecordKind, SupplierStatus};
use tierline_scoring::{GateAction, GateFacts, StatusLine, SupplierActions, credit_class, gate};

use super::Reader;
use crate::model::{GateJson, GateReason};
use crate::problem::Problem;

impl Reader {
    /// The gate's answer for `supplier` on `as_of` for `action`; `today` is the API's.
    /// A supplier never seen gets WARN `not_evaluated`; one seen whose first day is after
    /// `as_of` is evaluated as APPROVED, unrated, with credit 100.
    pub(crate) async fn gate(
        &self,
        supplier: &str,
        action: GateAction,
        as_of: Date,
        today: Date,
    ) -> Result<GateJson, Problem> {
        let facts = match self.projected_facts(supplier, as_of, today).await? {
            Some(f) => f,
            None => self.computed_facts(supplier, as_of).await?,
        };
        let answer = gate(&self.policy.gate, action, &facts);
        Ok(GateJson {
            supplier_id: supplier.to_owned(),
            as_of: as_of.to_string(),
            decision: answer.decision.name().to_owned(),
            reasons: answer
                .reasons
                .into_iter()
                .map(|(code, detail, d)| GateReason {
                    code: code.to_owned(),
                    detail,
                    decision: d.name().to_owned(),
                })
                .collect(),
            status: facts.status.symbol().to_owned(),
            tier: facts.tier,
            credit: facts.credit.map(|(c, _)| c),
            policy_version: self.policy.version.clone(),
        })
    }

    /// Today's facts from the projector's standing row, or `None` when they must be
    /// computed (another day, or the projector has not brought the supplier to today).
    async fn projected_facts(
        &self,
        supplier: &str,
        as_of: Date,
        today: Date,
    ) -> Result<Option<GateFacts>, Problem> {
        if as_of != today {
            return Ok(None);
        }
        let Some(row) = self.projections.standing(supplier).await? else {
            if self.is_known(supplier).await? {
                return Ok(None); // seen, not projected yet
            }
            return Ok(Some(GateFacts {
                seen: false,
                status: SupplierStatus::Approved,
                status_reason: String::new(),
                tier: None,
                credit: None,
                critical_open: Vec::new(),
                failed_plans: Vec::new(),
            }));
        };
        if row.as_of != today {
            return Ok(None);
        }
        let line = self.status_line(supplier).await?;
        Ok(Some(GateFacts {
            seen: true,
            status: line.on(as_of).status,
            status_reason: line.reason(as_of),
            tier: row.tier,
            credit: Some((row.credit, credit_class(row.credit))),
            critical_open: serde_json::from_str(&row.critical_open)
                .map_err(|_| Problem::internal())?,
            failed_plans: serde_json::from_str(&row.failed_plans)
                .map_err(|_| Problem::internal())?,
        }))
    }

    /// The supplier's status decisions, from the store.
    async fn status_line(&self, supplier: &str) -> Result<StatusLine, Problem> {
        let kinds = [RecordKind::SupplierStatusDecided];
        let records =
            super::profile::records_of(&self.store, &self.codec, supplier, &kinds).await?;
        Ok(status_line_of(&self.policy, &records))
    }

    /// The facts on `as_of` computed from the supplier's records and episodes.
    async fn computed_facts(&self, supplier: &str, as_of: Date) -> Result<GateFacts, Problem> {
        let standing = self.standing(supplier, as_of).await?;
        let seen = !standing.is_empty() || self.is_known(supplier).await?;
        let line = standing.status(self);
        let tier = match seen {
            true => Some(self.tier_on(supplier, as_of).await?)
                .filter(|t| *t != tierline_scoring::Tier::Unrated)
                .map(|t| t.name().to_owned()),
            false => None,
        };
        let credit = seen.then(|| standing.credit(&self.policy).score);
        let critical_open = tierline_scoring::critical_open(&standing.episode_facts(), as_of);
        let days = self.policy.gate.plan_failed_days;
        let failed_plans = tierline_scoring::failed_plans(&standing.review_facts(), as_of, days);
        Ok(GateFacts {
            seen,
            status: line.on(as_of).status,
            status_reason: line.reason(as_of),
            tier,
            credit: credit.map(|c| (c, credit_class(c))),
            critical_open,
            failed_plans,
        })
    }
}

/// The status line of the status decisions among `records`.
pub(crate) fn status_line_of(policy: &tierline_scoring::Policy, records: &[Record]) -> StatusLine {
    let mut actions = SupplierActions::default();
    for r in records {
        if matches!(r, Record::SupplierStatusDecided(_)) {
            actions.stage(r);
        }
    }
    actions.status(|t| policy.day_of(t))
}
