//! The consumer loop. It runs on its own thread with a `BaseConsumer`, so that the
//! rebalance callback (called inside `poll`) can finish the in-flight batch and read
//! the stored offsets before partitions change hands.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tierline_events::{CeHeaders, Codec};
use tierline_registry::{Resolution, Resolver};
use tierline_store::{
    AppendBatch, Appended, EventStore, KafkaOrigin, NewEvent, OffsetUpdate, Quarantined,
};
use tokio::runtime::Handle;
use tracing::{debug, error, info, info_span, warn};

use crate::config::IngestConfig;
use crate::metrics::{DeadLetterLabels, Metrics, OutcomeLabel, PartitionLabels, TopicLabel};
use crate::{Health, IngestError, RetentionGap};

mod flush;

/// Dead-letter headers naming where a message came from and why it was rejected.
pub const DLQ_SOURCE_TOPIC: &str = "tierline.dlq.source.topic";
/// See [`DLQ_SOURCE_TOPIC`].
pub const DLQ_SOURCE_PARTITION: &str = "tierline.dlq.source.partition";
/// See [`DLQ_SOURCE_TOPIC`].
pub const DLQ_SOURCE_OFFSET: &str = "tierline.dlq.source.offset";
/// Short reason code (`DecodeError::reason_code`, `conflicting-duplicate`, ...).
pub const DLQ_REASON_CODE: &str = "tierline.dlq.reason.code";
/// The full reason.
pub const DLQ_REASON: &str = "tierline.dlq.reason";

/// Locks a mutex even if a panic poisoned it: the data stays consistent (every
/// update here is a single assignment or push), and dropping a message is worse.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Messages read but not yet durable.
#[derive(Default)]
struct Pending {
    events: Vec<NewEvent>,
    rejected: Vec<Quarantined>,
    /// Next offset per (topic, partition).
    offsets: BTreeMap<(String, i32), i64>,
    first_at: Option<Instant>,
    /// The rejected messages are already on the dead-letter topic (a retry of the
    /// store must not send them again).
    dead_lettered: bool,
}

impl Pending {
    fn len(&self) -> usize {
        self.events.len() + self.rejected.len()
    }
    fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }
}

pub(crate) struct Context<S> {
    cfg: IngestConfig,
    codec: Codec,
    /// With a schema registry: resolves Confluent ids before they are decoded.
    resolver: Option<Resolver>,
    store: Arc<S>,
    rt: Handle,
    producer: FutureProducer,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    stop: Arc<AtomicBool>,
    pending: Mutex<Pending>,
    /// Next offset expected per partition, to notice offsets the broker deleted.
    expected: Mutex<HashMap<(String, i32), i64>>,
}

impl<S: EventStore + 'static> ClientContext for Context<S> {
    fn stats(&self, stats: Statistics) {
        for (topic, t) in &stats.topics {
            for (id, p) in &t.partitions {
                if *id >= 0 && p.consumer_lag >= 0 {
                    let labels = PartitionLabels {
                        topic: topic.clone(),
                        partition: id.to_string(),
                    };
                    self.metrics
                        .consumer_lag
                        .get_or_create(&labels)
                        .set(p.consumer_lag);
                }
            }
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        warn!(%error, reason, "kafka client error");
        if matches!(
            error.rdkafka_error_code(),
            Some(rdkafka::types::RDKafkaErrorCode::AllBrokersDown)
        ) {
            self.health.broker_ok.store(false, Ordering::Relaxed);
        }
    }
}

impl<S: EventStore + 'static> ConsumerContext for Context<S> {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let _span = info_span!("assign", partitions = tpl.count()).entered();
                // Cooperative assignors (`partition.assignment.strategy=cooperative-sticky`)
                // hand out and take back partitions incrementally.
                let cooperative = matches!(
                    consumer.rebalance_protocol(),
                    RebalanceProtocol::Cooperative
                );
                if let Err(e) = self.position_from_store(tpl) {
                    // Without the stored offsets nothing may be consumed: take no partitions
                    // now; the group will hand them out again.
                    error!(error = %e, "cannot read stored offsets; declining the assignment");
                    if !cooperative {
                        let _ = consumer.assign(&TopicPartitionList::new());
                    }
                    return;
                }
                let done = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                if let Err(e) = done {
                    error!(error = %e, "assign failed");
                }
                let held = consumer.assignment().map_or(tpl.count(), |a| a.count());
                self.health.assigned.store(held, Ordering::Relaxed);
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let _span = info_span!("revoke", partitions = tpl.count()).entered();
                let cooperative = matches!(
                    consumer.rebalance_protocol(),
                    RebalanceProtocol::Cooperative
                );
                // Finish the in-flight batch while the partitions are still ours; if the
                // store cannot take it in time: eagerly, every partition goes, so the batch
                // is abandoned (its offsets were not stored: the next owner reads the same
                // messages again); cooperatively, the partitions kept are still being read
                // past the batch, so it stays pending and is stored later (events are
                // deduplicated and stored offsets only move forward).
                let deadline = Instant::now() + Duration::from_secs(10);
                if !self.flush(consumer, Some(deadline)) && !cooperative {
                    self.abandon();
                }
                let done = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = done {
                    error!(error = %e, "unassign failed");
                }
                let held = if cooperative {
                    consumer.assignment().map_or(0, |a| a.count())
                } else {
                    0
                };
                self.health.assigned.store(held, Ordering::Relaxed);
                let mut expected = lock(&self.expected);
                if cooperative {
                    for e in tpl.elements() {
                        expected.remove(&(e.topic().to_owned(), e.partition()));
                    }
                } else {
                    expected.clear();
                }
            }
            other => error!(error = ?other, "rebalance error"),
        }
    }
}

impl<S: EventStore + 'static> Context<S> {
    /// Sets each assigned partition's start to the offset stored in the database
    /// (the Kafka commit is only for tooling); the beginning if none is stored.
    fn position_from_store(
        &self,
        tpl: &mut TopicPartitionList,
    ) -> Result<(), tierline_store::StoreError> {
        let mut stored: HashMap<String, HashMap<i32, i64>> = HashMap::new();
        let elements: Vec<(String, i32)> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        for (topic, _) in &elements {
            if !stored.contains_key(topic) {
                let offsets = self
                    .rt
                    .block_on(self.store.consumer_offsets(&self.cfg.group, topic))?;
                stored.insert(topic.clone(), offsets.into_iter().collect());
            }
        }
        let mut expected = lock(&self.expected);
        for (topic, partition) in elements {
            let start = stored.get(&topic).and_then(|m| m.get(&partition)).copied();
            let offset = start.map_or(Offset::Beginning, Offset::Offset);
            if let Err(e) = tpl.set_partition_offset(&topic, partition, offset) {
                error!(%topic, partition, error = %e, "cannot set start offset");
            }
            info!(%topic, partition, stored = ?start, "assigned");
            if let Some(s) = start {
                expected.insert((topic, partition), s);
            }
        }
        Ok(())
    }

    /// Reads one message into the pending batch: an event, or a rejected message.
    /// `false` when stopping before it could be read (it is read again on restart).
    fn accept(&self, consumer: &BaseConsumer<Self>, msg: &BorrowedMessage<'_>) -> bool {
        let value = msg.payload().unwrap_or_default();
        if let (Some(resolver), Some(id)) = (&self.resolver, Codec::confluent_id(value))
            && !resolver.holds(id)
            && !self.resolve(consumer, resolver, id)
        {
            return false;
        }
        let topic = msg.topic().to_owned();
        let (partition, offset) = (msg.partition(), msg.offset());
        self.check_retention(consumer, &topic, partition, offset);
        let key = msg.key().map(<[u8]>::to_vec);
        let headers: Vec<(String, Option<Vec<u8>>)> = msg
            .headers()
            .map(|h| {
                h.iter()
                    .map(|x| (x.key.to_owned(), x.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let origin = KafkaOrigin {
            topic: topic.clone(),
            partition,
            offset,
        };
        let ce = CeHeaders::from_pairs(headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())));
        let outcome = self
            .codec
            .decode_with_headers(value, ce)
            .map_err(|e| (e.reason_code().to_owned(), e.to_string()))
            .and_then(|d| {
                NewEvent::from_decoded(d, value.to_vec())
                    .map_err(|e| ("not-inbound".to_owned(), e.to_string()))
            });
        let mut pending = lock(&self.pending);
        match outcome {
            Ok(event) => pending
                .events
                .push(event.with_message(origin, key, headers)),
            Err((reason_code, reason)) => {
                debug!(%topic, partition, offset, %reason, "rejected");
                pending.rejected.push(Quarantined {
                    origin: Some(origin),
                    key,
                    value: value.to_vec(),
                    headers,
                    reason_code,
                    reason,
                });
                pending.dead_lettered = false;
            }
        }
        pending.offsets.insert((topic, partition), offset + 1);
        pending.first_at.get_or_insert_with(Instant::now);
        true
    }

    /// Resolves a registry id before its message is decoded. A registry that does not
    /// answer is not the message's fault: what was read so far is stored, readiness
    /// turns 503, and the lookup is retried until it answers; `false` if told to stop
    /// meanwhile.
    fn resolve(&self, consumer: &BaseConsumer<Self>, resolver: &Resolver, id: u32) -> bool {
        let mut failures = 0u32;
        let mut backoff = Backoff::new();
        loop {
            let outcome = match self.rt.block_on(resolver.ensure(id)) {
                Ok(Resolution::Cached) => return true,
                Ok(Resolution::Fetched) => "fetched",
                Ok(Resolution::Missing) => "missing",
                Ok(Resolution::Rejected(_)) => "rejected",
                Err(e) => {
                    self.count_lookup("failed");
                    self.health.registry_down.store(true, Ordering::Relaxed);
                    if failures == 0 {
                        error!(id, error = %e, "schema registry lookup failed; consumption waits for it");
                        self.flush(consumer, None);
                    }
                    failures += 1;
                    if self.stop.load(Ordering::Relaxed) {
                        return false;
                    }
                    backoff.sleep();
                    continue;
                }
            };
            self.count_lookup(outcome);
            if failures > 0 {
                info!(id, failures, "schema registry answers again");
            }
            self.health.registry_down.store(false, Ordering::Relaxed);
            return true;
        }
    }

    fn count_lookup(&self, outcome: &str) {
        self.metrics
            .schema_registry_lookups
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Offsets that jump past the log start were deleted by the broker before anyone
    /// consumed them: say so loudly, then carry on from the log start.
    fn check_retention(
        &self,
        consumer: &BaseConsumer<Self>,
        topic: &str,
        partition: i32,
        offset: i64,
    ) {
        let mut expected = lock(&self.expected);
        let key = (topic.to_owned(), partition);
        if let Some(&next) = expected.get(&key)
            && offset > next
        {
            // Transaction markers also skip offsets: only the log start tells.
            if let Ok((low, _high)) =
                consumer.fetch_watermarks(topic, partition, Duration::from_secs(5))
                && low > next
            {
                let lost = low.min(offset) - next;
                error!(
                    topic,
                    partition,
                    from = next,
                    to = low,
                    lost,
                    "retention gap: the broker deleted offsets nobody consumed"
                );
                let labels = PartitionLabels {
                    topic: topic.to_owned(),
                    partition: partition.to_string(),
                };
                self.metrics
                    .retention_lost_offsets
                    .get_or_create(&labels)
                    .inc_by(lost as u64);
                {
                    let mut gaps = lock(&self.health.retention_gaps);
                    gaps.push(RetentionGap {
                        topic: topic.to_owned(),
                        partition,
                        from_offset: next,
                        to_offset: low,
                        lost,
                    });
                }
            }
        }
        expected.insert(key, offset + 1);
    }

    fn due(&self) -> bool {
        let p = lock(&self.pending);
        p.len() >= self.cfg.batch_size
            || p.first_at.is_some_and(|t| t.elapsed() >= self.cfg.linger())
    }

    fn abandon(&self) {
        let mut p = lock(&self.pending);
        if !p.is_empty() {
            warn!(
                messages = p.len(),
                "abandoning the in-flight batch; its messages will be read again"
            );
        }
        *p = Pending::default();
    }
}

/// Test hook: pause right after the database commit, before the Kafka commit, so a
/// test can SIGKILL the process in exactly that window.
fn fault_pause_after_commit() {
    static PAUSE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let pause = PAUSE.get_or_init(|| {
        std::env::var("TIERLINE_FAULT_PAUSE_AFTER_DB_COMMIT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(ms) = pause {
        eprintln!("fault: database commit done, pausing {ms} ms before the Kafka commit");
        std::thread::sleep(Duration::from_millis(*ms));
    }
}

struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Backoff(Duration::from_millis(100))
    }
    fn sleep(&mut self) {
        std::thread::sleep(self.0);
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
    }
}

/// Runs the consumer until `stop` is set; then finishes the batch and leaves.
pub(crate) fn run<S: EventStore + 'static>(
    cfg: IngestConfig,
    (codec, resolver): (Codec, Option<Resolver>),
    store: Arc<S>,
    rt: Handle,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    stop: Arc<AtomicBool>,
) -> Result<(), IngestError> {
    let base = cfg.kafka.client_config()?;
    let mut producer_cfg = base.clone();
    producer_cfg
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5");
    let producer: FutureProducer = producer_cfg.create()?;
    let mut consumer_cfg = base;
    consumer_cfg
        .set("group.id", &cfg.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("statistics.interval.ms", "5000")
        // A store outage is waited out inside a flush, without polling.
        .set("max.poll.interval.ms", "600000");
    // Incremental rebalancing unless the operator chose an assignor: members keep their
    // partitions while others join or leave, and a member's rejoin carries what it owns
    // (which is also what makes tansu 0.6.0 hand a dead member's partitions over).
    if consumer_cfg.get("partition.assignment.strategy").is_none() {
        consumer_cfg.set("partition.assignment.strategy", "cooperative-sticky");
    }
    let context = Context {
        cfg: cfg.clone(),
        codec,
        resolver,
        store,
        rt,
        producer,
        metrics,
        health: health.clone(),
        stop: stop.clone(),
        pending: Mutex::new(Pending::default()),
        expected: Mutex::new(HashMap::new()),
    };
    let consumer: BaseConsumer<Context<S>> = consumer_cfg.create_with_context(context)?;
    consumer.subscribe(&cfg.inbound_topics())?;
    info!(group = %cfg.group, topics = ?cfg.inbound_topics(), "ingest consuming");
    let mut last_probe = Instant::now() - Duration::from_secs(60);
    while !stop.load(Ordering::Relaxed) {
        match consumer.poll(Duration::from_millis(50)) {
            Some(Ok(msg)) => {
                if !consumer.context().accept(&consumer, &msg) {
                    break;
                }
                health.broker_ok.store(true, Ordering::Relaxed);
            }
            Some(Err(e)) => warn!(error = %e, "consumer error"),
            None => {}
        }
        if consumer.context().due() {
            consumer.context().flush(&consumer, None);
        }
        if last_probe.elapsed() >= Duration::from_secs(5) {
            last_probe = Instant::now();
            let ok = consumer
                .fetch_metadata(Some(cfg.topic_deliveries.as_str()), Duration::from_secs(2))
                .is_ok();
            health.broker_ok.store(ok, Ordering::Relaxed);
        }
    }
    info!("stopping: finishing the in-flight batch");
    let done = consumer
        .context()
        .flush(&consumer, Some(Instant::now() + Duration::from_secs(30)));
    consumer.unsubscribe();
    if done {
        Ok(())
    } else {
        Err(IngestError::Unfinished)
    }
}
