//! Seeding a database through the real store and projector, for tests and benchmarks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tierline_clock::FixedClock;
use tierline_events::sample::{Behaviour, scripted_supplier};
use tierline_events::{Codec, Date, Framing, Record};
use tierline_projector::{Projector, ProjectorError};
use tierline_scoring::Policy;
use tierline_store::{AppendBatch, EventStore, NewEvent, Store, StoreError};

/// Errors while seeding.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The projector failed.
    #[error(transparent)]
    Projector(#[from] ProjectorError),
    /// A record did not encode (a bug in the generator).
    #[error("record cannot be framed: {0}")]
    Encode(String),
    /// The projector did not see every event in time.
    #[error("projected {done} of {want} events within the deadline")]
    Timeout {
        /// Projected.
        done: usize,
        /// Appended.
        want: usize,
    },
}

/// Noon of `today`: the clock the fixtures pin.
pub fn noon(today: Date) -> FixedClock {
    FixedClock::noon(today)
}

/// The fixture population: steady good suppliers, late ones, a quality collapse, a
/// dear one.
pub fn population() -> Vec<(String, Behaviour)> {
    let b = |days_late, defect_rate, price_premium| Behaviour {
        days_late,
        defect_rate,
        price_premium,
    };
    vec![
        ("ACME-01".into(), b(0, 0.0, 0.0)),
        ("ACME-02".into(), b(0, 0.002, 0.0)),
        ("LATE-01".into(), b(4, 0.0, 0.0)),
        ("QUAL-01".into(), b(0, 0.08, 0.0)),
        ("DEAR-01".into(), b(1, 0.01, 0.09)),
    ]
}

/// `days` days of [`population`] up to `today`, plus a sparse (UNRATED) supplier with
/// two days of events.
pub fn population_records(today: Date, days: i32) -> Vec<Record> {
    let start = Date(today.0 - days + 1);
    let mut out: Vec<Record> = population()
        .into_iter()
        .flat_map(|(id, b)| scripted_supplier(&id, start, days, b))
        .collect();
    out.extend(scripted_supplier(
        "SPARSE-01",
        Date(today.0 - 1),
        2,
        Behaviour {
            days_late: 0,
            defect_rate: 0.0,
            price_premium: 0.0,
        },
    ));
    out
}

/// The scoring engine's view of `records`: one ledger per supplier (what tests compare
/// the API's numbers with).
pub fn ledgers(
    records: &[Record],
    policy: &Arc<Policy>,
) -> std::collections::BTreeMap<String, tierline_scoring::SupplierLedger> {
    let mut out = std::collections::BTreeMap::new();
    for r in records {
        if let Some(env) = r.envelope() {
            let id = env.supplier_id.to_owned();
            out.entry(id.clone())
                .or_insert_with(|| tierline_scoring::SupplierLedger::new(id, policy.clone()))
                .apply(r);
        }
    }
    out
}

/// Appends `records` to the store (either backend), framed as producers would send them.
pub async fn append<S: EventStore>(store: &S, records: &[Record]) -> Result<(), SeedError> {
    append_at(store, records, None).await
}

/// [`append`], recorded at `recorded_at` (`None`: now), as a service on a test clock does.
pub async fn append_at<S: EventStore>(
    store: &S,
    records: &[Record],
    recorded_at: Option<tierline_events::Timestamp>,
) -> Result<(), SeedError> {
    let codec = Codec::default();
    for chunk in records.chunks(5000) {
        let mut events = Vec::with_capacity(chunk.len());
        for r in chunk {
            let bytes = codec
                .to_bytes(r, Framing::Confluent)
                .map_err(|e| SeedError::Encode(e.to_string()))?;
            let decoded = codec
                .decode(&bytes)
                .map_err(|e| SeedError::Encode(e.to_string()))?;
            events.push(
                NewEvent::from_decoded(decoded, bytes)
                    .map_err(|e| SeedError::Encode(e.to_string()))?,
            );
        }
        store
            .append(&AppendBatch {
                events,
                recorded_at,
                ..Default::default()
            })
            .await?;
    }
    Ok(())
}

/// Runs the projector until it has projected `want` events (the global cursor waits
/// for every older transaction on the server, so it polls).
pub async fn project(
    store: &Store,
    policy: Arc<Policy>,
    clock: &FixedClock,
    want: usize,
) -> Result<(), SeedError> {
    let mut p = Projector::open(store.clone(), Codec::default(), policy, "main").await?;
    let result = project_with(&mut p, clock, want).await;
    p.release().await;
    result
}

async fn project_with(p: &mut Projector, clock: &FixedClock, want: usize) -> Result<(), SeedError> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut done = 0;
    while done < want {
        if Instant::now() > deadline {
            return Err(SeedError::Timeout { done, want });
        }
        let n = p.step(clock, 5000).await?;
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        done += n;
    }
    Ok(())
}
