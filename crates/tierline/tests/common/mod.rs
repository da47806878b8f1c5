//! Helpers shared by the binary's process tests.

#![allow(dead_code)] // each test file uses a subset

use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// A TCP port free right now on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` over HTTP/1.0: (status, body), or `None` if nothing answers.
pub(crate) fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http_call(port, "GET", path, None, None)
}

/// `method path` over HTTP/1.0 with an optional bearer key and JSON body: (status,
/// body), or `None` if nothing answers.
pub(crate) fn http_call(
    port: u16,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut head = format!("{method} {path} HTTP/1.0\r\n");
    if let Some(k) = key {
        head.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    write!(s, "{head}\r\n{body}").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default(),
    ))
}

/// [`http_get`], waiting up to 30 s for something to listen.
pub(crate) fn wait_get(port: u16, path: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = http_get(port, path) {
            return r;
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Produces one record to its default topic (key: its supplier, Confluent framing) and
/// waits for the broker's acknowledgement.
pub(crate) async fn send_record(
    producer: &rdkafka::producer::FutureProducer,
    codec: &tierline_events::Codec,
    r: &tierline_events::Record,
) {
    let bytes = codec
        .to_bytes(r, tierline_events::Framing::Confluent)
        .unwrap();
    producer
        .send(
            rdkafka::producer::FutureRecord::to(r.kind().default_topic())
                .key(r.supplier_id())
                .payload(&bytes),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
}

/// An accepted inspection of 100 units of `supplier` on 2026-06-`day` at 09:00 with
/// `defective` defective ones; its event id ends in `n`.
pub(crate) fn june_inspection(
    supplier: &str,
    n: u128,
    day: u32,
    defective: f64,
) -> tierline_events::Record {
    tierline_events::InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n),
        source: "qms".into(),
        occurred_at: tierline_events::Timestamp::parse_rfc3339(&format!(
            "2026-06-{day:02}T09:00:00Z"
        ))
        .unwrap(),
        supplier_id: supplier.into(),
        inspection_id: format!("IN-{n}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "I".into(),
        inspected_quantity: 100.0,
        defective_quantity: defective,
        critical_defects: 0,
        disposition: tierline_events::Disposition::Accepted,
        posting_date: None,
    }
    .into()
}

/// Appends `records` to a PostgreSQL store in one batch, framed as producers send them.
pub(crate) async fn append_pg(
    store: &tierline_store::PgStore,
    records: &[tierline_events::Record],
) {
    use tierline_store::EventStore;
    let codec = tierline_events::Codec::default();
    let events = records
        .iter()
        .map(|r| {
            let b = codec
                .to_bytes(r, tierline_events::Framing::Confluent)
                .unwrap();
            tierline_store::NewEvent::from_decoded(codec.decode(&b).unwrap(), b).unwrap()
        })
        .collect();
    store
        .append(&tierline_store::AppendBatch {
            events,
            ..Default::default()
        })
        .await
        .unwrap();
}
