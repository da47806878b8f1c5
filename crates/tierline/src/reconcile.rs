//! `tierline reconcile`: a supplier's per-object numerators and denominators against
//! an ERP extract, with the events behind each difference.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use tierline_events::{Codec, Date, Record};
use tierline_scoring::SupplierLedger;
use tierline_store::{EventStore, StoredEvent, SupplierCursor, SupplierFilter};

use crate::args::{PolicyArgs, StoreArgs};

/// What `reconcile` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct ReconcileArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    /// The supplier.
    #[arg(long)]
    supplier: String,
    /// First day compared (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    from: Date,
    /// Last day compared (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    to: Date,
    /// The ERP's extract (CSV: indicator,date,object_type,object_id,numerator,denominator).
    extract: PathBuf,
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("`{s}` is not a YYYY-MM-DD date"))
}

/// Every stored event of the supplier, decoded, with its stored row.
async fn supplier_events(
    store: &tierline_store::Store,
    codec: &Codec,
    supplier: &str,
) -> Result<Vec<(StoredEvent, Record)>> {
    let filter = SupplierFilter::default();
    let mut after: Option<SupplierCursor> = None;
    let mut out = Vec::new();
    loop {
        let page = store
            .read_supplier(supplier, &filter, after, 5_000)
            .await
            .context("reading the supplier's events")?;
        let Some(last) = page.last() else { break };
        after = Some(SupplierCursor {
            occurred_at: last.occurred_at,
            position: last.position,
        });
        for e in page {
            let record = e
                .decode(codec)
                .with_context(|| format!("decoding event at position {}", e.position))?;
            out.push((e, record));
        }
    }
    Ok(out)
}

/// Prints the comparison; fails (exit status 1) when anything differs.
pub(crate) async fn reconcile(codec: Codec, args: ReconcileArgs) -> Result<()> {
    if args.from > args.to {
        bail!("--from {} is after --to {}", args.from, args.to);
    }
    let text = std::fs::read_to_string(&args.extract)
        .with_context(|| format!("reading {}", args.extract.display()))?;
    let extract = tierline_reconcile::parse_extract(&text)
        .with_context(|| args.extract.display().to_string())?;
    let store = args.store.open(codec.clone()).await?;
    let events = supplier_events(&store, &codec, &args.supplier).await?;
    let mut ledger = SupplierLedger::new(args.supplier.clone(), args.policy.load()?);
    ledger.apply_all(events.iter().map(|(_, r)| r));
    let report = tierline_reconcile::compare(&ledger.object_terms(), &extract, args.from, args.to);
    println!(
        "{} {}..={}: {} events; {} indicator-days and {} object terms compared",
        args.supplier,
        args.from,
        args.to,
        events.len(),
        report.days_compared,
        report.objects_compared
    );
    let show =
        |s: Option<(f64, f64)>| s.map_or_else(|| "-".to_owned(), |(n, d)| format!("{n}/{d}"));
    for (indicator, date, (ours, theirs)) in &report.days {
        println!(
            "day {} {date}: tierline {} erp {}",
            indicator.name(),
            show(*ours),
            show(*theirs)
        );
    }
    for (indicator, date, object, (ours, theirs)) in &report.objects {
        println!(
            "{} {date} {} {}: tierline {} erp {}",
            indicator.name(),
            object.kind(),
            object.id(),
            show(*ours),
            show(*theirs)
        );
        for (e, r) in events
            .iter()
            .filter(|(_, r)| tierline_reconcile::concerns(r, object))
        {
            println!(
                "    {} {}/{} occurred_at {}{} (position {})",
                r.kind().name(),
                e.source,
                e.event_id,
                e.occurred_at,
                r.posting_date()
                    .map(|d| format!(" posting_date {d}"))
                    .unwrap_or_default(),
                e.position
            );
        }
    }
    if report.reconciles() {
        println!("reconciles: every number matches");
        Ok(())
    } else {
        bail!(
            "{} indicator-days and {} object terms differ",
            report.days.len(),
            report.objects.len()
        )
    }
}
