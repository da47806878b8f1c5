//! The source-health gauges: measured from the read model every 15 s (see
//! [`Projector::set_source_health_every`]), also while idle (a dead feed is exactly when
//! nothing arrives).

use std::time::{Duration, Instant};

use tierline_clock::Clock;
use tierline_projections::health::{self, SourceStatus};

use super::{Projector, ProjectorError};
use crate::metrics::SourceLabel;

/// How often the gauges are measured by default.
pub(super) const EVERY: Duration = Duration::from_secs(15);

impl Projector {
    /// A projector upgraded from a release without source counts (its checkpoint past
    /// events, no counts yet) counts everything up to its checkpoint once, so the events
    /// the previous release projected are counted too.
    pub(super) async fn count_sources_if_new(&mut self) -> Result<(), ProjectorError> {
        if self.cursor.position == 0 || self.projections.has_source_days().await? {
            return Ok(());
        }
        let mut tx = self.projections.begin().await?;
        tx.recount_source_days(self.cursor).await?;
        if !tx.fence(&self.lease).await? {
            return Err(ProjectorError::Standby(self.lease.name.clone()));
        }
        tx.commit().await?;
        tracing::info!(upto = %self.cursor, "counted the events of every source (first start of this release)");
        Ok(())
    }

    /// How often the source-health gauges are measured (default 15 s; a query over a
    /// small table).
    pub fn set_source_health_every(&mut self, every: Duration) {
        self.sources_every = every;
    }

    /// Sets the source-health gauges, at most every `sources_every`.
    pub(super) async fn observe_sources(
        &mut self,
        clock: &dyn Clock,
    ) -> Result<(), ProjectorError> {
        let every = self.sources_every;
        if self.sources_observed.is_some_and(|t| t.elapsed() < every) {
            return Ok(());
        }
        self.sources_observed = Some(Instant::now());
        let health = self.projections.source_health(clock.now()).await?;
        let m = &self.metrics;
        for h in &health {
            let label = SourceLabel {
                source: h.source.clone(),
                record: health::short_name(&h.record_name).to_owned(),
            };
            m.source_silence_seconds
                .get_or_create(&label)
                .set(h.silent_seconds as f64);
            m.source_stale
                .get_or_create(&label)
                .set(i64::from(h.status == SourceStatus::Stale));
            m.source_events_yesterday
                .get_or_create(&label)
                .set(h.yesterday);
            m.source_baseline_daily_events
                .get_or_create(&label)
                .set(h.baseline_daily.unwrap_or(0.0));
        }
        Ok(())
    }
}
