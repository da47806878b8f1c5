//! deploy/ and docker-compose.yml validated as far as possible without a cluster:
//! `tests/deploy/check.py` (YAML/JSON parse, the official AsyncAPI 3.0.0 schema, Helm
//! template structure, metric and table names that exist).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn deployment_files_validate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var("TIERLINE_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(root.join("tests/deploy/check.py"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (scripts/test sets TIERLINE_PYTHON to a venv with pyyaml and jsonschema): {e}"));
    assert!(
        out.status.success(),
        "deploy checks failed (a python with pyyaml and jsonschema is needed: run scripts/test):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
