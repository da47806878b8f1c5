//! The `tierline` binary: one subcommand per service (ingest, project, relay, serve)
//! or tool (migrate, rebuild, decode, encode, schemas, hash-key). Services take their
//! dependencies as arguments; only this binary wires them together.

mod demo;
mod import;
mod ops;
mod services;

use services::{ingest, project, rebuild, relay, run_all, serve};

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tierline_events::{Codec, Framing, Record};
use tierline_store::{EventStore, Store};

#[derive(Parser)]
#[command(
    name = "tierline",
    version,
    about = "Tierline: event-sourced supplier performance"
)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `tierline_ingest=debug`.
    #[arg(long, env = "TIERLINE_LOG", default_value = "info", global = true)]
    log: String,

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
        #[arg(long, value_enum, default_value_t = FramingArg::Confluent)]
        framing: FramingArg,
    },
    /// List the schema catalog: ids, versions, records, fingerprints.
    Schemas,
    /// Run the ingest service: inbound topics into the event store.
    Ingest {
        /// Event store URL.
        #[arg(
            long,
            env = "TIERLINE_STORE",
            default_value = "sqlite://data/tierline.db"
        )]
        store: String,
        #[command(flatten)]
        config: Box<tierline_ingest::IngestConfig>,
    },
    /// Run the projector: the event store into scorecards, tiers, alerts and the outbox.
    Project {
        #[command(flatten)]
        args: ProjectArgs,
        #[command(flatten)]
        paging: ProjectPaging,
        /// Address of /livez, /readyz and /metrics.
        #[arg(long, env = "TIERLINE_PROJECT_HTTP", default_value = "0.0.0.0:9102")]
        http: std::net::SocketAddr,
    },
    /// Drop the projections and replay the whole event store into them.
    Rebuild {
        #[command(flatten)]
        args: ProjectArgs,
    },
    /// Run the relay: publish the outbox to the alerts topic.
    Relay {
        /// Event store URL (PostgreSQL).
        #[arg(
            long,
            env = "TIERLINE_STORE",
            default_value = "sqlite://data/tierline.db"
        )]
        store: String,
        /// Kafka connection.
        #[command(flatten)]
        kafka: Box<tierline_kafka::KafkaArgs>,
        /// The alerts topic.
        #[arg(
            long,
            env = "TIERLINE_TOPIC_ALERTS",
            default_value = "srm.supplier-alerts.v1"
        )]
        topic: String,
        /// Address of /livez, /readyz and /metrics.
        #[arg(long, env = "TIERLINE_RELAY_HTTP", default_value = "0.0.0.0:9103")]
        http: std::net::SocketAddr,
    },
    /// Run the read API (/v1, /openapi.json) and the web dashboard (/).
    Serve {
        #[command(flatten)]
        args: ProjectArgs,
        #[command(flatten)]
        api: Box<ApiArgs>,
    },
    /// Run every service in one process against PostgreSQL and Kafka: ingest, the
    /// projector, the relay and the read API (each also runs alone as its subcommand).
    Run {
        #[command(flatten)]
        args: ProjectArgs,
        #[command(flatten)]
        ingest: Box<tierline_ingest::IngestConfig>,
        #[command(flatten)]
        paging: ProjectPaging,
        /// The projector's /livez, /readyz, /metrics.
        #[arg(long, env = "TIERLINE_PROJECT_HTTP", default_value = "0.0.0.0:9102")]
        project_http: std::net::SocketAddr,
        /// The alerts topic.
        #[arg(
            long,
            env = "TIERLINE_TOPIC_ALERTS",
            default_value = "srm.supplier-alerts.v1"
        )]
        alerts_topic: String,
        /// The relay's /livez, /readyz, /metrics.
        #[arg(long, env = "TIERLINE_RELAY_HTTP", default_value = "0.0.0.0:9103")]
        relay_http: std::net::SocketAddr,
        #[command(flatten)]
        api: Box<ApiArgs>,
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
        args: Box<demo::SimulateArgs>,
    },
    /// Import history from CSV files (one per record type, named after it, e.g.
    /// `GoodsReceived.csv`; columns named as the Avro fields) into the event store, or
    /// publish it to the inbound topics. Rows without `event_id` get one derived from
    /// their content, so importing the same files again adds nothing.
    Import {
        /// CSV files, or directories whose `*.csv` files are read.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Event store URL (unless --publish).
        #[arg(
            long,
            env = "TIERLINE_STORE",
            default_value = "sqlite://data/tierline.db"
        )]
        store: String,
        /// `source` for rows (or files) without one.
        #[arg(long, env = "TIERLINE_IMPORT_SOURCE")]
        source: Option<String>,
        /// Publish to the inbound topics (one per record family) instead of appending
        /// to the store directly.
        #[arg(long, env = "TIERLINE_IMPORT_PUBLISH")]
        publish: bool,
        /// Kafka connection (with --publish).
        #[command(flatten)]
        kafka: Box<tierline_kafka::KafkaArgs>,
        /// Events per store transaction.
        #[arg(long, env = "TIERLINE_IMPORT_BATCH", default_value_t = 2000)]
        batch: usize,
    },
    /// Create or upgrade the event store's tables and record the schema catalog in it.
    Migrate {
        /// Event store: `postgres://user:pass@host/db` or `sqlite://path` (created if missing).
        #[arg(
            long,
            env = "TIERLINE_STORE",
            default_value = "sqlite://data/tierline.db"
        )]
        store: String,
    },
}

/// How many events the projector takes per transaction (`project` and `run`).
#[derive(clap::Args, Clone, Copy)]
struct ProjectPaging {
    /// Most events per projection transaction (a live page is as small as what arrived;
    /// a backlog is projected in pages this large, each supplier written once per page).
    #[arg(long, env = "TIERLINE_PROJECT_BATCH", default_value_t = 100_000)]
    batch: usize,
}

/// What the projector and rebuild share.
#[derive(clap::Args, Clone)]
struct ProjectArgs {
    /// Event store URL (PostgreSQL).
    #[arg(
        long,
        env = "TIERLINE_STORE",
        default_value = "sqlite://data/tierline.db"
    )]
    store: String,
    /// Scoring policy file (TOML); the defaults of docs/scoring.md when absent.
    #[arg(long, env = "TIERLINE_POLICY")]
    policy: Option<PathBuf>,
    /// Evaluate as of this date instead of today (replays and tests), `YYYY-MM-DD`.
    #[arg(long, env = "TIERLINE_PIN_DATE")]
    pin_date: Option<String>,
}

/// The read API's settings.
#[derive(clap::Args)]
struct ApiArgs {
    /// Address of the API and dashboard.
    #[arg(long, env = "TIERLINE_API_HTTP", default_value = "0.0.0.0:8080")]
    api_http: std::net::SocketAddr,
    /// Accepted API keys as SHA-256 hex digests, comma-separated (`tierline hash-key`
    /// prints one); keys themselves are never configured in clear here.
    #[arg(long, env = "TIERLINE_API_KEY_HASHES", value_delimiter = ',')]
    api_key_hashes: Vec<String>,
    /// A file with one API key per line (e.g. a mounted Secret); only digests are kept.
    #[arg(long, env = "TIERLINE_API_KEYS_FILE")]
    api_keys_file: Option<PathBuf>,
    /// Serve /v1 without authentication (local use only).
    #[arg(long, env = "TIERLINE_API_NO_AUTH")]
    no_auth: bool,
    /// Requests taking longer get a 503 (problem type `timeout`), in milliseconds.
    #[arg(long, env = "TIERLINE_API_TIMEOUT_MS", default_value_t = 10_000)]
    timeout_ms: u64,
    /// Do not cache responses (by default they are cached until the projector's next
    /// commit, which it announces with NOTIFY).
    #[arg(long, env = "TIERLINE_API_NO_CACHE")]
    no_cache: bool,
    /// Bytes of responses the cache holds at most (it starts afresh when full).
    #[arg(long, env = "TIERLINE_API_CACHE_MAX_BYTES", default_value_t = 64 << 20)]
    cache_max_bytes: usize,
    /// Largest page size (larger requests are lowered to it).
    #[arg(long, env = "TIERLINE_API_MAX_PAGE_SIZE", default_value_t = 500)]
    max_page_size: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum FramingArg {
    /// 0x00 + 4-byte schema id.
    Confluent,
    /// 0xC3 0x01 + 8-byte fingerprint.
    SingleObject,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_new(&cli.log).context("invalid --log filter")?;
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
        Command::Decode { files, no_validate } => decode(&codec, &files, no_validate),
        Command::Encode {
            input,
            out,
            framing,
        } => encode(&codec, &input, &out, framing),
        Command::Migrate { store } => migrate(codec, &store).await,
        Command::Project { args, paging, http } => {
            project(codec, args, paging.batch, http, limits).await
        }
        Command::Rebuild { args } => rebuild(codec, args).await,
        Command::Relay {
            store,
            kafka,
            topic,
            http,
        } => relay(codec, &store, &kafka, &topic, http, limits).await,
        Command::Ingest { store, config } => ingest(codec, store, *config, limits).await,
        Command::Serve { args, api } => serve(codec, &args, *api, limits).await,
        Command::Run {
            args,
            ingest: ingest_cfg,
            paging,
            project_http,
            alerts_topic,
            relay_http,
            api,
        } => {
            let kafka = ingest_cfg.kafka.clone();
            let store = args.store.clone();
            let tasks: Vec<(&str, tokio::task::JoinHandle<Result<()>>)> = vec![
                (
                    "ingest",
                    tokio::spawn(ingest(
                        codec.clone(),
                        store.clone(),
                        *ingest_cfg,
                        limits.clone(),
                    )),
                ),
                (
                    "projector",
                    tokio::spawn(project(
                        codec.clone(),
                        args.clone(),
                        paging.batch,
                        project_http,
                        limits.clone(),
                    )),
                ),
                ("relay", {
                    let (codec, limits) = (codec.clone(), limits.clone());
                    tokio::spawn(async move {
                        relay(codec, &store, &kafka, &alerts_topic, relay_http, limits).await
                    })
                }),
                (
                    "api",
                    tokio::spawn(async move { serve(codec, &args, *api, limits).await }),
                ),
            ];
            run_all(tasks).await
        }
        Command::Demo { args } => demo::run(codec, *args, limits).await,
        Command::Simulate { args } => demo::simulate(codec, *args).await,
        Command::Import {
            paths,
            store,
            source,
            publish,
            kafka,
            batch,
        } => {
            import::import(
                codec,
                &paths,
                &store,
                source.as_deref(),
                publish.then_some(&*kafka),
                batch,
            )
            .await
        }
        Command::HashKey => {
            let mut key = String::new();
            std::io::stdin()
                .read_to_string(&mut key)
                .context("reading the key from stdin")?;
            if key.trim().is_empty() {
                bail!("no key on stdin: echo -n \"$KEY\" | tierline hash-key");
            }
            println!("{}", tierline_api::hash_key(&key));
            Ok(())
        }
        Command::Schemas => {
            for s in codec.catalog().schemas() {
                let id = s.id.map_or_else(|| "-".into(), |i| i.to_string());
                println!(
                    "{id:>6}  v{}  {:<45} {:016x}",
                    s.version,
                    s.kind.full_name(),
                    s.fingerprint
                );
            }
            Ok(())
        }
    }
}

/// One decoded message, fields in schema order.
#[derive(serde::Serialize)]
struct Line<'a> {
    file: &'a PathBuf,
    meta: &'a tierline_events::Meta,
    record: &'a Record,
}

fn decode(codec: &Codec, files: &[PathBuf], no_validate: bool) -> Result<()> {
    let inputs: Vec<PathBuf> = if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    };
    let mut failed = 0usize;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &inputs {
        let bytes = if path.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading stdin")?;
            buf
        } else {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        };
        let result = if no_validate {
            codec.decode_unvalidated(&bytes)
        } else {
            codec.decode(&bytes)
        };
        match result {
            Ok(d) => {
                let line = Line {
                    file: path,
                    meta: &d.meta,
                    record: &d.record,
                };
                writeln!(out, "{}", serde_json::to_string(&line)?)?;
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}: rejected ({}): {e}", path.display(), e.reason_code());
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} messages rejected", inputs.len());
    }
    Ok(())
}

/// Opens the store (creating an SQLite file's folder) and brings its schema up to date.
async fn open_store(codec: Codec, url: &str) -> Result<Store> {
    if let Some(path) = url.strip_prefix("sqlite://")
        && let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let shown = tierline_store::redact(url);
    let store = Store::connect(url, codec)
        .await
        .with_context(|| format!("connecting to {shown}"))?;
    store
        .migrate()
        .await
        .with_context(|| format!("migrating {shown}"))?;
    Ok(store)
}

async fn migrate(codec: Codec, url: &str) -> Result<()> {
    let shown = tierline_store::redact(url);
    let store = open_store(codec, url).await?;
    let events = store.count().await?;
    let schemas = store.stored_schemas().await?.len();
    tracing::info!(store = %shown, events, schemas, "event store is up to date");
    println!("{shown}: schema up to date; {events} events, {schemas} writer schemas recorded");
    Ok(())
}

fn encode(codec: &Codec, input: &PathBuf, out: &PathBuf, framing: FramingArg) -> Result<()> {
    let framing = match framing {
        FramingArg::Confluent => Framing::Confluent,
        FramingArg::SingleObject => Framing::SingleObject,
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?,
        ))
    };
    let mut written = 0usize;
    for (n, line) in reader.lines().enumerate() {
        let line = line.context("reading input")?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a record", input.display(), n + 1))?;
        let bytes = codec
            .to_bytes(&record, framing)
            .with_context(|| format!("{}:{}", input.display(), n + 1))?;
        let path = out.join(format!("{written:06}-{}.bin", record.kind().name()));
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written += 1;
    }
    eprintln!("wrote {written} messages to {}", out.display());
    Ok(())
}
