-- Outbox rows are written by the same statement as their events, so the foreign key
-- only re-checked what that statement guarantees, one index lookup per event.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_global_position_fkey;
