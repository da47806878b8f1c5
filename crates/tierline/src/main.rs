//! The `tierline` binary. Each command is one file; this one is their table of contents
//! and the wiring (logging, the codec, HTTP limits, the stop signal).
//!
//! Services: `ingest` (topics → store), `project` (store → read model, one active per
//! database), `relay` (outbox → alerts topic), `serve` (API and dashboard), and `run`
//! (all four in one process). Tools: `migrate`, `rebuild`, `import`, `decode`, `encode`,
//! `schemas`, `hash-key`. Trials: `demo` (everything embedded), `simulate`.

mod args;
mod demo;
mod import;
mod ingest;
mod people;
mod project;
mod quarantine;
mod reconcile;
mod relay;
mod run;
mod serve;
mod simulate;
mod tools;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use tierline_events::Codec;

use args::{ApiArgs, ClockArgs, PolicyArgs, ProjectorArgs, RelayArgs, StoreArgs};
use project::ProjectionArgs;

#[derive(Parser)]
#[command(
    name = "tierline",
    version,
    about = "Tierline: event-sourced supplier performance"
)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `tierline_ingest=debug`.
    #[arg(long, env = "TIERLINE_LOG", global = true)]
    log: Option<String>,

    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(long, env = "TIERLINE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,

    /// Largest message accepted, in bytes.
    #[arg(long, env = "TIERLINE_MAX_MESSAGE_BYTES", default_value_t = tierline_events::DEFAULT_MAX_MESSAGE_BYTES, global = true)]
    max_message_bytes: usize,

    /// Limits of every HTTP port (API, /livez /readyz /metrics).
    #[command(flatten)]
    http: tierline_http::HttpArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode framed Avro messages (one per file, or stdin) and print them as JSON lines.
    Decode {
        /// Message files; none or `-` reads one message from stdin.
        files: Vec<PathBuf>,
        /// Show records that break field rules instead of rejecting them.
        #[arg(long)]
        no_validate: bool,
    },
    /// Encode JSON-lines records (Tierline's JSON form, with "type") into framed Avro
    /// messages, one file per record.
    Encode {
        /// JSON-lines input; `-` for stdin.
        #[arg(default_value = "-")]
        input: PathBuf,
        /// Directory to write `NNNNNN-<Type>.bin` files into.
        #[arg(long)]
        out: PathBuf,
        /// Framing of the written messages.
        #[arg(long, value_enum, default_value_t = tools::FramingArg::Confluent)]
        framing: tools::FramingArg,
    },
    /// List the schema catalog (ids, versions, records, fingerprints), or register it
    /// in a Schema Registry (`schemas register`).
    Schemas {
        #[command(subcommand)]
        action: Option<tools::SchemasAction>,
    },
    /// Run the ingest service: inbound topics into the event store.
    Ingest {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        clock: ClockArgs,
        #[command(flatten)]
        config: Box<tierline_ingest::IngestConfig>,
    },
    /// Run the projector: the event store into scorecards, tiers, alerts and the outbox.
    /// One projector per database projects; others stand by and take over.
    Project {
        #[command(flatten)]
        args: ProjectionArgs,
        #[command(flatten)]
        service: ProjectorArgs,
    },
    /// Drop the projections and replay the whole event store into them.
    Rebuild {
        #[command(flatten)]
        args: ProjectionArgs,
    },
    /// Run the relay: publish the outbox to the alerts topic.
    Relay {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        clock: ClockArgs,
        #[command(flatten)]
        kafka: Box<tierline_kafka::KafkaArgs>,
        #[command(flatten)]
        registry: Box<tierline_registry::RegistryArgs>,
        #[command(flatten)]
        relay: RelayArgs,
    },
    /// Run the read API (/v1, /openapi.json) and the web dashboard (/).
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        clock: ClockArgs,
        #[command(flatten)]
        api: Box<ApiArgs>,
    },
    /// Run every service in one process against a store (PostgreSQL in production,
    /// SQLite for a single-user trial) and a Kafka cluster: ingest, the projector, the
    /// relay and the read API (each also runs alone as its command).
    Run {
        #[command(flatten)]
        args: Box<run::RunArgs>,
    },
    /// Print the SHA-256 digest of an API key read from stdin (for --api-key-hashes).
    HashKey,
    /// The embedded demo: mock Kafka cluster, SQLite store, every service and the
    /// simulator (a year of history, then live) in one process; needs nothing installed.
    Demo {
        #[command(flatten)]
        args: Box<demo::DemoArgs>,
    },
    /// Produce the simulator's history (and with --live a live stream) to the inbound
    /// topics of a Kafka cluster.
    Simulate {
        #[command(flatten)]
        args: Box<simulate::SimulateArgs>,
    },
    /// Import history from CSV files (one per record type, named after it, e.g.
    /// `GoodsReceived.csv`; columns named as the Avro fields) into the event store, or
    /// publish it to the inbound topics. Rows without `event_id` get one derived from
    /// their content, so importing the same files again adds nothing.
    Import {
        #[command(flatten)]
        args: Box<import::ImportArgs>,
    },
    /// The quarantined (dead-lettered) messages: list them, show one, replay them with
    /// the current schemas and rules once the producer is fixed (audited, idempotent).
    Quarantine {
        #[command(flatten)]
        args: Box<quarantine::QuarantineArgs>,
    },
    /// Compare a supplier's per-day and per-object numerators and denominators with an
    /// ERP extract (CSV: indicator,date,object_type,object_id,numerator,denominator;
    /// docs/scoring.md "Reconciling with the ERP"); list each PO line, receipt or
    /// inspection that differs with the events behind it. Exit status 1 when anything
    /// differs.
    Reconcile {
        #[command(flatten)]
        args: Box<reconcile::ReconcileArgs>,
    },
    /// Create or upgrade the event store's and the read model's tables and record the
    /// schema catalog.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Copy a SQLite store (events and read model) into a new file, online and
    /// consistent, while the services run (PostgreSQL: docs/operations.md).
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The new file.
        out: PathBuf,
    },
    /// The people directory: `people set ID --name --contact`, `people list`,
    /// `people erasures`.
    People {
        #[command(flatten)]
        args: Box<people::PeopleArgs>,
    },
    /// Erase a person: deletes their directory entry and key, so the free text they
    /// typed reads `[erased]` everywhere; no event changes. Logged with --by.
    Erase {
        #[command(flatten)]
        args: Box<people::EraseArgs>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    // The demo keeps its terminal for progress: warnings only unless --log says more.
    let default_log = if matches!(cli.command, Command::Demo { .. }) {
        "warn"
    } else {
        "info"
    };
    let filter = tracing_subscriber::EnvFilter::try_new(cli.log.as_deref().unwrap_or(default_log))
        .context("invalid --log filter")?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let codec = Codec::default().with_max_message_bytes(cli.max_message_bytes);
    let limits = cli.http.limits();
    match cli.command {
        Command::Decode { files, no_validate } => tools::decode(&codec, &files, no_validate),
        Command::Encode {
            input,
            out,
            framing,
        } => tools::encode(&codec, &input, &out, framing),
        Command::Schemas { action } => tools::schemas(&codec, action).await,
        Command::HashKey => tools::hash_key(),
        Command::Migrate { store } => tools::migrate(codec, &store).await,
        Command::Backup { store, out } => tools::backup(codec, &store, &out).await,
        Command::Ingest {
            store,
            clock,
            mut config,
        } => {
            let (_, stop) = tierline_http::stop_on_signal();
            let store = store.open(codec.clone()).await?;
            config.recording_clock = clock.recording_clock();
            ingest::ingest(codec, store, *config, limits, stop).await
        }
        Command::Project { args, service } => {
            let (_, stop) = tierline_http::stop_on_signal();
            let store = args.store.open(codec.clone()).await?;
            project::project(codec, store, args, service, limits, stop).await
        }
        Command::Rebuild { args } => project::rebuild(codec, args).await,
        Command::Relay {
            store,
            clock,
            kafka,
            registry,
            relay,
        } => {
            let (_, stop) = tierline_http::stop_on_signal();
            let store = store.open(codec).await?;
            let outbound = relay::outbound(&registry)?;
            relay::relay(&store, &clock, &kafka, &relay, outbound, limits, stop).await
        }
        Command::Serve {
            store,
            policy,
            clock,
            api,
        } => {
            let (_, stop) = tierline_http::stop_on_signal();
            let store = store.open(codec.clone()).await?;
            serve::serve(codec, store, &policy, &clock, &api, limits, stop).await
        }
        Command::Run { args } => {
            let (stop_tx, _) = tierline_http::stop_on_signal();
            run::run(codec, *args, limits, stop_tx).await
        }
        Command::Demo { args } => demo::run(codec, *args, limits).await,
        Command::Simulate { args } => simulate::simulate(codec, *args).await,
        Command::Import { args } => import::import(codec, *args).await,
        Command::Reconcile { args } => reconcile::reconcile(codec, *args).await,
        Command::Quarantine { args } => quarantine::quarantine(codec, *args).await,
        Command::People { args } => people::people(codec, *args).await,
        Command::Erase { args } => people::erase(codec, *args).await,
    }
}

#[cfg(test)]
mod tests {
    /// Every subcommand's flags are consistent: unique ids and names across the
    /// flattened groups of `run` (clap checks it only when a command is built).
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
