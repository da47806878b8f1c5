-- Projections of the event store on SQLite: the same tables as on PostgreSQL, in
-- SQLite's types. Days are INTEGER days since 1970-01-01, instants INTEGER
-- milliseconds since the epoch (UTC), ids 16-byte BLOBs, JSON TEXT, and a bucket's
-- exact-sum partials a BLOB of little-endian float64s.

CREATE TABLE projection_checkpoint (
    name           TEXT PRIMARY KEY,
    txid           INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    projected_day  INTEGER,
    policy_version TEXT NOT NULL,
    policy_digest  TEXT,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE indicator_daily (
    supplier_id       TEXT NOT NULL,
    indicator         TEXT NOT NULL,
    day               INTEGER NOT NULL,
    numerator         REAL NOT NULL,
    denominator       REAL NOT NULL,
    samples           INTEGER NOT NULL,
    numerator_parts   BLOB,
    denominator_parts BLOB,
    PRIMARY KEY (supplier_id, indicator, day)
) WITHOUT ROWID;
CREATE INDEX indicator_daily_by_day ON indicator_daily (day);

CREATE TABLE scorecards (
    supplier_id    TEXT NOT NULL,
    window_days    INTEGER NOT NULL,
    as_of          INTEGER NOT NULL,
    policy_version TEXT NOT NULL,
    composite      REAL,
    coverage       REAL NOT NULL,
    tier           TEXT NOT NULL,
    dimensions     TEXT NOT NULL,
    indicators     TEXT NOT NULL,
    first_day      INTEGER,
    PRIMARY KEY (supplier_id, window_days)
);
CREATE INDEX scorecards_by_score ON scorecards (window_days, composite DESC, supplier_id);

CREATE TABLE tier_history (
    supplier_id TEXT NOT NULL,
    day         INTEGER NOT NULL,
    score       REAL,
    tier        TEXT NOT NULL,
    PRIMARY KEY (supplier_id, day)
) WITHOUT ROWID;

CREATE TABLE alert_episodes (
    alert_id        BLOB PRIMARY KEY,
    supplier_id     TEXT NOT NULL,
    rule            TEXT NOT NULL,
    level           TEXT NOT NULL,
    threshold       REAL NOT NULL,
    window_days     INTEGER NOT NULL,
    started_on      INTEGER NOT NULL,
    value_at_start  REAL NOT NULL,
    ended_on        INTEGER,
    value_at_end    REAL,
    raised_at       INTEGER,
    resolved_at     INTEGER,
    published_state TEXT,
    announced       INTEGER NOT NULL DEFAULT 0,
    retracted_at    INTEGER
);
CREATE INDEX alert_episodes_by_supplier ON alert_episodes (supplier_id, started_on);
CREATE INDEX alert_episodes_by_start ON alert_episodes (started_on DESC, alert_id);

CREATE TABLE published_tiers (
    supplier_id    TEXT PRIMARY KEY,
    tier           TEXT NOT NULL,
    effective_date INTEGER NOT NULL
);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   BLOB NOT NULL UNIQUE,
    supplier_id  TEXT NOT NULL,
    record_name  TEXT NOT NULL,
    value        BLOB NOT NULL,
    headers      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    published_at INTEGER
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- One projector per name at a time: the holder renews its lease; another takes it
-- over once it expires. The checkpoint is written only by the holder.
CREATE TABLE projector_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
