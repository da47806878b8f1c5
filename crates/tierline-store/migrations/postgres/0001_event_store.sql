-- The append-only event store. Every accepted event, exactly once, in a durable
-- global order; never updated, never deleted.

CREATE TABLE schemas (
    fingerprint  BIGINT PRIMARY KEY,           -- CRC-64-AVRO of the canonical form (as signed 64-bit)
    schema_id    INTEGER UNIQUE,               -- Confluent id, if it has one
    record_name  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    definition   TEXT NOT NULL,                -- the writer schema JSON, so replay needs no registry
    added_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE events (
    position        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The appending transaction: readers only take rows of transactions older than
    -- every transaction still running, so a late commit can never land behind them.
    txid            XID8 NOT NULL DEFAULT pg_current_xact_id(),
    source          TEXT NOT NULL,
    event_id        UUID NOT NULL,
    supplier_id     TEXT NOT NULL,
    record_name     TEXT NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    schema_id       INTEGER,
    fingerprint     BIGINT NOT NULL REFERENCES schemas (fingerprint),
    datum           BYTEA NOT NULL,            -- the Avro datum exactly as received
    kafka_topic     TEXT,
    kafka_partition INTEGER,
    kafka_offset    BIGINT,
    CONSTRAINT events_dedupe UNIQUE (source, event_id)
);

CREATE INDEX events_global_cursor ON events (txid, position);
CREATE INDEX events_by_supplier ON events (supplier_id, occurred_at, position);

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only: % on events is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Consumer positions, written in the same transaction as the events they cover.
CREATE TABLE consumer_offsets (
    group_id     TEXT NOT NULL,
    topic        TEXT NOT NULL,
    partition    INTEGER NOT NULL,
    next_offset  BIGINT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- Rejected inbound messages, kept with their original bytes.
CREATE TABLE quarantine (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    kafka_topic     TEXT,
    kafka_partition INTEGER,
    kafka_offset    BIGINT,
    message_key     BYTEA,
    message_value   BYTEA NOT NULL,
    headers         JSONB NOT NULL DEFAULT '[]',
    reason_code     TEXT NOT NULL,
    reason          TEXT NOT NULL
);
