-- A batch may say when it is recorded (services on a test clock): the append
-- transaction sets `tierline.recorded_at` (SET LOCAL), which these defaults read;
-- without it they are the database's clock, as before.
CREATE FUNCTION tierline_recorded_at() RETURNS timestamptz
    LANGUAGE sql STABLE
    AS $$ SELECT COALESCE(NULLIF(current_setting('tierline.recorded_at', true), '')::timestamptz, now()) $$;
ALTER TABLE events ALTER COLUMN recorded_at SET DEFAULT tierline_recorded_at();
ALTER TABLE quarantine ALTER COLUMN received_at SET DEFAULT tierline_recorded_at();
