-- Every event id ever accepted, with a hash of its normalised content: the durable
-- idempotency key (no time window). Same id + same hash = duplicate; different hash
-- = conflict.
CREATE TABLE touchpoint_ids (
    event_id     uuid        PRIMARY KEY,
    content_hash bytea       NOT NULL,
    accepted_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
