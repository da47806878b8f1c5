-- The people directory: outside the event table, so a person can be erased without
-- touching an event. Events name people by id; free text they typed is sealed in the
-- events under the person's key, kept here (wrapped under the master key when one is
-- configured). Erasure deletes the row (name, contact, key) and logs who erased whom.
CREATE TABLE people (
    person_id    TEXT PRIMARY KEY,
    name         TEXT,
    contact      TEXT,
    key_material BLOB NOT NULL,
    key_wrapped  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL            -- ms since the epoch, UTC
);
CREATE TABLE people_erasures (
    person_id TEXT NOT NULL,
    erased_at INTEGER NOT NULL,              -- ms since the epoch, UTC
    erased_by TEXT NOT NULL,
    had_entry INTEGER NOT NULL
);
