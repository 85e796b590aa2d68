-- The vault key that sealed each stored event on the topic (none: it came in the clear).
-- An erasure destroys the keys of the erased customers; the view then drops the events
-- those keys sealed, as a rebuild, which can no longer open them, never sees them.
ALTER TABLE view_events ADD COLUMN sealed_by text;
