//! The registry client against a real Apicurio Registry process (its Confluent API):
//! registration, resolution of ids (including one that collides with a catalog id),
//! unknown and unusable ids, the relay's reframing, and a registry that hangs.
//!
//! Needs Java and `scripts/registry install` (scripts/test does it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tierline_events::{Catalog, Codec, Framing, RecordKind, sample};
use tierline_registry::testing::Apicurio;
use tierline_registry::{
    Auth, OutboundIds, RegistryClient, Resolution, Resolver, register_catalog,
};

fn client_of(url: &str) -> RegistryClient {
    RegistryClient::new(url, Auth::None, None, Duration::from_secs(1)).unwrap()
}

fn framed(id: u32, record: &tierline_events::Record) -> Vec<u8> {
    let mut v = vec![0x00];
    v.extend_from_slice(&id.to_be_bytes());
    record.encode_datum(&mut v);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_resolve_through_a_real_registry() {
    let registry = Apicurio::start().await;
    let client = client_of(&registry.url());
    let catalog = Catalog::builtin();

    // 1. The catalog registers, each record's versions in order; again, the same ids.
    let first = register_catalog(&client, &catalog).await.unwrap();
    assert_eq!(first.len(), catalog.schemas().count());
    let again = register_catalog(&client, &catalog).await.unwrap();
    assert_eq!(first, again, "registration is idempotent");
    let gr = catalog.writer_for(RecordKind::GoodsReceived);
    let gr_id = first
        .iter()
        .find(|r| r.catalog_id == gr.id)
        .unwrap()
        .registry_id;

    // 2. A registry id resolves once, then from memory, and decodes.
    let codec = Codec::default().with_registry(100);
    let resolver = Resolver::new(client.clone(), codec.registry_ids().unwrap().clone());
    assert_eq!(resolver.ensure(gr_id).await.unwrap(), Resolution::Fetched);
    assert_eq!(resolver.ensure(gr_id).await.unwrap(), Resolution::Cached);
    let record = sample::goods_received();
    assert_eq!(
        codec.decode(&framed(gr_id, &record)).unwrap().record,
        record
    );

    // 3. Pad the registry until the next id is 1001, the catalog's
    // PurchaseOrderLinePlaced: a producer's GoodsReceived takes it.
    let mut last = first.iter().map(|r| r.registry_id).max().unwrap();
    let mut n = 0;
    while last < 1000 {
        let pad = format!(r#"{{"type":"record","name":"Pad{n}","fields":[]}}"#);
        last = client.register("padding", &pad).await.unwrap();
        n += 1;
    }
    assert_eq!(last, 1000, "Apicurio hands out ids in sequence");
    let mut variant: serde_json::Value = serde_json::from_str(&gr.json).unwrap();
    variant["doc"] = "the producer's copy, with its own doc".into();
    variant["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(
            {"name": "wms_batch", "type": ["null", "string"], "default": null}
        ));
    let collide = client
        .register("erp-goods-received", &variant.to_string())
        .await
        .unwrap();
    assert_eq!(collide, 1001);
    assert_eq!(
        catalog.schema_by_id(1001).unwrap().kind,
        RecordKind::PurchaseOrderLinePlaced
    );
    assert_eq!(resolver.ensure(1001).await.unwrap(), Resolution::Fetched);
    let mut message = framed(1001, &record);
    message.push(0x00); // wms_batch: null
    let decoded = codec.decode(&message).unwrap();
    assert_eq!(
        decoded.record, record,
        "read as the registry's GoodsReceived"
    );
    assert!(decoded.meta.foreign);
    assert!(Codec::default().decode(&message).map(|d| d.record) != Ok(record.clone()));

    // 4. An id the registry does not hold, and a schema Tierline cannot read.
    assert_eq!(resolver.ensure(999_999).await.unwrap(), Resolution::Missing);
    assert_eq!(
        codec
            .decode(&framed(999_999, &record))
            .unwrap_err()
            .reason_code(),
        "unknown-schema-id"
    );
    let mut bad: serde_json::Value = serde_json::from_str(&gr.json).unwrap();
    for f in bad["fields"].as_array_mut().unwrap() {
        if f["name"] == "quantity" {
            f["type"] = "string".into();
        }
    }
    let bad_id = client.register("bad-gr", &bad.to_string()).await.unwrap();
    match resolver.ensure(bad_id).await.unwrap() {
        Resolution::Rejected(reason) => assert!(reason.contains("quantity"), "{reason}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        codec
            .decode(&framed(bad_id, &record))
            .unwrap_err()
            .reason_code(),
        "incompatible-schema"
    );

    // 5. The relay's reframing: the outbound schema registered under its record name,
    // the message's id replaced by the registry's, the datum untouched.
    let outbound = OutboundIds::new(client.clone(), catalog.clone());
    let alert = Codec::default()
        .to_bytes(&sample::alert_raised(), Framing::Confluent)
        .unwrap();
    let published = outbound.reframe(alert.clone()).await.unwrap();
    let id = Codec::confluent_id(&published).unwrap();
    assert_eq!(published[5..], alert[5..]);
    let raised = catalog.writer_for(RecordKind::SupplierAlertRaised);
    assert_eq!(
        client
            .register(RecordKind::SupplierAlertRaised.full_name(), &raised.json)
            .await
            .unwrap(),
        id,
        "registered under io.tierline.v1.SupplierAlertRaised"
    );

    // 6. A registry that hangs, or is not there, is an error to retry, never an answer.
    registry.freeze();
    let e = resolver.ensure(bad_id + 1).await.unwrap_err();
    assert!(e.is_retriable(), "{e}");
    registry.thaw();
    assert_eq!(
        resolver.ensure(bad_id + 1).await.unwrap(),
        Resolution::Missing
    );
    let gone = Resolver::new(
        client_of("http://127.0.0.1:9/apis/ccompat/v7"),
        codec.registry_ids().unwrap().clone(),
    );
    let e = gone.ensure(123_456).await.unwrap_err();
    assert!(e.is_retriable(), "{e}");
}
