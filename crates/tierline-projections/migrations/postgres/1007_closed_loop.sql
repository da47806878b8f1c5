-- What the projector last published for a supplier's plans and status (the closed
-- loop): one row per (supplier, subject), e.g. `plan:{plan_id}` or `status`. Kept by a
-- rebuild, like the publication state of episodes, so nothing is announced twice.
CREATE TABLE published_states (
    supplier_id TEXT NOT NULL,
    subject     TEXT NOT NULL,
    state       TEXT NOT NULL,
    announced   INTEGER NOT NULL,
    PRIMARY KEY (supplier_id, subject)
);

-- Each supplier's standing as of the day the projector last brought it to: what the
-- order gate reads (one row), and the status lists filter on.
CREATE TABLE supplier_standing (
    supplier_id   TEXT PRIMARY KEY,
    as_of         DATE NOT NULL,
    status        TEXT NOT NULL,
    tier          TEXT,
    credit        DOUBLE PRECISION NOT NULL,
    -- JSON arrays: rules with a CRITICAL episode open; FAILED plans [id, indicator, review date].
    critical_open TEXT NOT NULL,
    failed_plans  TEXT NOT NULL
);
CREATE INDEX supplier_standing_status ON supplier_standing (status) WHERE status <> 'APPROVED';
