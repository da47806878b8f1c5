//! `tierline quarantine list|show|replay`: the dead-lettered messages kept in the
//! store, and their replay once the producer (or Tierline) is fixed.

use anyhow::{Context, Result, bail};
use tierline_clock::Clock;
use tierline_events::{CeHeaders, Codec};
use tierline_store::{AppendBatch, Appended, EventStore, NewEvent, Store};

use crate::args::StoreArgs;

/// What `quarantine` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct QuarantineArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// One line per quarantined message: id, when, origin, reason, last replay.
    List {
        /// Only messages with ids above this.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// A message in full: origin, key, headers, value (hex), reason and every replay.
    Show {
        /// Its id.
        id: i64,
    },
    /// Deletes quarantined messages received more than `--older-than-days` ago, with
    /// their replay log (the quarantine's retention; the dead-letter topic keeps its
    /// own, `retention.ms`).
    Prune {
        /// Keep this many days.
        #[arg(long)]
        older_than_days: u32,
    },
    /// Validates quarantined messages again with the current schemas and rules and
    /// appends what passes (exactly once: the store deduplicates, and messages already
    /// in the store are skipped). Every attempt is recorded with who ran it.
    Replay {
        /// These messages (repeatable); none: every message not in the store yet.
        #[arg(long = "id")]
        ids: Vec<i64>,
        /// Who replays (recorded with each attempt).
        #[arg(long, env = "TIERLINE_OPERATOR")]
        by: String,
    },
}

pub(crate) async fn quarantine(codec: Codec, args: QuarantineArgs) -> Result<()> {
    let store = args.store.open(codec.clone()).await?;
    match args.action {
        Action::List { after, limit } => list(&store, after, limit).await,
        Action::Show { id } => show(&store, id).await,
        Action::Replay { ids, by } => replay(&store, &codec, ids, &by).await,
        Action::Prune { older_than_days } => {
            let now = tierline_clock::SystemClock.now();
            let before =
                tierline_events::Timestamp(now.0 - i64::from(older_than_days) * 86_400_000);
            let n = store.prune_quarantine(before).await?;
            println!("{n} quarantined messages received before {before} deleted");
            Ok(())
        }
    }
}

async fn list(store: &Store, after: i64, limit: usize) -> Result<()> {
    let rows = store.quarantine_after(after, limit).await?;
    for r in &rows {
        let origin = r.message.origin.as_ref().map_or_else(
            || "-".to_owned(),
            |o| format!("{}/{}@{}", o.topic, o.partition, o.offset),
        );
        let last = store.replays(r.id).await?.pop();
        let replayed = last.map_or_else(String::new, |l| format!("  [replayed: {}]", l.outcome));
        println!(
            "{:>8}  {}  {origin}  {}: {}{replayed}",
            r.id, r.received_at, r.message.reason_code, r.message.reason
        );
    }
    if rows.len() == limit {
        let next = rows.last().map_or(after, |r| r.id);
        eprintln!("more: tierline quarantine list --after {next}");
    }
    Ok(())
}

async fn show(store: &Store, id: i64) -> Result<()> {
    let Some(r) = store.quarantine_row(id).await? else {
        bail!("no quarantined message {id}");
    };
    println!("id           {}", r.id);
    println!("received_at  {}", r.received_at);
    if let Some(o) = &r.message.origin {
        println!(
            "origin       {} partition {} offset {}",
            o.topic, o.partition, o.offset
        );
    }
    println!(
        "reason       {}: {}",
        r.message.reason_code, r.message.reason
    );
    if let Some(k) = &r.message.key {
        println!("key          {}", String::from_utf8_lossy(k));
    }
    for (k, v) in &r.message.headers {
        let v = v
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        println!("header       {k}: {v}");
    }
    let hex: String = r.message.value.iter().map(|b| format!("{b:02x}")).collect();
    println!("value        {} bytes: {hex}", r.message.value.len());
    for p in store.replays(id).await? {
        println!(
            "replay       {} by {}: {} {}",
            p.replayed_at, p.replayed_by, p.outcome, p.detail
        );
    }
    Ok(())
}

async fn replay(store: &Store, codec: &Codec, ids: Vec<i64>, by: &str) -> Result<()> {
    if by.trim().is_empty() {
        bail!("say who replays: --by NAME (or TIERLINE_OPERATOR)");
    }
    let rows = if ids.is_empty() {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = store.quarantine_after(after, 1_000).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            all.extend(page);
        }
        all
    } else {
        let mut some = Vec::new();
        for id in ids {
            some.push(
                store
                    .quarantine_row(id)
                    .await?
                    .with_context(|| format!("no quarantined message {id}"))?,
            );
        }
        some
    };
    let clock = tierline_clock::SystemClock;
    let (mut appended, mut duplicate, mut conflict, mut rejected, mut skipped) = (0, 0, 0, 0, 0);
    let settled = store.settled_quarantine().await?;
    for r in rows {
        if settled.contains(&r.id) {
            skipped += 1;
            continue;
        }
        let m = &r.message;
        let ce = CeHeaders::from_pairs(m.headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())));
        let decoded = codec
            .decode_with_headers(&m.value, ce)
            .map_err(|e| e.to_string())
            .and_then(|d| NewEvent::from_decoded(d, m.value.clone()).map_err(|e| e.to_string()));
        let (outcome, detail) = match decoded {
            Err(reason) => ("rejected", reason),
            Ok(event) => match store.event(&event.source, event.event_id).await? {
                // Looked up first, so that a conflict adds no new quarantine row.
                Some(s) if s.decode(codec).is_ok_and(|r| r == event.record) => {
                    ("duplicate", format!("stored at position {}", s.position))
                }
                Some(s) => (
                    "conflict",
                    format!("stored with other content at position {}", s.position),
                ),
                None => append_one(store, event, m).await?,
            },
        };
        store
            .record_replay(r.id, by, outcome, &detail, clock.now())
            .await?;
        match outcome {
            "appended" => appended += 1,
            "duplicate" => duplicate += 1,
            "conflict" => conflict += 1,
            _ => rejected += 1,
        }
        println!("{:>8}  {outcome}  {detail}", r.id);
    }
    println!(
        "replayed by {by}: {appended} appended, {duplicate} already stored, {conflict} conflicting, {rejected} still rejected, {skipped} skipped (in the store since an earlier replay)"
    );
    Ok(())
}

/// Appends a replayed message's event (with its Kafka origin, key and headers).
async fn append_one(
    store: &Store,
    mut event: NewEvent,
    m: &tierline_store::Quarantined,
) -> Result<(&'static str, String)> {
    event.key = m.key.clone();
    event.headers = m.headers.clone();
    event.origin = m.origin.clone();
    let out = store
        .append(&AppendBatch {
            events: vec![event],
            ..Default::default()
        })
        .await
        .context("appending a replayed message")?;
    Ok(match out.results.first() {
        Some(Appended::New) => ("appended", String::new()),
        // Stored meanwhile by ingest.
        Some(Appended::Duplicate { .. }) => ("duplicate", "stored meanwhile".to_owned()),
        Some(Appended::Conflict { .. }) => {
            ("conflict", "stored meanwhile with other content".to_owned())
        }
        None => ("rejected", "the store returned no result".to_owned()),
    })
}
