-- The append-only event store (embedded SQLite). SQLite has one writer at a time, so
-- positions are handed out in commit order and the global cursor needs no txid.

CREATE TABLE schemas (
    fingerprint  INTEGER PRIMARY KEY,
    schema_id    INTEGER UNIQUE,
    record_name  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    definition   TEXT NOT NULL,
    added_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE events (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    source          TEXT NOT NULL,
    event_id        BLOB NOT NULL,
    supplier_id     TEXT NOT NULL,
    record_name     TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,          -- ms since the epoch, UTC
    recorded_at     INTEGER NOT NULL,          -- ms since the epoch, UTC
    schema_id       INTEGER,
    fingerprint     INTEGER NOT NULL REFERENCES schemas (fingerprint),
    datum           BLOB NOT NULL,
    kafka_topic     TEXT,
    kafka_partition INTEGER,
    kafka_offset    INTEGER,
    CONSTRAINT events_dedupe UNIQUE (source, event_id)
);

CREATE INDEX events_by_supplier ON events (supplier_id, occurred_at, position);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event store is append-only: UPDATE on events is not allowed');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event store is append-only: DELETE on events is not allowed');
END;

CREATE TABLE consumer_offsets (
    group_id     TEXT NOT NULL,
    topic        TEXT NOT NULL,
    partition    INTEGER NOT NULL,
    next_offset  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
);

CREATE TABLE quarantine (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at     INTEGER NOT NULL,
    kafka_topic     TEXT,
    kafka_partition INTEGER,
    kafka_offset    INTEGER,
    message_key     BLOB,
    message_value   BLOB NOT NULL,
    headers         TEXT NOT NULL DEFAULT '[]',
    reason_code     TEXT NOT NULL,
    reason          TEXT NOT NULL
);
