//! Loading supplier ledgers from the store into the cache, up to a cursor.

use std::collections::HashMap;

use tierline_scoring::{SupplierLedger, Walks};
use tierline_store::Cursor;

use super::{Projector, ProjectorError};

impl Projector {
    /// Loads the ledgers of `suppliers` not cached, up to `upto`, with the walks
    /// the read model holds for them (those of the projected day).
    /// `everyone`: these are all the store's suppliers, read in one pass over the store
    /// rather than by its supplier index.
    pub(super) async fn load_ledgers(
        &mut self,
        suppliers: &[&str],
        upto: Cursor,
        everyone: bool,
    ) -> Result<u64, ProjectorError> {
        let missing: Vec<&str> = suppliers
            .iter()
            .copied()
            .filter(|s| !self.cache.contains(s))
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let mut fresh: HashMap<&str, SupplierLedger> = missing
            .iter()
            .map(|s| (*s, SupplierLedger::new(*s, self.policy.clone())))
            .collect();
        let codec = &self.codec;
        let stage = |e: tierline_store::ReplayEvent<'_>| -> Result<(), ProjectorError> {
            let record = codec.decode_datum(e.fingerprint, e.datum).map_err(|err| {
                ProjectorError::Unreadable {
                    position: e.cursor.position,
                    reason: err.to_string(),
                }
            })?;
            if let Some(l) = fresh.get_mut(record.supplier_id()) {
                l.stage(&record);
            }
            Ok(())
        };
        let n = if everyone {
            self.store
                .replay(Cursor::START, Some(upto), stage)
                .await?
                .events
        } else {
            self.store.replay_suppliers(&missing, upto, stage).await?
        };
        let projected = self.projected_day;
        for (supplier, mut l) in fresh {
            l.settle();
            let walks = projected.map_or_else(Walks::default, |d| l.walks(d));
            self.cache.insert(supplier.to_owned(), l, walks);
        }
        self.metrics.ledgers_loaded.inc_by(missing.len() as u64);
        Ok(n)
    }
}
