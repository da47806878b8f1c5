//! `tierline demo`: everything in one process on embedded defaults. librdkafka's
//! in-process mock cluster is the broker, a SQLite file the store and the read model;
//! ingest, the projector, the relay (publishing alerts and tier changes to the mock
//! cluster's alerts topic) and the API run as in production, and the simulator feeds a
//! year of history (paced by what ingest has stored, so the mock cluster's small
//! retention never drops an event) and then a live stream. While history loads, the
//! projector's and the API's clock is pinned to the last loaded day, so the dashboard
//! shows the population as it was then. Running it again on the same data directory
//! resumes.

mod feed;
mod progress;
mod services;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::FutureProducer;
use serde::{Deserialize, Serialize};
use tierline_clock::{Clock, PinnableClock, SystemClock};
use tierline_events::{Codec, Date};
use tierline_sim::{SimConfig, Simulator};
use tierline_store::{EventStore, Store};

pub(crate) use feed::Feed;
use progress::{end_of, progress};
use services::{ALERTS_TOPIC, Services, serve_api, start_services};

/// The demo's settings.
#[derive(clap::Args, Debug)]
pub(crate) struct DemoArgs {
    /// Where the store and the demo's progress are kept (created if missing).
    #[arg(long, env = "TIERLINE_DEMO_DIR", default_value = "data/demo")]
    data_dir: PathBuf,
    /// Address of the dashboard and the API.
    #[arg(long, env = "TIERLINE_DEMO_HTTP", default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    #[command(flatten)]
    sim: SimArgs,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, env = "TIERLINE_DEMO_RUN_FOR")]
    run_for: Option<u64>,
}

/// The simulated population (the demo uses them on its first run only; a resumed demo
/// keeps its population).
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct SimArgs {
    /// Suppliers to simulate.
    #[arg(long, env = "TIERLINE_SIM_SUPPLIERS", default_value_t = 300)]
    pub(crate) suppliers: usize,
    /// Days of history up to today.
    #[arg(long, env = "TIERLINE_SIM_DAYS", default_value_t = 365)]
    pub(crate) days: i32,
    /// Seed: the same seed gives the same events.
    #[arg(long, env = "TIERLINE_SIM_SEED", default_value_t = 1)]
    pub(crate) seed: u64,
    /// Live events per second after the history (in bursts of 3 per supplier).
    #[arg(long, env = "TIERLINE_SIM_LIVE_PER_SECOND", default_value_t = 3)]
    pub(crate) live_per_second: usize,
}

/// Progress kept in the data directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DemoState {
    seed: u64,
    suppliers: usize,
    start: i32,
    days: i32,
    /// History days fully produced and stored.
    days_done: i32,
    /// Live bursts produced.
    live_events: u64,
}

/// Events the simulator may produce ahead of what ingest has stored.
const IN_FLIGHT: usize = 20_000;

fn load_state(path: &PathBuf, args: &DemoArgs, today: Date) -> Result<DemoState> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let s: DemoState =
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
        eprintln!(
            "resuming the demo in {} ({} suppliers, history {} of {} days loaded)",
            args.data_dir.display(),
            s.suppliers,
            s.days_done,
            s.days
        );
        return Ok(s);
    }
    Ok(DemoState {
        seed: args.sim.seed,
        suppliers: args.sim.suppliers,
        start: today.0 - args.sim.days + 1,
        days: args.sim.days,
        days_done: 0,
        live_events: 0,
    })
}

fn save_state(path: &PathBuf, s: &DemoState) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(s)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// One run of the demo: its progress, the simulator, the feed, and the clock the
/// projector and API read.
struct Session {
    state: DemoState,
    state_path: PathBuf,
    sim: Simulator,
    feed: Feed,
    clock: Arc<PinnableClock>,
    today: Date,
    stop_at: Option<Instant>,
}

impl Session {
    fn stopping(&self) -> bool {
        self.stop_at.is_some_and(|t| Instant::now() >= t)
    }

    fn last_history_day(&self) -> i32 {
        (self.state.start + self.state.days - 1).min(self.today.0)
    }

    /// Produces the history days not loaded yet (loaded ones are regenerated, the
    /// simulator being deterministic, but not produced), pacing by what ingest stored
    /// and moving the pinned clock along; then checks the store holds every event.
    async fn load_history(&mut self) -> Result<()> {
        let (start, last) = (self.state.start, self.last_history_day());
        let started = Instant::now();
        let pb = progress(last - start + 1, self.state.days_done);
        for d in start..=last {
            // Today only up to now: nothing is produced before it happens.
            let events = if d == self.today.0 {
                self.sim.emit_until(SystemClock.now())
            } else {
                self.sim.emit_day(Date(d))
            };
            if d - start < self.state.days_done {
                continue;
            }
            self.feed.produce(&events).await?;
            // Pace by what ingest has stored: the mock cluster keeps little.
            if self.feed.produced.len() > IN_FLIGHT {
                self.feed
                    .wait_stored(IN_FLIGHT / 2, Duration::from_secs(300))
                    .await?;
                self.clock.pin(end_of(d));
            }
            self.state.days_done = d - start + 1;
            pb.set_position(self.state.days_done as u64);
            if self.state.days_done % 10 == 0 || d == last {
                let stored = self.feed.stored().await?;
                save_state(&self.state_path, &self.state)?;
                pb.set_message(format!(
                    "{} ({}): {} events produced, {stored} stored, {:.0} events/s",
                    Date(d),
                    if d == self.today.0 { "today" } else { "loaded" },
                    self.feed.produced.len(),
                    self.feed.messages as f64 / started.elapsed().as_secs_f64().max(0.001)
                ));
            }
            if self.stopping() {
                break;
            }
        }
        pb.finish_and_clear();
        if self.state.days_done <= last - start {
            eprintln!(
                "history: {} of {} days loaded (the dashboard shows {}); run again to go on",
                self.state.days_done,
                self.state.days,
                Date(start + self.state.days_done - 1)
            );
            return Ok(());
        }
        let stored = self.feed.wait_stored(0, Duration::from_secs(300)).await?;
        self.clock.unpin();
        if stored != self.feed.produced.len() as u64 {
            bail!(
                "the store holds {stored} events but the simulator produced {}",
                self.feed.produced.len()
            );
        }
        if self.feed.messages > 0 {
            eprintln!(
                "history loaded in {:.1} s: the store holds every one of the {} distinct events produced ({} messages, duplicates included)",
                started.elapsed().as_secs_f64(),
                self.feed.produced.len(),
                self.feed.messages
            );
        } else {
            eprintln!("history already loaded; going live");
        }
        Ok(())
    }

    /// A burst every second (what the population does as time passes, plus fresh
    /// activity) until stopped by Ctrl-C, SIGTERM or `--run-for`.
    async fn live(&mut self, per_second: usize, services: &Services) -> Result<()> {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let live_start = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut last_report = Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = term.recv() => return Ok(()),
            }
            if self.stopping() {
                return Ok(());
            }
            let now = SystemClock.now();
            let mut burst = self.sim.emit_until(now);
            burst.extend(self.sim.live(now, per_second.div_ceil(3).max(1)));
            self.feed.produce(&burst).await?;
            self.state.live_events += burst.len() as u64;
            if last_report.elapsed() >= Duration::from_secs(30) {
                last_report = Instant::now();
                eprintln!(
                    "live: {} events in {:.0} s; {} stored, {} projected this run",
                    self.state.live_events,
                    live_start.elapsed().as_secs_f64(),
                    self.feed.stored().await?,
                    services.projected.events_projected.get(),
                );
            }
        }
    }
}

/// Opens (creating) the demo's SQLite store and read model in `dir`.
async fn open_store(codec: &Codec, dir: &std::path::Path) -> Result<Store> {
    let url = format!("sqlite://{}", dir.join("tierline.db").display());
    let store = Store::connect(&url, codec.clone())
        .await
        .context("opening the demo store")?;
    store.migrate().await.context("creating the store tables")?;
    tierline_projections::Projections::of(&store)
        .migrate()
        .await
        .context("creating the read model")?;
    Ok(store)
}

pub(crate) async fn run(
    codec: Codec,
    args: DemoArgs,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let today = SystemClock.today(&tierline_scoring::Policy::default());
    let state_path = args.data_dir.join("demo.json");
    let state = load_state(&state_path, &args, today)?;
    let store = open_store(&codec, &args.data_dir).await?;
    // The projector's and the API's clock: pinned to the last loaded day until the
    // history is in.
    let clock = Arc::new(PinnableClock::default());
    if state.days_done < state.days && state.start + state.days_done <= today.0 {
        clock.pin(end_of((state.start + state.days_done - 1).max(state.start)));
    }
    // The broker: librdkafka's mock cluster, in this process. A fresh cluster each run:
    // a fresh consumer group, so no stale offsets apply.
    let cluster = MockCluster::new(1).context("starting the mock Kafka cluster")?;
    let group = format!("tierline-demo-{}", SystemClock.now().0);
    let services = start_services(&codec, &store, &cluster, clock.clone(), group).await?;
    let addr = serve_api(&store, &codec, clock.clone(), args.http, limits).await?;
    println!("Tierline demo: dashboard http://{addr}/  API http://{addr}/v1/suppliers");
    println!(
        "Kafka (in-process mock cluster): {}  alerts on {ALERTS_TOPIC}",
        cluster.bootstrap_servers()
    );
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .context("creating the simulator's producer")?;
    let mut feed = Feed::new(producer, Some(store.clone()), codec.clone());
    feed.count_stored().await?;
    if !feed.produced.is_empty() {
        eprintln!("the store already holds {} events", feed.produced.len());
    }
    let mut session = Session {
        sim: Simulator::new(SimConfig {
            suppliers: state.suppliers,
            start: Date(state.start),
            days: state.days,
            seed: state.seed,
            late_arrival_rate: 0.02,
            duplicate_rate: 0.01,
        }),
        state,
        state_path,
        feed,
        clock,
        today,
        stop_at: args
            .run_for
            .map(|s| Instant::now() + Duration::from_secs(s)),
    };
    session.load_history().await?;
    session.live(args.sim.live_per_second, &services).await?;
    // Stop: everything produced is stored before we leave.
    let stored = session.feed.wait_stored(0, Duration::from_secs(60)).await?;
    save_state(&session.state_path, &session.state)?;
    services.stop().await?;
    let produced = session.feed.produced.len() as u64;
    let lost = produced.saturating_sub(stored);
    println!(
        "demo stopped: {produced} distinct events produced (this run and before), {stored} in the store, {lost} missing"
    );
    if lost > 0 {
        bail!("{lost} produced events are not in the store");
    }
    Ok(())
}
