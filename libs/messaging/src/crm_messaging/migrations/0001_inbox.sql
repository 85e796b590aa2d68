-- Event ids each consumer group has applied, written in the same transaction as
-- the state the event changed: a redelivered message finds its id and changes nothing.
CREATE TABLE inbox (
    consumer_group text        NOT NULL,
    event_id       text        NOT NULL,
    processed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer_group, event_id)
);
