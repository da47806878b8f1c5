//! `tierline simulate`: the simulator alone, producing to a real cluster's inbound
//! topics.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::producer::FutureProducer;
use tierline_clock::{Clock, SystemClock};
use tierline_events::{Codec, Date};
use tierline_sim::{SimConfig, Simulator};

use crate::demo::{Feed, SimArgs};

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
    let mut feed = Feed::new(producer, None, codec);
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
