//! Test databases: a fresh PostgreSQL database per test on the real server, and a
//! fresh SQLite file.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use tierline_events::{Codec, Framing, sample};
use tierline_store::*;

pub use tierline_store::testing::{PgTest, SqliteTest};

pub async fn pg() -> PgTest {
    tierline_store::testing::pg()
        .await
        .expect("PostgreSQL is needed (scripts/test starts it; TIERLINE_TEST_PG names another)")
}

pub async fn sqlite() -> SqliteTest {
    tierline_store::testing::sqlite().await.unwrap()
}

/// `n` valid inbound events of the realistic mix, as ingest would build them.
pub fn events(n: usize, seed: u64) -> Vec<NewEvent> {
    let codec = Codec::default();
    sample::mix(n, seed)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let framing = if i % 3 == 0 {
                Framing::SingleObject
            } else {
                Framing::Confluent
            };
            let bytes = codec.to_bytes(&r, framing).unwrap();
            let decoded = codec.decode(&bytes).unwrap();
            NewEvent::from_decoded(decoded, bytes)
                .unwrap()
                .with_message(
                    KafkaOrigin {
                        topic: "srm.test.v1".into(),
                        partition: (i % 3) as i32,
                        offset: i as i64,
                    },
                    Some(r.supplier_id().as_bytes().to_vec()),
                    vec![("ce_source".into(), Some(b"test".to_vec()))],
                )
        })
        .collect()
}
