-- A scorecard's dimension and indicator documents are kept as the JSON text the
-- projector wrote: readers pass them through, never query into them, and as jsonb a
-- scorecard row outgrew PostgreSQL's 2 kB TOAST threshold, so every upsert compressed
-- it (about 3x the cost of the text row; scorecards are most of a live step's writes).
ALTER TABLE scorecards
    ALTER COLUMN dimensions TYPE TEXT USING dimensions::text,
    ALTER COLUMN indicators TYPE TEXT USING indicators::text;
