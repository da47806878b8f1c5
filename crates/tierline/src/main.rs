//! The `tierline` binary: one subcommand per service (ingest, project, relay, serve)
//! or tool (migrate, rebuild, decode, encode, schemas, hash-key). Services take their
//! dependencies as arguments; only this binary wires them together.

mod demo;
mod ops;

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
    /// Scoring policy file (TOML); the defaults of scoring.md when absent.
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
            import(
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

async fn ingest(
    codec: Codec,
    url: String,
    mut config: tierline_ingest::IngestConfig,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    config.http_limits = limits;
    tracing::info!(store = %tierline_store::redact(&url), kafka = ?config.kafka, "starting ingest");
    let store = open_store(codec.clone(), &url).await?;
    let mut service =
        tierline_ingest::Ingest::start(config, codec, std::sync::Arc::new(store)).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing SIGTERM handler")?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
        _ = wait_finished(&service) => tracing::error!("the consumer stopped on its own"),
    }
    service.request_stop();
    service
        .join()
        .await
        .context("ingest did not stop cleanly")?;
    tracing::info!("ingest stopped; offsets are stored");
    Ok(())
}

/// The CSV files among `paths` (directories give their `*.csv`), sorted.
fn csv_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            for e in std::fs::read_dir(p).with_context(|| format!("reading {}", p.display()))? {
                let f = e?.path();
                if f.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")) {
                    files.push(f);
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    files.sort();
    Ok(files)
}

async fn import(
    codec: Codec,
    paths: &[PathBuf],
    store_url: &str,
    source: Option<&str>,
    kafka: Option<&tierline_kafka::KafkaArgs>,
    batch: usize,
) -> Result<()> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let files = csv_files(paths)?;
    if files.is_empty() {
        bail!(
            "no CSV files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let producer: Option<FutureProducer> = match kafka {
        Some(k) => Some(
            k.client_config()?
                .set("enable.idempotence", "true")
                .create()
                .context("creating the Kafka producer")?,
        ),
        None => None,
    };
    let store = match producer {
        None => Some(open_store(codec.clone(), store_url).await?),
        Some(_) => None,
    };
    let (mut rows, mut valid, mut new, mut duplicates, mut conflicts, mut errors) =
        (0u64, 0usize, 0usize, 0usize, 0usize, Vec::new());
    for file in &files {
        let name = file.display().to_string();
        let Some(kind) = tierline_import::kind_for_file(file) else {
            errors.push(tierline_import::ImportError::UnknownType {
                file: name,
                expected: "PurchaseOrderLinePlaced.csv, GoodsReceived.csv, … (see --help)".into(),
            });
            continue;
        };
        let input = std::fs::File::open(file).with_context(|| format!("opening {name}"))?;
        let read = match tierline_import::read_csv(&codec, kind, &name, input, source) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        rows += read.rows;
        valid += read.records.len();
        for e in &read.errors {
            eprintln!("{e}");
        }
        errors.extend(read.errors);
        let total = read.records.len();
        for (k, chunk) in read.records.chunks(batch.max(1)).enumerate() {
            let mut events = Vec::with_capacity(chunk.len());
            for r in chunk {
                let bytes = codec.to_bytes(r, Framing::Confluent)?;
                match &producer {
                    Some(p) => {
                        let env = r.envelope().context("inbound record without envelope")?;
                        p.send(
                            FutureRecord::to(kind.default_topic())
                                .key(env.supplier_id)
                                .payload(&bytes),
                            std::time::Duration::from_secs(30),
                        )
                        .await
                        .map_err(|(e, _)| e)
                        .with_context(|| format!("publishing to {}", kind.default_topic()))?;
                        new += 1;
                    }
                    None => events.push(tierline_store::NewEvent::from_decoded(
                        codec.decode(&bytes)?,
                        bytes,
                    )?),
                }
            }
            if let Some(store) = &store {
                let out = store
                    .append(&tierline_store::AppendBatch {
                        events,
                        ..Default::default()
                    })
                    .await
                    .context("appending to the store")?;
                new += out.new_count();
                duplicates += out.duplicate_count();
                // Same source and event_id, other content: the stored event stands.
                for (r, result) in chunk.iter().zip(&out.results) {
                    if let (tierline_store::Appended::Conflict { .. }, Some(env)) =
                        (result, r.envelope())
                    {
                        conflicts += 1;
                        eprintln!(
                            "{name}: event {} of source {} is already stored with other content (conflicting duplicate): kept the stored one, quarantined this",
                            env.event_id, env.source
                        );
                    }
                }
            }
            let done = (k * batch.max(1) + chunk.len()).min(total);
            eprint!("\r{name}: {done}/{total} rows imported");
        }
        eprintln!();
    }
    let verb = if producer.is_some() {
        "published"
    } else {
        "appended"
    };
    println!(
        "{} file(s), {rows} row(s): {valid} valid, {} refused; {new} {verb}, {duplicates} already stored, {conflicts} conflicting",
        files.len(),
        errors.len()
    );
    if conflicts > 0 && errors.is_empty() {
        bail!(
            "{conflicts} row(s) conflict with stored events of the same source and event_id (listed above); every other valid row was imported"
        );
    }
    if !errors.is_empty() {
        for e in errors
            .iter()
            .filter(|e| !matches!(e, tierline_import::ImportError::Row { .. }))
        {
            eprintln!("{e}");
        }
        bail!(
            "{} row(s) or file(s) refused (listed above); every valid row was imported",
            errors.len()
        );
    }
    Ok(())
}

/// Runs services side by side: all stop on SIGTERM/SIGINT; if one fails, the process
/// reports it and exits (the orchestrator restarts it).
async fn run_all(tasks: Vec<(&str, tokio::task::JoinHandle<Result<()>>)>) -> Result<()> {
    let names: Vec<&str> = tasks.iter().map(|(n, _)| *n).collect();
    tracing::info!(services = ?names, "running");
    let mut handles: Vec<_> = tasks.into_iter().map(|(_, h)| h).collect();
    while !handles.is_empty() {
        let (result, k, rest) = futures_util::future::select_all(handles).await;
        let name = names.get(k).copied().unwrap_or("service");
        match result {
            Ok(Ok(())) => tracing::info!(service = name, "stopped"),
            Ok(Err(e)) => return Err(e.context(format!("{name} failed"))),
            Err(e) => return Err(anyhow::anyhow!("{name} panicked: {e}")),
        }
        handles = rest;
    }
    Ok(())
}

fn api_keys(args: &ApiArgs) -> Result<tierline_api::ApiKeys> {
    if args.no_auth {
        tracing::warn!("--no-auth: /v1 is open to anyone who can reach it");
        return Ok(tierline_api::ApiKeys::disabled());
    }
    let mut keys = tierline_api::ApiKeys::from_hashes(
        args.api_key_hashes
            .iter()
            .map(String::as_str)
            .filter(|h| !h.trim().is_empty()),
    )
    .context("--api-key-hashes")?;
    if let Some(path) = &args.api_keys_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading API keys file {}", path.display()))?;
        keys.extend(tierline_api::ApiKeys::from_keys(text.lines()));
    }
    if keys.is_empty() {
        bail!(
            "no API key configured: give --api-key-hashes (TIERLINE_API_KEY_HASHES) or \
             --api-keys-file (TIERLINE_API_KEYS_FILE), or --no-auth for local use"
        );
    }
    tracing::info!(keys = keys.len(), "API keys loaded");
    Ok(keys)
}

async fn serve(
    codec: Codec,
    project: &ProjectArgs,
    args: ApiArgs,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    let keys = api_keys(&args)?;
    let store = postgres(codec.clone(), &project.store).await?;
    tierline_projector::migrate(store.pool())
        .await
        .context("creating the projection tables")?;
    let policy = std::sync::Arc::new(load_policy(project.policy.as_ref())?);
    let clock: std::sync::Arc<dyn tierline_projector::Clock> =
        std::sync::Arc::from(clock(project.pin_date.as_deref())?);
    let mut config = tierline_api::ApiConfig::new(keys);
    config.request_timeout = std::time::Duration::from_millis(args.timeout_ms);
    config.max_page_size = args.max_page_size;
    config.cache = !args.no_cache;
    config.cache_max_bytes = args.cache_max_bytes;
    let reader = tierline_api::Reader::new(store, policy, codec);
    let (router, _) = tierline_api::app(reader, clock, &config, Default::default());
    let listener = tokio::net::TcpListener::bind(args.api_http)
        .await
        .with_context(|| format!("binding {}", args.api_http))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "API on http://{addr}/v1, dashboard on http://{addr}/");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tierline_api::serve(listener, router, limits, async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stopping the API");
    })
    .await
    .context("serving the API")?;
    Ok(())
}

fn load_policy(path: Option<&PathBuf>) -> Result<tierline_scoring::Policy> {
    match path {
        None => Ok(tierline_scoring::Policy::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading policy {}", p.display()))?;
            tierline_scoring::Policy::from_toml(&text)
                .with_context(|| format!("policy {}", p.display()))
        }
    }
}

fn clock(pin: Option<&str>) -> Result<Box<dyn tierline_projector::Clock>> {
    match pin {
        None => Ok(Box::new(tierline_projector::SystemClock)),
        Some(d) => {
            let t = tierline_events::Timestamp::parse_rfc3339(&format!("{d}T12:00:00Z"))
                .with_context(|| format!("--pin-date {d} is not YYYY-MM-DD"))?;
            Ok(Box::new(tierline_projector::FixedClock(t)))
        }
    }
}

async fn postgres(codec: Codec, url: &str) -> Result<tierline_store::PgStore> {
    match open_store(codec, url).await? {
        Store::Postgres(pg) => Ok(pg),
        Store::Sqlite(_) => {
            bail!("the projector and relay need a PostgreSQL store (--store postgres://…) for now")
        }
    }
}

async fn projector(
    codec: Codec,
    args: &ProjectArgs,
    store: tierline_store::PgStore,
) -> Result<tierline_projector::Projector> {
    let policy = std::sync::Arc::new(load_policy(args.policy.as_ref())?);
    tracing::info!(version = %policy.version, "scoring policy");
    Ok(tierline_projector::Projector::open(store, codec, policy, "main").await?)
}

async fn project(
    codec: Codec,
    args: ProjectArgs,
    batch: usize,
    http: std::net::SocketAddr,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    let store = postgres(codec.clone(), &args.store).await?;
    let pool = store.pool().clone();
    let mut p = projector(codec, &args, store).await?;
    ops::serve(http, p.metrics(), pool, limits).await?;
    let clock = clock(args.pin_date.as_deref())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let n = match p.step(clock.as_ref(), batch).await {
            Ok(n) => n,
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "store unavailable; retrying");
                0
            }
            Err(e) => return Err(e.into()),
        };
        if n > 0 {
            tracing::debug!(events = n, cursor = %p.cursor(), "projected");
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    tracing::info!(cursor = %p.cursor(), "projector stopped");
    Ok(())
}

async fn rebuild(codec: Codec, args: ProjectArgs) -> Result<()> {
    let store = postgres(codec.clone(), &args.store).await?;
    let mut p = projector(codec, &args, store).await?;
    let clock = clock(args.pin_date.as_deref())?;
    let start = std::time::Instant::now();
    let n = p.rebuild(clock.as_ref()).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "rebuilt {n} events of {} suppliers in {secs:.1} s ({:.0} events/s)",
        p.suppliers(),
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}

async fn relay(
    codec: Codec,
    url: &str,
    kafka: &tierline_kafka::KafkaArgs,
    topic: &str,
    http: std::net::SocketAddr,
    limits: tierline_http::HttpLimits,
) -> Result<()> {
    let store = postgres(codec, url).await?;
    tierline_projector::migrate(store.pool())
        .await
        .context("creating the outbox")?;
    let relay =
        tierline_projector::Relay::new(store.pool().clone(), kafka.client_config()?, topic)?;
    ops::serve(http, relay.metrics(), store.pool().clone(), limits).await?;
    tracing::info!(topic, kafka = ?kafka, "relay publishing the outbox");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        match relay.publish_pending(500).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "publishing failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}

async fn wait_finished(service: &tierline_ingest::Ingest) {
    while !service.is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
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
