//! Full replays by binary `COPY … TO STDOUT`: a projection rebuilt from the whole store
//! reads every settled event in one statement instead of pages along the cursor.

use futures_util::TryStreamExt;
use sqlx::postgres::PgPoolCopyExt;
use tracing::instrument;

use crate::{Cursor, PgStore, StoreError};

/// One event of a replay, borrowed from the COPY stream.
#[derive(Debug, Clone, Copy)]
pub struct ReplayEvent<'a> {
    /// Where it sits on the global cursor.
    pub cursor: Cursor,
    /// Writer schema fingerprint.
    pub fingerprint: u64,
    /// The Avro datum as received.
    pub datum: &'a [u8],
}

/// What a replay read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Events handed to the callback.
    pub events: u64,
    /// The greatest cursor among them (`after` when there were none): where a reader
    /// along the cursor continues.
    pub last: Cursor,
}

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

impl PgStore {
    /// Hands every settled event after `after` and up to `upto` if given (those of transactions older than every
    /// running one, as [`read_global`](crate::EventStore::read_global) takes) to `f`,
    /// in the table's physical order, **not** the cursor's: for consumers whose result
    /// does not depend on order (the scoring ledger). The set is exactly what paging
    /// along the cursor from `after` would read at this instant, so a reader continues
    /// from [`Replayed::last`].
    #[instrument(skip(self, f), err)]
    pub async fn replay<E, F>(
        &self,
        after: Cursor,
        upto: Option<Cursor>,
        mut f: F,
    ) -> Result<Replayed, E>
    where
        E: From<StoreError> + std::fmt::Display,
        F: FnMut(ReplayEvent<'_>) -> Result<(), E>,
    {
        // txid is sent as xid8's binary form (8 bytes), so no cast is needed.
        // Both cursors are numbers: nothing here comes from input.
        let upto = upto.map_or(String::new(), |c| {
            format!(
                "AND (txid, position) <= ('{}'::xid8, {})",
                c.txid, c.position
            )
        });
        let sql = format!(
            "COPY (SELECT txid, position, fingerprint, datum FROM events
                   WHERE (txid, position) > ('{}'::xid8, {}) {upto} AND txid < pg_snapshot_xmin(pg_current_snapshot()))
             TO STDOUT (FORMAT binary)",
            after.txid, after.position
        );
        let mut stream = self
            .pool()
            .copy_out_raw(&sql)
            .await
            .map_err(StoreError::from)?;
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut header_done = false;
        let mut done = Replayed {
            events: 0,
            last: after,
        };
        let mut finished = false;
        while let Some(chunk) = stream.try_next().await.map_err(StoreError::from)? {
            buf.extend_from_slice(&chunk);
            let mut at = 0;
            if !header_done {
                let Some(rest) = header_len(&buf)? else {
                    continue;
                };
                at = rest;
                header_done = true;
            }
            while !finished {
                match tuple(&buf[at..])? {
                    Tuple::Incomplete => break,
                    Tuple::Trailer => finished = true,
                    Tuple::Row(event, len) => {
                        at += len;
                        done.events += 1;
                        done.last = done.last.max(event.cursor);
                        f(event)?;
                    }
                }
            }
            buf.drain(..at);
        }
        if !finished {
            return Err(StoreError::Corrupt("COPY stream ended before its trailer".into()).into());
        }
        Ok(done)
    }
}

/// The header's length once all of it has arrived.
fn header_len(buf: &[u8]) -> Result<Option<usize>, StoreError> {
    if buf.len() < SIGNATURE.len() + 8 {
        return Ok(None);
    }
    if !buf.starts_with(SIGNATURE) {
        return Err(StoreError::Corrupt(
            "COPY stream lacks the binary signature".into(),
        ));
    }
    let ext = be_i32(&buf[SIGNATURE.len() + 4..]).unwrap_or(0).max(0) as usize;
    let len = SIGNATURE.len() + 8 + ext;
    Ok((buf.len() >= len).then_some(len))
}

enum Tuple<'a> {
    Incomplete,
    Trailer,
    /// The event and the tuple's length in bytes.
    Row(ReplayEvent<'a>, usize),
}

fn tuple(buf: &[u8]) -> Result<Tuple<'_>, StoreError> {
    let Some(count) = buf.get(..2).map(|b| i16::from_be_bytes([b[0], b[1]])) else {
        return Ok(Tuple::Incomplete);
    };
    if count == -1 {
        return Ok(Tuple::Trailer);
    }
    if count != 4 {
        return Err(StoreError::Corrupt(format!(
            "COPY tuple of {count} fields, expected 4"
        )));
    }
    let mut at = 2;
    let mut fields: [&[u8]; 4] = [&[]; 4];
    for field in &mut fields {
        let Some(len) = buf.get(at..).and_then(be_i32) else {
            return Ok(Tuple::Incomplete);
        };
        at += 4;
        let len = usize::try_from(len)
            .map_err(|_| StoreError::Corrupt("NULL in a NOT NULL column of events".into()))?;
        let Some(bytes) = buf.get(at..at + len) else {
            return Ok(Tuple::Incomplete);
        };
        *field = bytes;
        at += len;
    }
    let int8 = |b: &[u8]| -> Result<i64, StoreError> {
        b.try_into()
            .map(i64::from_be_bytes)
            .map_err(|_| StoreError::Corrupt(format!("8-byte integer of {} bytes", b.len())))
    };
    let event = ReplayEvent {
        cursor: Cursor {
            txid: int8(fields[0])? as u64,
            position: int8(fields[1])?,
        },
        fingerprint: int8(fields[2])? as u64,
        datum: fields[3],
    };
    Ok(Tuple::Row(event, at))
}

fn be_i32(b: &[u8]) -> Option<i32> {
    b.get(..4)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl crate::Store {
    /// [`PgStore::replay`] on either backend: PostgreSQL streams one COPY; SQLite (one
    /// writer, positions in commit order) pages along the cursor.
    pub async fn replay<E, F>(
        &self,
        after: Cursor,
        upto: Option<Cursor>,
        mut f: F,
    ) -> Result<Replayed, E>
    where
        E: From<StoreError> + std::fmt::Display,
        F: FnMut(ReplayEvent<'_>) -> Result<(), E>,
    {
        let sqlite = match self {
            crate::Store::Postgres(pg) => return pg.replay(after, upto, f).await,
            crate::Store::Sqlite(s) => s,
        };
        let mut done = Replayed {
            events: 0,
            last: after,
        };
        loop {
            let page = crate::EventStore::read_global(sqlite, done.last, 20_000).await?;
            if page.is_empty() {
                return Ok(done);
            }
            for e in &page {
                if upto.is_some_and(|u| e.cursor > u) {
                    return Ok(done);
                }
                done.events += 1;
                done.last = e.cursor;
                f(ReplayEvent {
                    cursor: e.cursor,
                    fingerprint: e.fingerprint,
                    datum: &e.datum,
                })?;
            }
        }
    }
}

impl crate::Store {
    /// Hands the events of `suppliers` up to `upto` on the global cursor to `f`, by
    /// the store's supplier index: a projector reloading evicted ledgers reads exactly
    /// what it had projected of them (every event at or before a cursor it reached is
    /// settled). Order is unspecified. Returns the number of events.
    #[instrument(skip(self, suppliers, f), fields(suppliers = suppliers.len()), err)]
    pub async fn replay_suppliers<E, F>(
        &self,
        suppliers: &[&str],
        upto: Cursor,
        mut f: F,
    ) -> Result<u64, E>
    where
        E: From<StoreError> + std::fmt::Display,
        F: FnMut(ReplayEvent<'_>) -> Result<(), E>,
    {
        use sqlx::Row;
        let mut n = 0;
        match self {
            crate::Store::Postgres(pg) => {
                let mut rows = sqlx::query(
                    "SELECT txid::text::int8 AS tx, position, fingerprint, datum FROM events
                     WHERE supplier_id = ANY($1) AND (txid, position) <= ($2::text::xid8, $3)",
                )
                .bind(suppliers)
                .bind(upto.txid.to_string())
                .bind(upto.position)
                .fetch(pg.pool());
                while let Some(r) = rows.try_next().await.map_err(StoreError::from)? {
                    let event = ReplayEvent {
                        cursor: Cursor {
                            txid: r.try_get::<i64, _>("tx").map_err(StoreError::from)? as u64,
                            position: r.try_get("position").map_err(StoreError::from)?,
                        },
                        fingerprint: r
                            .try_get::<i64, _>("fingerprint")
                            .map_err(StoreError::from)? as u64,
                        datum: r.try_get("datum").map_err(StoreError::from)?,
                    };
                    n += 1;
                    f(event)?;
                }
            }
            crate::Store::Sqlite(s) => {
                for supplier in suppliers {
                    let rows = sqlx::query(
                        "SELECT position, fingerprint, datum FROM events
                         WHERE supplier_id = $1 AND position <= $2",
                    )
                    .bind(supplier)
                    .bind(upto.position)
                    .fetch_all(s.pool())
                    .await
                    .map_err(StoreError::from)?;
                    for r in &rows {
                        let position: i64 = r.try_get("position").map_err(StoreError::from)?;
                        let event = ReplayEvent {
                            cursor: Cursor { txid: 0, position },
                            fingerprint: r
                                .try_get::<i64, _>("fingerprint")
                                .map_err(StoreError::from)?
                                as u64,
                            datum: r.try_get("datum").map_err(StoreError::from)?,
                        };
                        n += 1;
                        f(event)?;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Every supplier with an event at or before `upto` on the global cursor, sorted.
    pub async fn suppliers_upto(&self, upto: Cursor) -> Result<Vec<String>, StoreError> {
        Ok(match self {
            crate::Store::Postgres(pg) => {
                sqlx::query_scalar(
                    "SELECT DISTINCT supplier_id FROM events WHERE (txid, position) <= ($1::text::xid8, $2)
                     ORDER BY supplier_id",
                )
                .bind(upto.txid.to_string())
                .bind(upto.position)
                .fetch_all(pg.pool())
                .await?
            }
            crate::Store::Sqlite(s) => {
                sqlx::query_scalar(
                    "SELECT DISTINCT supplier_id FROM events WHERE position <= $1 ORDER BY supplier_id",
                )
                .bind(upto.position)
                .fetch_all(s.pool())
                .await?
            }
        })
    }

    /// The last settled event on the global cursor (where a reader of everything stops).
    pub async fn head_cursor(&self) -> Result<Cursor, StoreError> {
        Ok(match self {
            crate::Store::Postgres(pg) => {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT txid::text::int8, position FROM events
                     WHERE txid < pg_snapshot_xmin(pg_current_snapshot())
                     ORDER BY txid DESC, position DESC LIMIT 1",
                )
                .fetch_optional(pg.pool())
                .await?;
                row.map_or(Cursor::START, |(t, p)| Cursor {
                    txid: t as u64,
                    position: p,
                })
            }
            crate::Store::Sqlite(s) => {
                let p: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
                    .fetch_one(s.pool())
                    .await?;
                Cursor {
                    txid: 0,
                    position: p.unwrap_or(0),
                }
            }
        })
    }
}
