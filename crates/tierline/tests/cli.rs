//! The binary end to end: encode JSON records, decode the files, reject bad ones.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::process::Command;

fn tierline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tierline"))
}

#[test]
fn encode_then_decode_round_trips_and_bad_files_fail_with_reasons() {
    let dir = std::env::temp_dir().join(format!("tierline-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let records: Vec<String> = tierline_events::sample::all()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let input = dir.join("records.jsonl");
    std::fs::write(&input, records.join("\n")).unwrap();
    let out = dir.join("msgs");
    let status = tierline()
        .args(["encode", "--framing", "single-object", "--out"])
        .arg(&out)
        .arg(&input)
        .status()
        .unwrap();
    assert!(status.success());
    let mut files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), records.len());
    let output = tierline().arg("decode").args(&files).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), records.len());
    for (line, record) in lines.iter().zip(&records) {
        assert_eq!(
            line["record"],
            serde_json::from_str::<serde_json::Value>(record).unwrap()
        );
        assert_eq!(line["meta"]["framing"], "single-object");
    }
    // One bad file among good ones: the good one is printed, the bad one named, exit 1.
    let bad = dir.join("bad.bin");
    std::fs::write(&bad, [0x00, 0, 0, 0x27, 0x0f, 1, 2]).unwrap();
    let output = tierline()
        .arg("decode")
        .arg(&files[0])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.bin: rejected (unknown-schema-id): unknown schema id 9999"),
        "{stderr}"
    );
    // An invalid record is refused by encode with the field and rule.
    let invalid = dir.join("invalid.jsonl");
    std::fs::write(&invalid, records[0].replace("\"SUP-00042\"", "\"SUP 42\"")).unwrap();
    let output = tierline()
        .arg("encode")
        .arg("--out")
        .arg(dir.join("x"))
        .arg(&invalid)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("supplier_id must only contain"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn schemas_lists_the_catalog() {
    let output = tierline().arg("schemas").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), catalog_len());
    assert!(
        text.contains("1012  v2  io.tierline.v1.GoodsReceived"),
        "{text}"
    );
    assert!(
        text.contains("1026  v2  io.tierline.v1.SupplierAlertResolved"),
        "{text}"
    );
}

#[test]
fn migrate_creates_an_sqlite_store_and_is_idempotent() {
    let dir = std::env::temp_dir().join(format!("tierline-migrate-{}", std::process::id()));
    let url = format!("sqlite://{}/nested/t.db", dir.display());
    for _ in 0..2 {
        let output = tierline()
            .args(["migrate", "--store", &url])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains(&format!(
                "0 events, {} writer schemas recorded",
                catalog_len()
            )),
            "{text}"
        );
    }
    let output = tierline()
        .args(["migrate", "--store", "mysql://x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported store URL"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = std::env::temp_dir().join(format!("tierline-json-{}", std::process::id()));
    let url = format!("sqlite://{}/t.db", dir.display());
    let output = tierline()
        .args(["--log-format", "json", "migrate", "--store", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    let line = stderr
        .lines()
        .find(|l| l.contains("event store is up to date"))
        .expect("the log line");
    let v: serde_json::Value = serde_json::from_str(line).expect("a JSON object");
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["fields"]["schemas"], catalog_len());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn import_reports_bad_rows_by_line_keeps_the_valid_ones_and_adds_nothing_twice() {
    let dir = std::env::temp_dir().join(format!("tierline-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("csv")).unwrap();
    std::fs::write(
        dir.join("csv/GoodsReceived.csv"),
        "source,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site\n\
         wms-7,2026-03-01T09:00:00Z,SUP-1,GR-1,PO-1,1,100,plant-7\n\
         wms-7,2026-03-03T09:00:00Z,SUP-1,GR-3,PO-1,3,-4,plant-7\n\
         wms-7,2026-03-06T09:00:00Z,SUP-3,GR-7,PO-3,1,10,plant-7\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("csv/inspection_completed.csv"),
        "source,occurred_at,supplier_id,inspection_id,item_id,inspected_quantity,defective_quantity,critical_defects,disposition\n\
         qms,2026-03-02T10:00:00Z,SUP-1,IN-1,ITEM,200,3,0,ACCEPTED\n\
         qms,2026-03-02T10:00:00Z,SUP-1,IN-2,ITEM,200,3,0,MAYBE\n",
    )
    .unwrap();
    let store = format!("sqlite://{}/t.db", dir.display());
    let run = || {
        tierline()
            .args(["import", "--log", "off", "--store", &store])
            .arg(dir.join("csv"))
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    };
    let first = run();
    let (out, err) = (
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr),
    );
    assert!(
        !first.status.success(),
        "refused rows make the exit status fail"
    );
    assert!(
        err.contains("GoodsReceived.csv:3: GoodsReceived.quantity must be > 0"),
        "{err}"
    );
    assert!(
        err.contains("inspection_completed.csv:3:") && err.contains("MAYBE"),
        "{err}"
    );
    assert!(
        out.contains(
            "2 file(s), 5 row(s): 3 valid, 2 refused; 3 appended, 0 already stored, 0 conflicting"
        ),
        "{out}"
    );
    assert!(
        err.contains("inspection_completed.csv:3: disposition:"),
        "the field is named: {err}"
    );
    let second = run();
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        out.contains("3 valid, 2 refused; 0 appended, 3 already stored, 0 conflicting"),
        "{out}"
    );
    // The same event id again with other content: a conflict, said, and a failed exit.
    std::fs::remove_file(dir.join("csv/inspection_completed.csv")).unwrap();
    std::fs::write(
        dir.join("csv/GoodsReceived.csv"),
        "event_id,source,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site\n\
         0190a6f2-0000-7000-8000-00000000c001,wms-7,2026-03-01T09:00:00Z,SUP-1,GR-1,PO-1,1,100,plant-7\n",
    )
    .unwrap();
    assert!(run().status.success());
    std::fs::write(
        dir.join("csv/GoodsReceived.csv"),
        "event_id,source,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site\n\
         0190a6f2-0000-7000-8000-00000000c001,wms-7,2026-03-01T09:00:00Z,SUP-1,GR-1,PO-1,1,90,plant-7\n",
    )
    .unwrap();
    let third = run();
    let (out, err) = (
        String::from_utf8_lossy(&third.stdout),
        String::from_utf8_lossy(&third.stderr),
    );
    assert!(!third.status.success(), "a conflict fails the exit status");
    assert!(
        out.contains("0 appended, 0 already stored, 1 conflicting"),
        "{out}"
    );
    assert!(err.contains("conflicting duplicate"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Schemas in the shipped catalog.
fn catalog_len() -> usize {
    tierline_events::Codec::default()
        .catalog()
        .schemas()
        .count()
}

#[test]
fn backup_copies_a_sqlite_store_online() {
    let dir = std::env::temp_dir().join(format!("tierline-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = format!("sqlite://{}", dir.join("live.db").display());
    std::fs::create_dir_all(dir.join("csv")).unwrap();
    let csv = dir.join("csv").join("GoodsReceived.csv");
    std::fs::write(
        &csv,
        "source,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site\n\
         wms,2026-03-01T09:00:00Z,SUP-1,GR-1,PO-1,1,10,p\n\
         wms,2026-03-02T09:00:00Z,SUP-1,GR-2,PO-1,1,5,p\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tierline"))
            .args(args)
            .output()
            .unwrap()
    };
    let csvs = dir.join("csv");
    let out = run(&[
        "import",
        "--log",
        "off",
        "--store",
        &store,
        csvs.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = dir.join("backup.db");
    let out = run(&["backup", "--store", &store, copy.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("2 events backed up"), "{said}");
    // The copy is a store of its own, with the same events.
    let restored = format!("sqlite://{}", copy.display());
    let out = run(&["migrate", "--store", &restored]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("2 events"), "{said}");
    // A second backup into the same file is refused.
    let out = run(&["backup", "--store", &store, copy.to_str().unwrap()]);
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn people_are_added_listed_and_erased_with_a_log() {
    let dir = std::env::temp_dir().join(format!("tierline-people-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = format!("sqlite://{}", dir.join("t.db").display());
    let key = dir.join("secrets.key");
    std::fs::write(&key, "11".repeat(32)).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tierline"))
            .args(args)
            .env_remove("TIERLINE_OPERATOR")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let key_flag = key.to_str().unwrap();
    let (ok, _, err) = run(&[
        "people",
        "--store",
        &store,
        "--secrets-key-file",
        key_flag,
        "set",
        "P-7",
        "--name",
        "Jan Novák",
        "--contact",
        "jan@example.com",
    ]);
    assert!(ok, "{err}");
    let (ok, list, _) = run(&["people", "--store", &store, "list"]);
    assert!(ok);
    assert!(
        list.starts_with("P-7\tJan Novák\tjan@example.com\t"),
        "{list}"
    );
    // Erasure says who; without --by it is refused.
    let (ok, _, err) = run(&["erase", "--store", &store, "--person", "P-7"]);
    assert!(!ok && err.contains("--by"), "{err}");
    let (ok, said, err) = run(&["erase", "--store", &store, "--person", "P-7", "--by", "dpo"]);
    assert!(ok, "{err}");
    assert!(said.contains("P-7: erased"), "{said}");
    let (_, list, _) = run(&["people", "--store", &store, "list"]);
    assert_eq!(list, "");
    let (_, log, _) = run(&["people", "--store", &store, "erasures"]);
    assert!(
        log.starts_with("P-7\t") && log.contains("\tby dpo\tentry deleted"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
