//! Embeds the schema catalog (`schemas/catalog.json` and every `.avsc` it lists) so
//! the binary needs no files at run time.

use std::{env, fs, path::PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dir = manifest.join("../../schemas");
    let catalog_path = dir.join("catalog.json");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed={}", catalog_path.display());
    let text = fs::read_to_string(&catalog_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", catalog_path.display()));
    let catalog: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing catalog.json: {e}"));
    let mut out = String::from(
        "/// (id, version, file name, schema JSON), as listed in `schemas/catalog.json`.\npub(crate) const EMBEDDED: &[(u32, u32, &str, &str)] = &[\n",
    );
    for s in catalog["schemas"]
        .as_array()
        .unwrap_or_else(|| panic!("catalog.json has no schemas array"))
    {
        let id = s["id"]
            .as_u64()
            .unwrap_or_else(|| panic!("schema without id: {s}"));
        let version = s["version"]
            .as_u64()
            .unwrap_or_else(|| panic!("schema without version: {s}"));
        let file = s["file"]
            .as_str()
            .unwrap_or_else(|| panic!("schema without file: {s}"));
        let path = dir
            .join(file)
            .canonicalize()
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        println!("cargo:rerun-if-changed={}", path.display());
        out.push_str(&format!(
            "    ({id}, {version}, {file:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("embedded_schemas.rs");
    fs::write(&dest, out).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
}
