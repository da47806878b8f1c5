-- One projector per name at a time: the holder renews its lease; another takes it
-- over once it expires. The checkpoint is written only by the holder.
CREATE TABLE projector_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
-- Outbox message ids are unique (the tier-change `|k` lookup relies on it).
DROP INDEX IF EXISTS outbox_by_message_id;
CREATE UNIQUE INDEX outbox_message_id_unique ON outbox (message_id);
