//! The write path (docs/api.md "Writes"): a `POST` body becomes a record exactly as a
//! Kafka message would, validated by the same rules, and is appended to the store
//! synchronously with `source` = `api:{key name}`. The projector picks it up like any
//! other event.

use axum::Json;
use axum::body::Bytes;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tierline_events::{Framing, Record, Timestamp, validate};
use tierline_store::{AppendBatch, Appended, EventStore, NewEvent, StoredEvent};
use uuid::Uuid;

use crate::AppState;
use crate::keys::Identity;
use crate::problem::Problem;

mod bodies;
mod handlers;

pub(crate) use handlers::*;

/// Largest body of each write endpoint: what the largest valid record needs, with every
/// character of its free text `\u`-escaped (6 bytes), rounded up.
pub(crate) mod limits {
    /// An assessment: 64 criteria and a 4,000-character comment.
    pub(crate) const ASSESSMENT: usize = 64 * 1024;
    /// A retraction, a violation or a risk signal: one 4,000-character text.
    pub(crate) const TEXT: usize = 32 * 1024;
    /// A certificate: names only.
    pub(crate) const CERTIFICATE: usize = 8 * 1024;
    /// A plan: 32 measures of 4,000 characters.
    pub(crate) const PLAN: usize = 800 * 1024;
    /// The largest of them (the service-wide body limit is at least this).
    pub(crate) const MAX: usize = PLAN;
}

/// The common fields of a record written through the API.
pub(crate) struct Common {
    pub(crate) event_id: Uuid,
    pub(crate) source: String,
    pub(crate) occurred_at: Timestamp,
    pub(crate) supplier_id: String,
}

/// A write endpoint's body: the record's own fields and an optional `occurred_at`.
pub(crate) trait WriteBody: DeserializeOwned {
    /// The body's `occurred_at`, if given.
    fn occurred_at(&self) -> Option<&str>;
}

/// What every write endpoint does: the body within `limit`, read as `B`, made into a
/// record by `record` with the common fields, validated and appended; `location` names
/// where the record's object is shown.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write<B: WriteBody>(
    s: &AppState,
    who: &Identity,
    supplier: &str,
    headers: &HeaderMap,
    body: &Bytes,
    limit: usize,
    record: impl FnOnce(B, Common) -> Record,
    location: impl FnOnce(&Record) -> String,
) -> Result<Response, Problem> {
    if body.len() > limit {
        return Err(Problem::too_large(limit));
    }
    let b: B = parse_body(headers, body)?;
    let given = b.occurred_at().map(str::to_owned);
    let c = common(s, who, supplier, headers, given.as_deref())?;
    let r = record(b, c);
    let location = location(&r);
    append(s, r, given.is_some(), location).await
}

/// Reads a JSON body as `T`, refusing unknown fields by name.
pub(crate) fn parse_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, Problem> {
    if let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
        && !ct
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    {
        return Err(Problem::unsupported_media(format!(
            "the body must be JSON (Content-Type: application/json), not {ct}"
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // serde names the field of an unknown or missing one in backquotes.
        let named = || {
            message
                .split('`')
                .nth(1)
                .map(str::to_owned)
                .unwrap_or_else(|| path.clone())
        };
        let (field, rule) = if message.starts_with("unknown field") {
            (named(), "unknown-field")
        } else if message.starts_with("missing field") {
            let name = named();
            let field = if path == "." {
                name
            } else {
                format!("{path}.{name}")
            };
            (field, "required")
        } else if e.inner().is_syntax() || e.inner().is_eof() {
            ("body".to_owned(), "json")
        } else {
            (path.clone(), "type")
        };
        Problem::bad_body(&field, rule, format!("{field}: {message}"))
    })
}

/// `occurred_at` from the body (RFC 3339, at most a day ahead of the service clock) or
/// the service clock's now.
pub(crate) fn occurred_at(s: &AppState, given: Option<&str>) -> Result<Timestamp, Problem> {
    let now = s.clock.write_instant();
    let Some(text) = given else {
        return Ok(now);
    };
    let t = Timestamp::parse_rfc3339(text).ok_or_else(|| {
        Problem::bad_body(
            "occurred_at",
            "timestamp",
            format!(
                "occurred_at must be an RFC 3339 instant, e.g. 2026-03-02T09:00:00Z; got {text:?}"
            ),
        )
    })?;
    if t.0 > now.0 + 86_400_000 {
        return Err(Problem::bad_body(
            "occurred_at",
            "future",
            format!("occurred_at {t} is more than a day after the service clock's now ({now})"),
        ));
    }
    Ok(t)
}

/// The common fields of a write by `who` about `supplier_id`.
pub(crate) fn common(
    s: &AppState,
    who: &Identity,
    supplier_id: &str,
    headers: &HeaderMap,
    given_occurred_at: Option<&str>,
) -> Result<Common, Problem> {
    if !tierline_events::is_supplier_id(supplier_id) {
        return Err(Problem::bad_parameter(
            "supplier_id",
            "a supplier id is 1..64 characters of [A-Za-z0-9._:-]",
        ));
    }
    let event_id = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|k| Uuid::try_parse(k.trim()).ok())
        .unwrap_or_else(Uuid::now_v7);
    Ok(Common {
        event_id,
        source: who.source(),
        occurred_at: occurred_at(s, given_occurred_at)?,
        supplier_id: supplier_id.to_owned(),
    })
}

/// The record's own fields (not the common ones), for "the same request again".
fn own_fields(r: &Record) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        for k in ["event_id", "source", "occurred_at"] {
            o.remove(k);
        }
    }
    v
}

/// Whether a stored event is the same request again: same record type and fields, and
/// the same `occurred_at` when the body gave one.
/// `forms` are the request's record as typed and as sealed (a request stored by a
/// release that did not seal free text is the same request too).
fn same_request(
    s: &AppState,
    stored: &StoredEvent,
    forms: [&Record; 2],
    occurred_given: bool,
) -> bool {
    let Ok(old) = stored.decode(s.reader.codec()) else {
        return false;
    };
    let old = own_fields(&old);
    forms.iter().any(|r| own_fields(r) == old)
        && (!occurred_given
            || stored.occurred_at == forms[0].envelope().map_or(Timestamp(0), |e| e.occurred_at))
}

fn answer(
    s: &AppState,
    status: StatusCode,
    stored: &StoredEvent,
    location: &str,
) -> Result<Response, Problem> {
    let body = crate::read::event_json(s.reader.codec(), stored)?;
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(LOCATION, v);
    }
    Ok(res)
}

/// Validates `record`, appends it and answers 201 (or 200 for the same request again,
/// 409 for an `Idempotency-Key` used for something else).
pub(crate) async fn append(
    s: &AppState,
    mut record: Record,
    occurred_given: bool,
    location: String,
) -> Result<Response, Problem> {
    let (source, event_id) = match record.envelope() {
        Some(e) => (e.source.to_owned(), e.event_id),
        None => return Err(Problem::internal()),
    };
    if let Err(e) = validate(&record) {
        return Err(Problem::bad_body(e.field, e.rule.code(), e.to_string()));
    }
    // People's free text is stored sealed under its author's key (erasable); sealing
    // is deterministic, so the same request again is recognised below.
    let typed = record.clone();
    let caller = source.strip_prefix("api:").unwrap_or(&source);
    s.people
        .seal_record(&mut record, caller, s.clock.now())
        .await
        .map_err(crate::problem::people)?;
    let store = s.reader.store();
    let conflict = || {
        Problem::conflict(format!(
            "Idempotency-Key {event_id} was already used by this API key for another request"
        ))
    };
    if let Some(stored) = store.event(&source, event_id).await? {
        return if same_request(s, &stored, [&typed, &record], occurred_given) {
            answer(s, StatusCode::OK, &stored, &location)
        } else {
            Err(conflict())
        };
    }
    let codec = s.reader.codec();
    let bytes = codec
        .to_bytes(&record, Framing::Confluent)
        .map_err(|e| Problem::bad_body(e.field, e.rule.code(), e.to_string()))?;
    let decoded = codec.decode(&bytes).map_err(|e| {
        tracing::error!(error = %e, "a record the codec wrote does not read back");
        Problem::internal()
    })?;
    let event = NewEvent::from_decoded(decoded, bytes).map_err(|_| Problem::internal())?;
    let outcome = store
        .append(&AppendBatch {
            events: vec![event],
            ..AppendBatch::default()
        })
        .await?;
    let status = match outcome.results.first() {
        Some(Appended::New) => StatusCode::CREATED,
        // A twin request committed first: the same request again, or a conflict.
        Some(Appended::Duplicate { .. }) => StatusCode::OK,
        Some(Appended::Conflict { .. }) => return Err(conflict()),
        None => return Err(Problem::internal()),
    };
    let stored = store
        .event(&source, event_id)
        .await?
        .ok_or_else(Problem::internal)?;
    tracing::info!(%source, %event_id, kind = record.kind().name(), position = stored.position, "written through the API");
    answer(s, status, &stored, &location)
}
