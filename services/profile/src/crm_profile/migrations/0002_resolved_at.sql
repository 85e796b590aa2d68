-- When each touchpoint was resolved: identity lag = resolved_at - the touchpoint's
-- recorded time at the touchpoint service (benchmarks and operations read it).
ALTER TABLE identity_evidence ADD COLUMN resolved_at timestamptz NOT NULL DEFAULT clock_timestamp();
