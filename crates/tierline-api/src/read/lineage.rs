//! `GET /v1/suppliers/{id}/events`: a supplier's stored events, decoded, in pages whose
//! tokens are bound to their query (any store backend).

use serde::{Deserialize, Serialize};
use tierline_events::{Codec, Date, RecordKind, Timestamp};
use tierline_store::{EventStore, SupplierCursor, SupplierFilter};

use crate::model::{EventJson, EventPage};
use crate::problem::Problem;

/// Keyset position in a supplier's events, and the query it was issued for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EventKey {
    t: i64,
    p: i64,
    /// [`EventQuery::digest`] of the query that issued it.
    q: String,
}

/// What `/events` asks for.
#[derive(Debug, Clone)]
pub(crate) struct EventQuery {
    pub(crate) from: Option<Date>,
    pub(crate) to: Option<Date>,
    pub(crate) kind: Option<RecordKind>,
    /// `order=desc`.
    pub(crate) newest_first: bool,
    pub(crate) page_size: usize,
    pub(crate) after: Option<EventKey>,
}

impl EventQuery {
    /// What a page token of this query carries: a digest of the supplier and filters,
    /// so a token made by hand or taken from another query is refused, not read as
    /// "from the start".
    pub(crate) fn digest(&self, supplier: &str) -> String {
        use sha2::Digest;
        let text = format!(
            "events|{supplier}|{:?}|{:?}|{:?}{}",
            self.from.map(|d| d.0),
            self.to.map(|d| d.0),
            self.kind.map(RecordKind::name),
            // Ascending tokens stay what they were.
            if self.newest_first { "|desc" } else { "" }
        );
        let hash = sha2::Sha256::digest(text.as_bytes());
        hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Checks that the page token (if any) was issued for this query.
    pub(crate) fn check_token(&self, supplier: &str) -> Result<(), Problem> {
        match &self.after {
            Some(k) if k.q != self.digest(supplier) || k.p < 0 => Err(Problem::bad_parameter(
                "page_token",
                "page_token was not issued for this query (use next_page_token as given, with the same filters)",
            )),
            _ => Ok(()),
        }
    }
}

/// One page of a supplier's stored events, decoded (any store backend).
pub(crate) async fn events_page<S: EventStore>(
    store: &S,
    codec: &Codec,
    supplier: &str,
    q: EventQuery,
) -> Result<EventPage, Problem> {
    let day_ms = 86_400_000_i64;
    let filter = SupplierFilter {
        occurred_from: q.from.map(|d| Timestamp(i64::from(d.0) * day_ms)),
        occurred_before: q.to.map(|d| Timestamp((i64::from(d.0) + 1) * day_ms)),
        record_name: q.kind.map(|k| k.full_name().to_owned()),
        newest_first: q.newest_first,
    };
    let after = q.after.as_ref().map(|k| SupplierCursor {
        occurred_at: Timestamp(k.t),
        position: k.p,
    });
    let rows = store
        .read_supplier(supplier, &filter, after, q.page_size + 1)
        .await?;
    let digest = q.digest(supplier);
    let (page, next_page_token) = crate::params::page(rows, q.page_size, |e| EventKey {
        t: e.occurred_at.0,
        p: e.position,
        q: digest,
    });
    let items = page
        .iter()
        .map(|e| event_json(codec, e))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EventPage {
        items,
        next_page_token,
    })
}

/// A stored event as the API shows it: decoded, its fields as `payload`.
pub(crate) fn event_json(
    codec: &Codec,
    e: &tierline_store::StoredEvent,
) -> Result<EventJson, Problem> {
    let record = e.decode(codec).map_err(|err| {
        tracing::error!(position = e.position, error = %err, "stored event cannot be decoded");
        Problem::internal()
    })?;
    let mut payload = serde_json::to_value(&record).map_err(|err| {
        tracing::error!(position = e.position, error = %err, "event cannot be shown as JSON");
        Problem::internal()
    })?;
    if let Some(o) = payload.as_object_mut() {
        o.remove("type");
    }
    Ok(EventJson {
        event_id: e.event_id.to_string(),
        source: e.source.clone(),
        kind: record.kind().name().to_owned(),
        occurred_at: e.occurred_at.to_string(),
        recorded_at: e.recorded_at.to_string(),
        position: e.position,
        payload,
    })
}
