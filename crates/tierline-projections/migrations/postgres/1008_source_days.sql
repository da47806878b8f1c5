-- Source health: how many events each source sent of each record type per day (by
-- when the store recorded them, UTC), and the last one's time. Derived like the rest:
-- the projector adds each page, a rebuild recounts from the store.
CREATE TABLE source_days (
    source           TEXT NOT NULL,
    record_name      TEXT NOT NULL,
    day              DATE NOT NULL,
    events           BIGINT NOT NULL,
    last_recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, record_name, day)
);
CREATE INDEX source_days_by_day ON source_days (day);
