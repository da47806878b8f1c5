-- Exact sums: a daily bucket keeps the partials whose exact sum is its numerator and
-- denominator (numerator/denominator stay, rounded, for reading by eye), so window sums
-- over stored days are exact too. NULL on rows written before: read as one term.
ALTER TABLE indicator_daily
    ADD COLUMN numerator_parts DOUBLE PRECISION[],
    ADD COLUMN denominator_parts DOUBLE PRECISION[];

-- Publication state of each episode: NULL (never announced), RAISED, CLEARED (a
-- resolution published) or RETRACTED (a late event erased it after it was announced);
-- announced counts the raises (the k of restored episodes' message ids).
ALTER TABLE alert_episodes
    ADD COLUMN published_state TEXT,
    ADD COLUMN announced INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN retracted_at TIMESTAMPTZ;
UPDATE alert_episodes
SET announced = 1,
    published_state = CASE WHEN resolved_at IS NULL THEN 'RAISED' ELSE 'CLEARED' END
WHERE raised_at IS NOT NULL;

-- Tier-change ids already published are looked up by message id.
CREATE INDEX outbox_by_message_id ON outbox (message_id);

-- Projections written with plain sums are rebuilt on the next start: a checkpoint under
-- another policy version makes the projector start over.
UPDATE projection_checkpoint SET policy_version = policy_version || ' (before exact sums)';
