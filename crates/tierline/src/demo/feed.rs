//! Producing simulated records to the inbound topics, and knowing what the store holds
//! of them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tierline_events::{Codec, Framing, Record};
use tierline_store::{EventStore, Store};

/// Produced records and, when a store is given, the pacing by what it holds.
pub(crate) struct Feed {
    producer: FutureProducer,
    store: Option<Store>,
    codec: Codec,
    pub(crate) produced: HashSet<(String, uuid::Uuid)>,
    pub(crate) messages: u64,
}

impl Feed {
    pub(crate) async fn produce(&mut self, records: &[Record]) -> Result<()> {
        let mut pending = Vec::with_capacity(records.len());
        for r in records {
            let env = r.envelope().context("simulated record without envelope")?;
            self.produced.insert((env.source.to_owned(), env.event_id));
            let bytes = self.codec.to_bytes(r, Framing::Confluent)?;
            let topic = r.kind().default_topic();
            let key = env.supplier_id.to_owned();
            let producer = &self.producer;
            pending.push(async move {
                let rec = FutureRecord::to(topic).key(&key).payload(&bytes);
                producer.send(rec, Duration::from_secs(30)).await
            });
        }
        self.messages += records.len() as u64;
        for r in futures_util::future::join_all(pending).await {
            r.map_err(|(e, _)| e)
                .context("producing to the mock cluster")?;
        }
        Ok(())
    }

    pub(crate) async fn stored(&self) -> Result<u64> {
        match &self.store {
            Some(s) => Ok(s.count().await? as u64),
            None => Ok(self.produced.len() as u64),
        }
    }

    /// Waits until the store is within `lag` events of what was produced.
    pub(crate) async fn wait_stored(&self, lag: usize, limit: Duration) -> Result<u64> {
        let deadline = Instant::now() + limit;
        loop {
            let stored = self.stored().await?;
            if stored + lag as u64 >= self.produced.len() as u64 {
                return Ok(stored);
            }
            if Instant::now() > deadline {
                bail!(
                    "ingest is behind: {stored} events stored of {} produced after {limit:?}",
                    self.produced.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A feed paced by `store` (or, without one, counting what was produced).
    pub(crate) fn new(producer: FutureProducer, store: Option<Store>, codec: Codec) -> Feed {
        Feed {
            producer,
            store,
            codec,
            produced: HashSet::new(),
            messages: 0,
        }
    }

    /// Counts what earlier runs stored as produced: the final check is that the store
    /// holds exactly the events produced, in this run or before.
    pub(crate) async fn count_stored(&mut self) -> Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let mut cursor = tierline_store::Cursor::START;
        loop {
            let page = store.read_global(cursor, 50_000).await?;
            let Some(last) = page.last() else { break };
            cursor = last.cursor;
            self.produced
                .extend(page.iter().map(|e| (e.source.clone(), e.event_id)));
        }
        Ok(())
    }
}
