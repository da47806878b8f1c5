-- A digest of the resolved policy the projections were made under: a changed policy
-- file rebuilds them even when its version string stayed the same.
ALTER TABLE projection_checkpoint ADD COLUMN policy_digest TEXT;
