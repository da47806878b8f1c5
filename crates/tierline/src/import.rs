//! `tierline import`: CSV files into the store, or onto the inbound topics.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use tierline_events::{Codec, Framing};
use tierline_store::EventStore;

use crate::args::StoreArgs;

/// `tierline import`'s arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct ImportArgs {
    /// CSV files, or directories whose `*.csv` files are read.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The event store (unless --publish).
    #[command(flatten)]
    store: StoreArgs,
    /// `source` for rows (or files) without one.
    #[arg(long, env = "TIERLINE_IMPORT_SOURCE")]
    source: Option<String>,
    /// Publish to the inbound topics (one per record family) instead of appending
    /// to the store directly.
    #[arg(long, env = "TIERLINE_IMPORT_PUBLISH")]
    publish: bool,
    /// Kafka connection (with --publish).
    #[command(flatten)]
    kafka: tierline_kafka::KafkaArgs,
    /// Events per store transaction.
    #[arg(long, env = "TIERLINE_IMPORT_BATCH", default_value_t = 2000)]
    batch: usize,
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

pub(crate) async fn import(codec: Codec, args: ImportArgs) -> Result<()> {
    let (paths, source, batch) = (&args.paths, args.source.as_deref(), args.batch);
    let kafka = args.publish.then_some(&args.kafka);
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
        None => Some(args.store.open(codec.clone()).await?),
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
