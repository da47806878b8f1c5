//! `tierline reconcile` against an extract computed independently (a Python script,
//! tests/reconcile/extract.py, from the raw stream): the simulator's stream with
//! reversals, re-posted inspections, three plants' business days and two units
//! reconciles exactly; a changed number is found, with the events behind it.
//!
//! Needs a Python (scripts/test sets TIERLINE_PYTHON).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tierline_events::{Codec, Date, Framing, Record};
use tierline_sim::{SimConfig, Simulator};
use tierline_store::{AppendBatch, EventStore, NewEvent};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn extract(stream: &Path, supplier: &str, from: Date, to: Date) -> String {
    let python = std::env::var("TIERLINE_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(root().join("tests/reconcile/extract.py"))
        .arg(stream)
        .args([supplier, &from.to_string(), &to.to_string()])
        .args(["--countable", "pcs"])
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn reconcile(
    store: &str,
    policy: &Path,
    supplier: &str,
    from: Date,
    to: Date,
    file: &Path,
) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tierline"))
        .args(["reconcile", "--store", store, "--policy"])
        .arg(policy)
        .args(["--supplier", supplier])
        .args(["--from", &from.to_string(), "--to", &to.to_string()])
        .arg(file)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_corrections_reconcile_with_an_independent_extract() {
    // A quarter of the simulator: 12 suppliers.
    let to = Date::from_ymd(2026, 3, 31).unwrap();
    let config = SimConfig::ending(to, 90, 12, 5);
    let mut sim = Simulator::new(config.clone());
    let mut records: Vec<Record> = Vec::new();
    for d in config.start.0..=to.0 {
        records.extend(sim.emit_day(Date(d)));
    }
    let from = Date(config.start.0 + 10);

    // Into a SQLite store, in emission order (duplicates and late arrivals included).
    let t = tierline_store::testing::sqlite().await.unwrap();
    let codec = Codec::default();
    for chunk in records.chunks(2_000) {
        let events = chunk
            .iter()
            .map(|r| {
                let bytes = codec.to_bytes(r, Framing::Confluent).unwrap();
                NewEvent::from_decoded(codec.decode(&bytes).unwrap(), bytes).unwrap()
            })
            .collect();
        t.store
            .append(&AppendBatch {
                events,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let store = format!("sqlite://{}", t.dir.join("events.db").display());
    let stream = t.dir.join("stream.jsonl");
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(&stream, lines.join("\n")).unwrap();
    let policy = t.dir.join("policy.toml");
    let default = std::fs::read_to_string(root().join("deploy/policy/default.toml")).unwrap();
    std::fs::write(&policy, format!("countable_units = [\"pcs\"]\n{default}")).unwrap();

    // What each supplier's stream holds.
    let mut held: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let mut inspections: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &records {
        let s = held.entry(r.supplier_id().to_owned()).or_default();
        match r {
            Record::GoodsReceiptReversed(_) => {
                s.insert("reversal");
            }
            Record::GoodsReceived(g) => {
                s.insert(g.site.as_str().strip_prefix("plant-").unwrap_or("?"));
                if g.posting_date != g.occurred_at.date() {
                    s.insert("another day");
                }
            }
            Record::InspectionCompleted(i) => {
                *inspections
                    .entry((i.supplier_id.clone(), i.inspection_id.clone()))
                    .or_default() += 1;
            }
            Record::PurchaseOrderLinePlaced(p) => {
                s.insert(if p.unit_of_measure == "m" {
                    "metres"
                } else {
                    "pieces"
                });
            }
            _ => {}
        }
    }
    let reposted: BTreeSet<&str> = inspections
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|((s, _), _)| s.as_str())
        .collect();
    // Reconcile the supplier with the most corrections in pieces, and one in metres.
    let corrected = |s: &str| {
        let h = &held[s];
        h.contains("reversal") && h.contains("another day") && reposted.contains(s)
    };
    let pieces = held
        .keys()
        .find(|s| corrected(s) && held[*s].contains("pieces"))
        .expect("a supplier in pieces with reversals, re-posts and plant days")
        .clone();
    let metres = held
        .keys()
        .find(|s| held[*s].contains("metres"))
        .expect("a supplier buying by the metre")
        .clone();
    let plants: BTreeSet<&str> = held
        .values()
        .flatten()
        .copied()
        .filter(|p| ["us", "de", "cn"].contains(p))
        .collect();
    assert_eq!(plants.len(), 3, "three plants");

    for supplier in [&pieces, &metres] {
        let csv = extract(&stream, supplier, from, to);
        let rows = csv.lines().count() - 1;
        assert!(rows > 40, "{supplier}: {rows} extract rows");
        let file = t.dir.join(format!("{supplier}.csv"));
        std::fs::write(&file, &csv).unwrap();
        let out = reconcile(&store, &policy, supplier, from, to, &file);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("reconciles"),
            "{supplier}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Metres are not counted: the extract of that supplier has no quantity rows of its
    // placed lines' receipts, and Tierline agrees (it reconciled above).
    let metre_csv = extract(&stream, &metres, from, to);
    assert!(metre_csv.lines().any(|l| l.starts_with("otif_rate,")));
    for quantity in ["avg_days_late,", "return_rate_ppm,", "defect_ppm,"] {
        assert!(
            !metre_csv.lines().any(|l| l.starts_with(quantity)),
            "{metres}: no {quantity} terms in metres"
        );
    }

    // One receipt's quantity changed in the ERP's extract: listed, with its events.
    let csv = extract(&stream, &pieces, from, to);
    let (n, line) = csv
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("return_rate_ppm,"))
        .unwrap();
    let cols: Vec<&str> = line.split(',').collect();
    let bumped = format!(
        "{},{},{},{},{},{}",
        cols[0],
        cols[1],
        cols[2],
        cols[3],
        cols[4],
        cols[5].parse::<f64>().unwrap() + 1.0
    );
    let tampered: Vec<&str> = csv
        .lines()
        .enumerate()
        .map(|(k, l)| if k == n { bumped.as_str() } else { l })
        .collect();
    let file = t.dir.join("tampered.csv");
    std::fs::write(&file, tampered.join("\n")).unwrap();
    let out = reconcile(&store, &policy, &pieces, from, to, &file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let listed = format!("return_rate_ppm {} receipt {}:", cols[1], cols[3]);
    assert!(stdout.contains(&listed), "{listed} in:\n{stdout}");
    assert!(stdout.contains("    GoodsReceived "), "{stdout}");
    assert!(
        stdout.contains(&format!("day return_rate_ppm {}", cols[1])),
        "{stdout}"
    );
    t.cleanup().await;
}
