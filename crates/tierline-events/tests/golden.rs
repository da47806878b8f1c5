//! Golden vectors written by fastavro (tests/golden/avro_golden.py), decoded here;
//! and the codec's own output read back by fastavro.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;
use tierline_events::*;

fn vectors_dir() -> std::path::PathBuf {
    repo_root().join("tests/golden/vectors")
}

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(vectors_dir().join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

#[test]
fn every_record_and_version_has_golden_vectors_in_both_framings() {
    let m = manifest();
    for info in Codec::default().catalog().schemas() {
        for framing in ["confluent", "single-object"] {
            assert!(
                m.iter()
                    .any(|c| c["schema_id"] == info.id.unwrap() && c["framing"] == framing),
                "no {framing} vector for schema {:?} ({} v{})",
                info.id,
                info.kind.name(),
                info.version
            );
        }
    }
}

#[test]
fn golden_vectors_decode_to_the_expected_values() {
    let codec = Codec::default();
    let m = manifest();
    assert!(m.len() >= 24);
    for case in &m {
        let file = case["file"].as_str().unwrap();
        let bytes = std::fs::read(vectors_dir().join(file)).unwrap();
        let decoded = codec
            .decode(&bytes)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        // Expected values as fastavro resolved them, in Tierline's JSON form.
        let expected = &case["expected"];
        assert_eq!(
            &serde_json::to_value(&decoded.record).unwrap(),
            expected,
            "{file}"
        );
        let typed: Record = serde_json::from_value(expected.clone()).unwrap();
        assert_eq!(decoded.record, typed, "{file}");
        let framing = match case["framing"].as_str().unwrap() {
            "confluent" => Framing::Confluent,
            _ => Framing::SingleObject,
        };
        assert_eq!(decoded.meta.framing, framing, "{file}");
        assert_eq!(decoded.meta.datum_offset, framing.header_len());
        assert_eq!(
            decoded.meta.schema_id,
            case["schema_id"].as_u64().map(|i| i as u32),
            "{file}"
        );
        assert_eq!(
            format!("{:016x}", decoded.meta.fingerprint),
            case["fingerprint"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(
            u64::from(decoded.meta.schema_version),
            case["schema_version"].as_u64().unwrap(),
            "{file}"
        );
        assert_eq!(decoded.meta.record_name, decoded.record.kind().full_name());
    }
}

#[test]
fn encoding_the_latest_version_is_byte_identical_to_fastavro() {
    let codec = Codec::default();
    let mut compared = 0;
    for case in manifest() {
        let record: Record = serde_json::from_value(case["expected"].clone()).unwrap();
        let latest = codec.catalog().writer_for(record.kind());
        if u64::from(latest.version) != case["schema_version"].as_u64().unwrap() {
            continue; // an older writer version: we always write the latest
        }
        let framing = if case["framing"] == "confluent" {
            Framing::Confluent
        } else {
            Framing::SingleObject
        };
        let ours = codec.to_bytes(&record, framing).unwrap();
        let theirs = std::fs::read(vectors_dir().join(case["file"].as_str().unwrap())).unwrap();
        assert_eq!(ours, theirs, "{}", case["file"]);
        compared += 1;
    }
    assert!(compared >= 28, "only {compared} compared");
}

#[test]
fn evolution_old_writer_fills_the_new_field_with_its_default() {
    let codec = Codec::default();
    let v1 = manifest()
        .into_iter()
        .find(|c| {
            c["file"]
                .as_str()
                .unwrap()
                .contains("GoodsReceived.v1.confluent")
        })
        .expect("a GoodsReceived v1 vector");
    let bytes = std::fs::read(vectors_dir().join(v1["file"].as_str().unwrap())).unwrap();
    let d = codec.decode(&bytes).unwrap();
    assert_eq!(d.meta.schema_version, 1);
    match d.record {
        Record::GoodsReceived(g) => {
            assert_eq!(g.delivery_note, None);
            assert_eq!(g.quantity, 1180.25);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn round_trip_every_record_in_both_framings() {
    let codec = Codec::default();
    let mut records = sample::all();
    records.extend(sample::mix(2_000, 7));
    for r in &records {
        for framing in [Framing::Confluent, Framing::SingleObject] {
            let bytes = codec.to_bytes(r, framing).unwrap();
            let d = codec.decode(&bytes).unwrap();
            assert_eq!(&d.record, r);
            assert_eq!(d.meta.framing, framing);
        }
    }
    let kinds: std::collections::BTreeSet<_> = records.iter().map(Record::kind).collect();
    assert_eq!(kinds.len(), RecordKind::ALL.len());
}

/// The codec's output, read back by fastavro with the `.avsc` files.
#[test]
fn fastavro_reads_what_the_codec_writes() {
    let codec = Codec::default();
    let dir = std::env::temp_dir().join(format!("tierline-readback-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut records = sample::all();
    records.extend(sample::mix(300, 11));
    records.extend(
        manifest()
            .into_iter()
            .map(|c| serde_json::from_value::<Record>(c["expected"].clone()).unwrap()),
    );
    let mut cases = Vec::new();
    for (n, r) in records.iter().enumerate() {
        for framing in [Framing::Confluent, Framing::SingleObject] {
            let name = format!("{n:04}-{framing:?}.bin");
            std::fs::write(dir.join(&name), codec.to_bytes(r, framing).unwrap()).unwrap();
            cases.push(serde_json::json!({"file": name, "expected": r}));
        }
    }
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string(&cases).unwrap(),
    )
    .unwrap();
    let script = repo_root().join("tests/golden/avro_golden.py");
    let out = Command::new(python())
        .arg(&script)
        .arg("verify")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (set TIERLINE_PYTHON to a python with fastavro): {e}",
                python()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "fastavro could not read the codec's output (a python with fastavro is needed: run scripts/test, or set TIERLINE_PYTHON):\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{} passed, 0 failed", cases.len())),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The committed vectors are exactly what the committed script writes.
#[test]
fn committed_vectors_match_the_generator() {
    let dir = std::env::temp_dir().join(format!("tierline-golden-{}", std::process::id()));
    let script = repo_root().join("tests/golden/avro_golden.py");
    let out = Command::new(python())
        .arg(&script)
        .arg("generate")
        .arg(&dir)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    let committed = std::fs::read_dir(vectors_dir()).unwrap().count();
    assert_eq!(names.len(), committed);
    for name in names {
        let fresh = std::fs::read(dir.join(&name)).unwrap();
        let kept = std::fs::read(vectors_dir().join(&name)).unwrap();
        assert!(
            fresh == kept,
            "{name:?} differs from the generator's output: regenerate with tests/golden/avro_golden.py generate tests/golden/vectors"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
