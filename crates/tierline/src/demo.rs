//! `tierline demo`: everything in one process on embedded defaults. librdkafka's
//! in-process mock cluster is the broker, a SQLite file the store and the read model;
//! ingest, the projector, the relay (publishing alerts and tier changes to the mock
//! cluster's alerts topic) and the API run as in production, and the simulator feeds a
//! year of history (paced by what ingest has stored, so the mock cluster's small
//! retention never drops an event) and then a live stream. While history loads, the
//! projector's and the API's clock is pinned to the last loaded day, so the dashboard
//! shows the population as it was then. Running it again on the same data directory
//! resumes.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};
use tierline_clock::{Clock, PinnableClock, SystemClock};
use tierline_events::{Codec, Date, Framing, Record};
use tierline_sim::{SimConfig, Simulator};
use tierline_store::{EventStore, Store};

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
    suppliers: usize,
    /// Days of history up to today.
    #[arg(long, env = "TIERLINE_SIM_DAYS", default_value_t = 365)]
    days: i32,
    /// Seed: the same seed gives the same events.
    #[arg(long, env = "TIERLINE_SIM_SEED", default_value_t = 1)]
    seed: u64,
    /// Live events per second after the history (in bursts of 3 per supplier).
    #[arg(long, env = "TIERLINE_SIM_LIVE_PER_SECOND", default_value_t = 3)]
    live_per_second: usize,
}

/// `tierline simulate`: the simulator alone, producing to real topics.
#[derive(clap::Args, Debug)]
pub(crate) struct SimulateArgs {
    #[command(flatten)]
    sim: SimArgs,
    /// Kafka connection.
    #[command(flatten)]
    kafka: tierline_kafka::KafkaArgs,
    /// After the history, keep producing live events until stopped.
    #[arg(long, env = "TIERLINE_SIM_LIVE")]
    live: bool,
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

const IN_FLIGHT: usize = 20_000;

struct Feed {
    producer: FutureProducer,
    store: Option<Store>,
    codec: Codec,
    produced: HashSet<(String, uuid::Uuid)>,
    messages: u64,
}

impl Feed {
    async fn produce(&mut self, records: &[Record]) -> Result<()> {
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

    async fn stored(&self) -> Result<u64> {
        match &self.store {
            Some(s) => Ok(s.count().await? as u64),
            None => Ok(self.produced.len() as u64),
        }
    }

    /// Waits until the store is within `lag` events of what was produced.
    async fn wait_stored(&self, lag: usize, limit: Duration) -> Result<u64> {
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
}

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

/// The end of `day` (its last millisecond): the pinned clock while history loads.
fn end_of(day: i32) -> tierline_events::Timestamp {
    tierline_events::Timestamp((i64::from(day) + 1) * 86_400_000 - 1)
}

/// The history's progress bar (hidden when stderr is not a terminal; the summary lines
/// still print).
fn progress(days: i32, done: i32) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(days.max(0) as u64);
    pb.set_position(done.max(0) as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "history {bar:30} {pos}/{len} days  {msg}  (eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb
}

/// The services of the demo, as in production, on the SQLite store.
struct Services {
    ingest: tierline_ingest::Ingest,
    projector: tokio::task::JoinHandle<Result<(), tierline_projector::ProjectorError>>,
    relay: tokio::task::JoinHandle<()>,
    projected: Arc<tierline_projector::ProjectorMetrics>,
    stop: tokio::sync::watch::Sender<bool>,
}

async fn start_services(
    codec: &Codec,
    store: &Store,
    cluster: &MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    clock: Arc<dyn Clock>,
    group: String,
) -> Result<Services> {
    let policy = Arc::new(tierline_scoring::Policy::default());
    let ingest_cfg = {
        let mut c = tierline_ingest::IngestConfig::with_brokers(cluster.bootstrap_servers());
        c.group = group;
        // Bigger transactions: the history arrives as fast as the store takes it.
        c.batch_size = 5000;
        // The demo serves the API only; ingest's operator port is any free one.
        c.http = "127.0.0.1:0".parse()?;
        c
    };
    for t in ingest_cfg
        .inbound_topics()
        .into_iter()
        .chain([ingest_cfg.topic_dead_letter.as_str(), ALERTS_TOPIC])
    {
        cluster
            .create_topic(t, 3, 1)
            .with_context(|| format!("creating topic {t}"))?;
    }
    let ingest = tierline_ingest::Ingest::start(ingest_cfg, codec.clone(), Arc::new(store.clone()))
        .await
        .context("starting ingest")?;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut projector =
        tierline_projector::Projector::open(store.clone(), codec.clone(), policy, "main")
            .await
            .context("opening the projector")?;
    let projected = projector.metrics();
    let projector = {
        let (clock, stop) = (clock.clone(), stop_rx.clone());
        tokio::spawn(async move {
            projector
                .run(clock.as_ref(), 20_000, Duration::from_millis(200), stop)
                .await
        })
    };
    let mut kafka = ClientConfig::new();
    kafka.set("bootstrap.servers", cluster.bootstrap_servers());
    let relay = tierline_relay::Relay::new(
        tierline_projections::Projections::of(store),
        kafka,
        ALERTS_TOPIC,
        Arc::new(SystemClock),
    )
    .context("creating the relay")?;
    let relay =
        tokio::spawn(async move { relay.run(500, Duration::from_millis(200), stop_rx).await });
    Ok(Services {
        ingest,
        projector,
        relay,
        projected,
        stop,
    })
}

/// Where the demo publishes alerts and tier changes.
const ALERTS_TOPIC: &str = "srm.supplier-alerts.v1";

pub(crate) async fn run(
    codec: Codec,
    args: DemoArgs,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let system = SystemClock;
    let policy = Arc::new(tierline_scoring::Policy::default());
    let today = system.today(&policy);
    let state_path = args.data_dir.join("demo.json");
    let mut state = load_state(&state_path, &args, today)?;
    let url = format!("sqlite://{}", args.data_dir.join("tierline.db").display());
    let store = Store::connect(&url, codec.clone())
        .await
        .context("opening the demo store")?;
    store.migrate().await.context("creating the store tables")?;
    tierline_projections::Projections::of(&store)
        .migrate()
        .await
        .context("creating the read model")?;

    // The clock of the projector and the API: pinned to the last loaded day until the
    // history is in.
    let last_history_day = (state.start + state.days - 1).min(today.0);
    let clock = Arc::new(PinnableClock::default());
    if state.start + state.days_done - 1 < last_history_day {
        clock.pin(end_of((state.start + state.days_done - 1).max(state.start)));
    }

    // The broker: librdkafka's mock cluster, in this process.
    let cluster = MockCluster::new(1).context("starting the mock Kafka cluster")?;
    // A fresh cluster each run: a fresh group, so no stale offsets apply.
    let group = format!("tierline-demo-{}", system.now().0);
    let services = start_services(&codec, &store, &cluster, clock.clone(), group).await?;

    // The API and the dashboard.
    let (router, _) = tierline_api::app(
        tierline_api::Reader::new(store.clone(), policy.clone(), codec.clone()),
        clock.clone(),
        &tierline_api::ApiConfig::new(tierline_api::ApiKeys::disabled()),
        Default::default(),
    );
    let listener = tokio::net::TcpListener::bind(args.http)
        .await
        .with_context(|| format!("binding {} (another demo running? use --http)", args.http))?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let serving = tierline_http::serve(listener, router, limits, std::future::pending());
        if let Err(e) = serving.await {
            tracing::error!(error = %e, "the API stopped");
        }
    });
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
    let mut feed = Feed {
        producer,
        store: Some(store.clone()),
        codec: codec.clone(),
        produced: HashSet::new(),
        messages: 0,
    };
    let mut sim = Simulator::new(SimConfig {
        suppliers: state.suppliers,
        start: Date(state.start),
        days: state.days,
        seed: state.seed,
        late_arrival_rate: 0.02,
        duplicate_rate: 0.01,
    });
    let stop_at = args
        .run_for
        .map(|s| Instant::now() + Duration::from_secs(s));
    let stopping = || stop_at.is_some_and(|t| Instant::now() >= t);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;

    // What earlier runs stored counts as produced: the final check is that the store
    // holds exactly the events produced, in this run or before.
    let mut cursor = tierline_store::Cursor::START;
    loop {
        let page = store.read_global(cursor, 50_000).await?;
        let Some(last) = page.last() else { break };
        cursor = last.cursor;
        feed.produced
            .extend(page.iter().map(|e| (e.source.clone(), e.event_id)));
    }
    if !feed.produced.is_empty() {
        eprintln!("the store already holds {} events", feed.produced.len());
    }

    // History: days already loaded are regenerated (deterministic) but not produced.
    let started = Instant::now();
    let pb = progress(last_history_day - state.start + 1, state.days_done);
    for d in state.start..=last_history_day {
        // Today only up to now: nothing is produced before it happens.
        let events = if d == today.0 {
            sim.emit_until(system.now())
        } else {
            sim.emit_day(Date(d))
        };
        if d - state.start < state.days_done {
            continue;
        }
        feed.produce(&events).await?;
        // Pace by what ingest has stored: the mock cluster keeps little.
        if feed.produced.len() > IN_FLIGHT {
            feed.wait_stored(IN_FLIGHT / 2, Duration::from_secs(300))
                .await?;
            clock.pin(end_of(d));
        }
        state.days_done = d - state.start + 1;
        pb.set_position(state.days_done as u64);
        if state.days_done % 10 == 0 || d == last_history_day {
            let stored = feed.stored().await?;
            save_state(&state_path, &state)?;
            pb.set_message(format!(
                "{} ({}): {} events produced, {stored} stored, {:.0} events/s",
                Date(d),
                if d == today.0 { "today" } else { "loaded" },
                feed.produced.len(),
                feed.messages as f64 / started.elapsed().as_secs_f64().max(0.001)
            ));
        }
        if stopping() {
            break;
        }
    }
    pb.finish_and_clear();
    if state.days_done > last_history_day - state.start {
        let stored = feed.wait_stored(0, Duration::from_secs(300)).await?;
        clock.unpin();
        if stored != feed.produced.len() as u64 {
            bail!(
                "the store holds {stored} events but the simulator produced {}",
                feed.produced.len()
            );
        }
        if feed.messages > 0 {
            eprintln!(
                "history loaded in {:.1} s: the store holds every one of the {} distinct events produced ({} messages, duplicates included)",
                started.elapsed().as_secs_f64(),
                feed.produced.len(),
                feed.messages
            );
        } else {
            eprintln!("history already loaded; going live");
        }
    } else {
        eprintln!(
            "history: {} of {} days loaded (the dashboard shows {}); run again to go on",
            state.days_done,
            state.days,
            Date(state.start + state.days_done - 1)
        );
    }

    // Live: a burst every second until stopped.
    let live_start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_report = Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        }
        if stopping() {
            break;
        }
        let n = args.sim.live_per_second.div_ceil(3).max(1);
        // What the population does as time passes, plus a burst of fresh activity.
        let mut burst = sim.emit_until(system.now());
        burst.extend(sim.live(system.now(), n));
        feed.produce(&burst).await?;
        state.live_events += burst.len() as u64;
        if last_report.elapsed() >= Duration::from_secs(30) {
            last_report = Instant::now();
            eprintln!(
                "live: {} events in {:.0} s; {} stored, {} projected this run",
                state.live_events,
                live_start.elapsed().as_secs_f64(),
                feed.stored().await?,
                services.projected.events_projected.get(),
            );
        }
    }

    // Stop: everything produced is stored before we leave.
    let stored = feed.wait_stored(0, Duration::from_secs(60)).await?;
    save_state(&state_path, &state)?;
    let _ = services.stop.send(true);
    services.ingest.stop().await.context("stopping ingest")?;
    if let Ok(Err(e)) = services.projector.await {
        tracing::warn!(error = %e, "the projector stopped with an error");
    }
    let _ = services.relay.await;
    let lost = (feed.produced.len() as u64).saturating_sub(stored);
    println!(
        "demo stopped: {} distinct events produced (this run and before), {stored} in the store, {lost} missing",
        feed.produced.len()
    );
    if lost > 0 {
        bail!("{lost} produced events are not in the store");
    }
    Ok(())
}

/// Produces the simulated history (and, with `--live`, a live stream) to the inbound
/// topics of a real cluster, waiting for the broker's acknowledgements.
pub(crate) async fn simulate(codec: Codec, args: SimulateArgs) -> Result<()> {
    let clock = SystemClock;
    // The simulator's calendar is the default policy's (UTC).
    let today = clock.today(&tierline_scoring::Policy::default());
    let producer: FutureProducer = args
        .kafka
        .client_config()?
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .context("creating the producer")?;
    let mut feed = Feed {
        producer,
        store: None,
        codec,
        produced: HashSet::new(),
        messages: 0,
    };
    let config = SimConfig::ending(today, args.sim.days, args.sim.suppliers, args.sim.seed);
    let mut sim = Simulator::new(config.clone());
    let started = Instant::now();
    for d in config.start.0..=today.0 {
        let events = if d == today.0 {
            sim.emit_until(clock.now())
        } else {
            sim.emit_day(Date(d))
        };
        feed.produce(&events).await?;
        if (d - config.start.0 + 1) % 30 == 0 || d == today.0 {
            eprintln!(
                "history: day {}/{} ({}), {} messages, {:.0}/s",
                d - config.start.0 + 1,
                config.days,
                Date(d),
                feed.messages,
                feed.messages as f64 / started.elapsed().as_secs_f64().max(0.001)
            );
        }
    }
    println!(
        "produced {} messages ({} distinct events) for {} suppliers",
        feed.messages,
        feed.produced.len(),
        config.suppliers
    );
    if !args.live {
        return Ok(());
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        }
        let mut burst = sim.emit_until(clock.now());
        burst.extend(sim.live(clock.now(), args.sim.live_per_second.div_ceil(3).max(1)));
        feed.produce(&burst).await?;
    }
    println!("produced {} messages in all", feed.messages);
    Ok(())
}
