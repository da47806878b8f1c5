//! What resolving ids through a Schema Registry costs, against a real Apicurio
//! Registry, each figure next to its baseline from the same run:
//!
//! - decode throughput of messages framed with registry ids (table warm), as ingest
//!   runs it per message (the `holds` check, then decode and validate), next to the
//!   same records framed with catalog ids;
//! - a cold id (one registry round trip, parse, resolution) at p50/p99, next to a bare
//!   HTTP GET of the same endpoint with the same HTTP stack.
//!
//! `cargo bench -p tierline-registry --bench registry` (env `BENCH_EVENTS`, default
//! 200000; `BENCH_COLD`, default 300).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use tierline_events::{Catalog, Codec, Framing, RecordKind, sample};
use tierline_registry::testing::Apicurio;
use tierline_registry::{Auth, RegistryClient, Resolver, register_catalog};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Best of three passes: events per second.
fn rate(n: usize, mut pass: impl FnMut() -> usize) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            let ok = pass();
            assert_eq!(ok, n, "every message decodes");
            n as f64 / t.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env("BENCH_EVENTS", 200_000);
    let cold = env("BENCH_COLD", 300);
    eprintln!("starting Apicurio Registry (scripts/registry)");
    let registry = Apicurio::start().await;
    let client = RegistryClient::new(&registry.url(), Auth::None, None, Duration::from_secs(5))
        .expect("client");
    let catalog = Catalog::builtin();
    let registered = register_catalog(&client, &catalog).await.expect("register");
    let to_registry: HashMap<u32, u32> = registered
        .iter()
        .filter_map(|r| Some((r.catalog_id?, r.registry_id)))
        .collect();

    // The same records, framed with catalog ids and with the registry's.
    let plain = Codec::default();
    let records = sample::mix(n, 42);
    let by_catalog: Vec<Vec<u8>> = records
        .iter()
        .map(|r| plain.to_bytes(r, Framing::Confluent).unwrap())
        .collect();
    let by_registry: Vec<Vec<u8>> = by_catalog
        .iter()
        .map(|m| {
            let mut m = m.clone();
            let id = to_registry[&Codec::confluent_id(&m).unwrap()];
            m[1..5].copy_from_slice(&id.to_be_bytes());
            m
        })
        .collect();
    let codec = Codec::default().with_registry(10_000);
    let resolver = Resolver::new(client.clone(), codec.registry_ids().unwrap().clone());
    for id in to_registry.values() {
        resolver.ensure(*id).await.expect("warm");
    }
    let catalog_rate = rate(n, || {
        by_catalog
            .iter()
            .filter(|m| black_box(plain.decode(m)).is_ok())
            .count()
    });
    let registry_rate = rate(n, || {
        by_registry
            .iter()
            .filter(|m| {
                let id = Codec::confluent_id(m).unwrap();
                assert!(resolver.holds(id));
                black_box(codec.decode(m)).is_ok()
            })
            .count()
    });
    println!("decode + validate, one core, {n} messages:");
    println!("  catalog ids          {catalog_rate:>12.0} msg/s   (baseline)");
    println!(
        "  registry ids (warm)  {registry_rate:>12.0} msg/s   {:.2}x",
        registry_rate / catalog_rate
    );

    // Cold ids: distinct schema texts of GoodsReceived, half the catalog's own version
    // under another doc (same canonical form), half a producer's version with one more
    // field (compiled against the reader schema).
    let gr = catalog.writer_for(RecordKind::GoodsReceived);
    let mut ids = Vec::with_capacity(cold);
    for i in 0..cold {
        let mut s: serde_json::Value = serde_json::from_str(&gr.json).unwrap();
        s["doc"] = format!("copy {i}").into();
        if i % 2 == 1 {
            s["fields"].as_array_mut().unwrap().push(serde_json::json!(
                {"name": format!("extra_{i}"), "type": ["null", "string"], "default": null}
            ));
        }
        ids.push(client.register("bench-cold", &s.to_string()).await.unwrap());
    }
    let http = reqwest::Client::new();
    let mut bare = Vec::with_capacity(cold);
    let mut resolved = Vec::with_capacity(cold);
    // Interleaved, so both see the same registry and machine.
    for id in &ids {
        let t = Instant::now();
        let body = http
            .get(format!("{}/schemas/ids/{id}", registry.url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        black_box(body);
        bare.push(t.elapsed());
        let t = Instant::now();
        resolver.ensure(*id).await.unwrap();
        resolved.push(t.elapsed());
    }
    bare.sort();
    resolved.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("a cold id, {cold} ids (half resolved to a catalog version, half compiled):");
    println!(
        "  bare GET /schemas/ids/{{id}}   p50 {:>7.3} ms   p99 {:>7.3} ms   (baseline)",
        ms(pct(&bare, 0.5)),
        ms(pct(&bare, 0.99))
    );
    println!(
        "  resolve (fetch + resolution) p50 {:>7.3} ms   p99 {:>7.3} ms   {:.2}x / {:.2}x",
        ms(pct(&resolved, 0.5)),
        ms(pct(&resolved, 0.99)),
        ms(pct(&resolved, 0.5)) / ms(pct(&bare, 0.5)),
        ms(pct(&resolved, 0.99)) / ms(pct(&bare, 0.99))
    );
}
