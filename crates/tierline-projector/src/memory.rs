//! Projections kept in memory, for stores without projection tables (the embedded
//! SQLite demo): the ledgers are rebuilt from the store on start, then follow it.
//!
//! Readers take an immutable [`Snapshot`] (cheap: shared pointers) and compute from
//! it; the projector publishes a new snapshot after each batch.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tierline_events::{Codec, Date, Timestamp};
use tierline_scoring::{
    Agg, Episode, Indicator, Policy, Scorecard, SupplierLedger, TierDay, WINDOWS,
};
use tierline_store::{Cursor, EventStore};
use tracing::{info, warn};

use crate::{Clock, ProjectorError};

/// What a reader needs of one supplier, as of [`Snapshot::day`].
#[derive(Debug, Clone)]
pub struct SupplierView {
    /// Supplier id.
    pub supplier_id: String,
    /// Every (indicator, day) total, for past dates and history.
    pub totals: BTreeMap<(Indicator, Date), Agg>,
    /// Scorecards on the 30/90/365-day windows as of the snapshot's day.
    pub scorecards: Vec<Scorecard>,
    /// The tier walk from the first day to the snapshot's day.
    pub tiers: Vec<TierDay>,
    /// Every alert episode up to the snapshot's day.
    pub episodes: Vec<Episode>,
    /// The latest `occurred_at` among its events.
    pub last_event_at: Option<Timestamp>,
}

/// All suppliers as of one day and one store position.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The day the views are evaluated on.
    pub day: Date,
    /// Per supplier.
    pub suppliers: BTreeMap<String, Arc<SupplierView>>,
    /// Events applied.
    pub events: u64,
    /// Whether the projection had caught up with the store when this was taken.
    pub caught_up: bool,
}

/// The shared, swappable snapshot.
#[derive(Debug, Clone)]
pub struct MemoryProjection {
    current: Arc<RwLock<Arc<Snapshot>>>,
    policy: Arc<Policy>,
}

impl MemoryProjection {
    /// An empty projection for `policy`.
    pub fn new(policy: Arc<Policy>) -> MemoryProjection {
        MemoryProjection {
            current: Arc::new(RwLock::new(Arc::new(Snapshot {
                day: Date(0),
                suppliers: BTreeMap::new(),
                events: 0,
                caught_up: false,
            }))),
            policy,
        }
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The policy.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    fn publish(&self, s: Snapshot) {
        let s = Arc::new(s);
        match self.current.write() {
            Ok(mut g) => *g = s,
            Err(p) => *p.into_inner() = s,
        }
    }

    /// Follows `store` from its beginning until `stop` resolves: applies events in
    /// pages, publishing a snapshot at most every `publish_every` while loading and
    /// after every page once caught up (and when the day changes).
    pub async fn run<S: EventStore>(
        &self,
        store: S,
        codec: Codec,
        clock: Arc<dyn Clock>,
        publish_every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), ProjectorError> {
        let mut ledgers: HashMap<String, SupplierLedger> = HashMap::new();
        let mut last_event: HashMap<String, Timestamp> = HashMap::new();
        let mut cursor = Cursor::START;
        let mut touched: std::collections::BTreeSet<String> = Default::default();
        let mut views: BTreeMap<String, Arc<SupplierView>> = BTreeMap::new();
        let mut day = Date(0);
        let mut events = 0u64;
        let mut last_publish = Instant::now();
        let started = Instant::now();
        let mut announced = false;
        let mut published_caught_up = false;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let page = match store.read_global(cursor, 20_000).await {
                Ok(p) => p,
                Err(e) if e.is_transient() => {
                    warn!(error = %e, "store unavailable; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for e in &page {
                let record = e.decode(&codec).map_err(|err| ProjectorError::Unreadable {
                    position: e.position,
                    reason: err.to_string(),
                })?;
                cursor = e.cursor;
                ledgers
                    .entry(e.supplier_id.clone())
                    .or_insert_with(|| {
                        SupplierLedger::new(e.supplier_id.clone(), self.policy.clone())
                    })
                    .stage(&record);
                let last = last_event
                    .entry(e.supplier_id.clone())
                    .or_insert(e.occurred_at);
                *last = (*last).max(e.occurred_at);
                touched.insert(e.supplier_id.clone());
            }
            // Each ledger recomputes the entities of a page once.
            for id in &touched {
                if let Some(l) = ledgers.get_mut(id) {
                    l.settle();
                }
            }
            events += page.len() as u64;
            let caught_up = page.is_empty();
            let today = clock.today(&self.policy);
            let rollover = today != day;
            if rollover {
                touched.extend(ledgers.keys().cloned());
            }
            let due = caught_up || last_publish.elapsed() >= publish_every;
            let changed = !touched.is_empty() || rollover || caught_up != published_caught_up;
            if changed && due {
                for id in std::mem::take(&mut touched) {
                    if let Some(l) = ledgers.get(&id) {
                        views.insert(
                            id.clone(),
                            Arc::new(view(l, today, last_event.get(&id).copied())),
                        );
                    }
                }
                day = today;
                self.publish(Snapshot {
                    day,
                    suppliers: views.clone(),
                    events,
                    caught_up,
                });
                last_publish = Instant::now();
                published_caught_up = caught_up;
            }
            if caught_up {
                if !announced {
                    announced = true;
                    info!(
                        events,
                        suppliers = ledgers.len(),
                        secs = started.elapsed().as_secs_f64(),
                        "projections caught up with the store"
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

fn view(l: &SupplierLedger, today: Date, last_event_at: Option<Timestamp>) -> SupplierView {
    SupplierView {
        supplier_id: l.supplier_id().to_owned(),
        totals: l
            .daily_totals()
            .map(|(i, d, a)| ((i, d), a.clone()))
            .collect(),
        scorecards: WINDOWS.iter().map(|w| l.scorecard(today, *w)).collect(),
        tiers: l.tier_history(today),
        episodes: l.alert_episodes(today),
        last_event_at,
    }
}
