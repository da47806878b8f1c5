-- Projections of the event store: all derived, all rebuildable from it.

CREATE TABLE projection_checkpoint (
    name           TEXT PRIMARY KEY,
    txid           BIGINT NOT NULL,
    position       BIGINT NOT NULL,
    projected_day  DATE,
    policy_version TEXT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Daily buckets: one indicator's numerator, denominator and samples on one day.
CREATE TABLE indicator_daily (
    supplier_id TEXT NOT NULL,
    indicator   TEXT NOT NULL,
    day         DATE NOT NULL,
    numerator   DOUBLE PRECISION NOT NULL,
    denominator DOUBLE PRECISION NOT NULL,
    samples     BIGINT NOT NULL,
    PRIMARY KEY (supplier_id, indicator, day)
);

-- The current scorecard per supplier and window.
CREATE TABLE scorecards (
    supplier_id    TEXT NOT NULL,
    window_days    INTEGER NOT NULL,
    as_of          DATE NOT NULL,
    policy_version TEXT NOT NULL,
    composite      DOUBLE PRECISION,
    coverage       DOUBLE PRECISION NOT NULL,
    tier           TEXT NOT NULL,
    dimensions     JSONB NOT NULL,
    indicators     JSONB NOT NULL,
    first_day      DATE,
    PRIMARY KEY (supplier_id, window_days)
);

CREATE TABLE tier_history (
    supplier_id TEXT NOT NULL,
    day         DATE NOT NULL,
    score       DOUBLE PRECISION,
    tier        TEXT NOT NULL,
    PRIMARY KEY (supplier_id, day)
);

CREATE TABLE alert_episodes (
    alert_id       UUID PRIMARY KEY,
    supplier_id    TEXT NOT NULL,
    rule           TEXT NOT NULL,
    level          TEXT NOT NULL,
    threshold      DOUBLE PRECISION NOT NULL,
    window_days    INTEGER NOT NULL,
    started_on     DATE NOT NULL,
    value_at_start DOUBLE PRECISION NOT NULL,
    ended_on       DATE,
    value_at_end   DOUBLE PRECISION,
    -- Publication state: survives a rebuild, so history is never re-announced.
    raised_at      TIMESTAMPTZ,
    resolved_at    TIMESTAMPTZ
);
CREATE INDEX alert_episodes_by_supplier ON alert_episodes (supplier_id, started_on);

-- The last tier published per supplier.
CREATE TABLE published_tiers (
    supplier_id    TEXT PRIMARY KEY,
    tier           TEXT NOT NULL,
    effective_date DATE NOT NULL
);

-- Messages to publish, written in the same transaction as the projections.
CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   UUID NOT NULL,
    supplier_id  TEXT NOT NULL,
    record_name  TEXT NOT NULL,
    value        BYTEA NOT NULL,
    headers      JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
