//! Making a pending batch durable: dead letters first, then events, quarantine rows and
//! offsets in one store transaction, then the Kafka commit; retried with backoff.

use super::*;

impl<S: EventStore + 'static> Context<S> {
    /// Makes the pending batch durable: dead letters produced, then events, quarantine
    /// rows and offsets in one store transaction, then the Kafka commit. Failures are
    /// retried until `deadline`, or with none until a stop is requested. Returns false
    /// if it gave up.
    pub(super) fn flush(&self, consumer: &BaseConsumer<Self>, deadline: Option<Instant>) -> bool {
        let mut p = lock(&self.pending);
        if p.is_empty() {
            return true;
        }
        let give_up = || {
            deadline.is_some_and(|d| Instant::now() >= d)
                || (self.stop.load(Ordering::Relaxed) && deadline.is_none())
        };
        let span = info_span!(
            "flush",
            events = p.events.len(),
            rejected = p.rejected.len()
        );
        let _e = span.enter();
        let mut backoff = Backoff::new();

        while !p.dead_lettered && !p.rejected.is_empty() {
            match self.dead_letter(&p.rejected) {
                Ok(()) => p.dead_lettered = true,
                Err(e) => {
                    self.metrics.dead_letter_retries.inc();
                    warn!(error = %e, "dead-letter topic unavailable; retrying");
                    if give_up() {
                        return false;
                    }
                    backoff.sleep();
                }
            }
        }

        let batch = AppendBatch {
            events: std::mem::take(&mut p.events),
            offsets: p
                .offsets
                .iter()
                .map(|((topic, partition), next)| OffsetUpdate {
                    group: self.cfg.group.clone(),
                    topic: topic.clone(),
                    partition: *partition,
                    next_offset: *next,
                })
                .collect(),
            quarantine: std::mem::take(&mut p.rejected),
            recorded_at: self.cfg.recording_clock.as_ref().map(|c| c.0.now()),
        };
        let outcome = loop {
            match self.rt.block_on(self.store.append(&batch)) {
                Ok(o) => break o,
                Err(e) => {
                    self.metrics.store_retries.inc();
                    if e.is_transient() {
                        warn!(error = %e, "store unavailable; retrying");
                    } else {
                        error!(error = %e, "store refused the batch; retrying");
                    }
                    if give_up() {
                        // Put the batch back so a later flush (or the next owner) has it.
                        p.events = batch.events;
                        p.rejected = batch.quarantine;
                        return false;
                    }
                    backoff.sleep();
                }
            }
        };
        fault_pause_after_commit();

        // Conflicts were quarantined by the store; they go to the dead-letter topic too.
        let conflicts: Vec<Quarantined> = batch
            .events
            .iter()
            .zip(&outcome.results)
            .filter_map(|(e, r)| match r {
                Appended::Conflict { position } => Some(e.conflict_row(*position)),
                _ => None,
            })
            .collect();
        let mut tries = 0;
        while !conflicts.is_empty() {
            match self.dead_letter(&conflicts) {
                Ok(()) => break,
                Err(e) if tries < 20 => {
                    tries += 1;
                    warn!(error = %e, "dead-letter topic unavailable; retrying");
                    backoff.sleep();
                }
                Err(e) => {
                    error!(error = %e, "conflicts are quarantined but not on the dead-letter topic");
                    break;
                }
            }
        }

        for (e, r) in batch.events.iter().zip(&outcome.results) {
            let topic = e
                .origin
                .as_ref()
                .map(|o| o.topic.clone())
                .unwrap_or_default();
            match r {
                Appended::New => self
                    .metrics
                    .events_appended
                    .get_or_create(&TopicLabel { topic })
                    .inc(),
                Appended::Duplicate { .. } => self
                    .metrics
                    .duplicates_suppressed
                    .get_or_create(&TopicLabel { topic })
                    .inc(),
                Appended::Conflict { .. } => self
                    .metrics
                    .dead_letters
                    .get_or_create(&DeadLetterLabels {
                        topic,
                        reason: tierline_store::CONFLICT_CODE.into(),
                    })
                    .inc(),
            };
        }
        for q in &batch.quarantine {
            let topic = q
                .origin
                .as_ref()
                .map(|o| o.topic.clone())
                .unwrap_or_default();
            self.metrics
                .dead_letters
                .get_or_create(&DeadLetterLabels {
                    topic,
                    reason: q.reason_code.clone(),
                })
                .inc();
        }
        if let Some(t) = p.first_at {
            self.metrics
                .batch_seconds
                .observe(t.elapsed().as_secs_f64());
        }

        // For tooling only: the database holds the offsets that count.
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), next) in &p.offsets {
            let _ = tpl.add_partition_offset(topic, *partition, Offset::Offset(*next));
        }
        if let Err(e) = consumer.commit(&tpl, CommitMode::Async) {
            debug!(error = %e, "kafka commit failed (informational only)");
        }
        info!(
            appended = outcome.new_count(),
            duplicates = outcome.duplicate_count(),
            conflicts = outcome.conflict_count(),
            dead_letters = batch.quarantine.len(),
            "batch committed"
        );
        *p = Pending::default();
        true
    }

    /// Sends rejected messages to the dead-letter topic and waits until the broker has them.
    fn dead_letter(&self, rejected: &[Quarantined]) -> Result<(), rdkafka::error::KafkaError> {
        let producer = &self.producer;
        let dlq = self.cfg.topic_dead_letter.as_str();
        self.rt.block_on(async {
            let mut sends = Vec::with_capacity(rejected.len());
            for q in rejected {
                let mut headers = OwnedHeaders::new_with_capacity(q.headers.len() + 5);
                for (k, v) in &q.headers {
                    headers = headers.insert(Header {
                        key: k,
                        value: v.as_deref(),
                    });
                }
                let (topic, partition, offset) = q
                    .origin
                    .as_ref()
                    .map(|o| {
                        (
                            o.topic.clone(),
                            o.partition.to_string(),
                            o.offset.to_string(),
                        )
                    })
                    .unwrap_or_default();
                headers = headers
                    .insert(Header {
                        key: DLQ_SOURCE_TOPIC,
                        value: Some(topic.as_bytes()),
                    })
                    .insert(Header {
                        key: DLQ_SOURCE_PARTITION,
                        value: Some(partition.as_bytes()),
                    })
                    .insert(Header {
                        key: DLQ_SOURCE_OFFSET,
                        value: Some(offset.as_bytes()),
                    })
                    .insert(Header {
                        key: DLQ_REASON_CODE,
                        value: Some(q.reason_code.as_bytes()),
                    })
                    .insert(Header {
                        key: DLQ_REASON,
                        value: Some(q.reason.as_bytes()),
                    });
                let mut record = FutureRecord::to(dlq)
                    .payload(q.value.as_slice())
                    .headers(headers);
                if let Some(k) = &q.key {
                    record = record.key(k.as_slice());
                }
                sends.push(producer.send(record, Duration::from_secs(10)));
            }
            for s in sends {
                s.await.map_err(|(e, _)| e)?;
            }
            Ok(())
        })
    }
}
