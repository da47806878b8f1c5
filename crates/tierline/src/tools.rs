//! The tools: `decode`, `encode`, `schemas`, `hash-key`, `migrate`.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use tierline_events::{Codec, Framing, Record};
use tierline_store::EventStore;

use crate::args::StoreArgs;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum FramingArg {
    /// 0x00 + 4-byte schema id.
    Confluent,
    /// 0xC3 0x01 + 8-byte fingerprint.
    SingleObject,
}

/// One decoded message, fields in schema order.
#[derive(serde::Serialize)]
struct Line<'a> {
    file: &'a PathBuf,
    meta: &'a tierline_events::Meta,
    record: &'a Record,
}

pub(crate) fn decode(codec: &Codec, files: &[PathBuf], no_validate: bool) -> Result<()> {
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

/// Creates or upgrades the store's tables (and the read model's) and records the
/// schema catalog.
/// `tierline backup`: an online, consistent copy of a SQLite store (event store and
/// read model) into a new file, while the services keep running.
pub(crate) async fn backup(codec: Codec, store: &StoreArgs, out: &std::path::Path) -> Result<()> {
    if out.exists() {
        anyhow::bail!("{} exists: back up into a new file", out.display());
    }
    let opened = store.open(codec).await?;
    let tierline_store::Store::Sqlite(s) = &opened else {
        anyhow::bail!(
            "PostgreSQL is backed up with its own tools: a base backup with WAL archiving (pgBackRest, barman) or pg_dump; see docs/operations.md"
        );
    };
    let path = out.to_str().context("the backup path is not UTF-8")?;
    let started = std::time::Instant::now();
    s.backup_into(path)
        .await
        .with_context(|| format!("backing up into {}", out.display()))?;
    let events = opened.count().await?;
    println!(
        "{}: {events} events backed up into {} in {:.1} s",
        store.shown(),
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(crate) async fn migrate(codec: Codec, store: &StoreArgs) -> Result<()> {
    let shown = store.shown();
    let opened = store.open(codec).await?;
    let events = opened.count().await?;
    let schemas = opened.stored_schemas().await?.len();
    tracing::info!(store = %shown, events, schemas, "event store is up to date");
    println!("{shown}: schema up to date; {events} events, {schemas} writer schemas recorded");
    Ok(())
}

/// `tierline schemas` subcommands.
#[derive(clap::Subcommand)]
pub(crate) enum SchemasAction {
    /// List the catalog (the default).
    List,
    /// Register every schema of the catalog in a Schema Registry, each record's
    /// versions in order, under the subject of its full name (e.g.
    /// `io.tierline.v1.GoodsReceived`), for producers that serialise with automatic
    /// registration off. Idempotent.
    Register {
        #[command(flatten)]
        registry: Box<tierline_registry::RegistryArgs>,
    },
}

pub(crate) async fn schemas(codec: &Codec, action: Option<SchemasAction>) -> Result<()> {
    match action {
        None | Some(SchemasAction::List) => {
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
        Some(SchemasAction::Register { registry }) => {
            let client = registry
                .client()?
                .context("give the registry with --schema-registry-url")?;
            eprintln!(
                "registering {} schemas in {}",
                codec.catalog().schemas().count(),
                client.url()
            );
            let done = tierline_registry::register_catalog(&client, codec.catalog())
                .await
                .with_context(|| format!("registering in {}", client.url()))?;
            println!("{:>8}  {:>8}  version  subject", "registry", "catalog");
            for r in &done {
                let catalog = r.catalog_id.map_or_else(|| "-".into(), |i| i.to_string());
                println!(
                    "{:>8}  {catalog:>8}  v{:<6}  {}",
                    r.registry_id, r.version, r.subject
                );
            }
            Ok(())
        }
    }
}

/// Prints the SHA-256 digest of an API key read from stdin.
pub(crate) fn hash_key() -> Result<()> {
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

pub(crate) fn encode(
    codec: &Codec,
    input: &PathBuf,
    out: &PathBuf,
    framing: FramingArg,
) -> Result<()> {
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
