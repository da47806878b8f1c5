-- Source health: how many events each source sent of each record type per day (by
-- when the store recorded them, UTC; days since 1970-01-01), and the last one's time
-- (ms). Derived like the rest: the projector adds each page, a rebuild recounts.
CREATE TABLE source_days (
    source           TEXT NOT NULL,
    record_name      TEXT NOT NULL,
    day              INTEGER NOT NULL,
    events           INTEGER NOT NULL,
    last_recorded_at INTEGER NOT NULL,
    PRIMARY KEY (source, record_name, day)
) WITHOUT ROWID;
CREATE INDEX source_days_by_day ON source_days (day);
