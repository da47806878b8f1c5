-- Every replay of a quarantined message (`tierline quarantine replay`): who, when, and
-- what became of it. Append-only, like the quarantine itself.
CREATE TABLE quarantine_replays (
    quarantine_id   BIGINT NOT NULL REFERENCES quarantine (id),
    replayed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    replayed_by     TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX quarantine_replays_by_row ON quarantine_replays (quarantine_id);
