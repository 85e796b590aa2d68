-- Erasure is the one rewrite of history: a redacted event keeps its place, id and
-- type, its payload loses the personal data, and the row says when that happened.
ALTER TABLE events ADD COLUMN IF NOT EXISTS redacted_at timestamptz;
