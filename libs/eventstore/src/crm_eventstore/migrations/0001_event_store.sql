-- The event store: every state change of a service, in order, forever.
CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id       text        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version > 0),
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL DEFAULT 1,
    payload         bytea       NOT NULL,
    customer_key    text        NOT NULL DEFAULT '',
    topic           text,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    correlation_id  text        NOT NULL DEFAULT '',
    causation_id    text        NOT NULL DEFAULT '',
    traceparent     text        NOT NULL DEFAULT '',
    tracestate      text        NOT NULL DEFAULT '',
    -- The writing transaction; lets read_all wait out transactions still in flight.
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version),
    CONSTRAINT events_event_id_unique UNIQUE (event_id)
);

-- Events waiting to be published, written in the same transaction as the events.
-- The relay deletes a row only after Kafka acknowledged it: a queue, not a cursor,
-- so a position that commits late is still found (see docs/reliability.md).
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    global_position bigint NOT NULL REFERENCES events (global_position),
    enqueued_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- How many events the relay has published per topic: a broker whose topic is empty
-- although we published to it has lost its data and gets our history again.
CREATE TABLE published_topics (
    topic     text   PRIMARY KEY,
    published bigint NOT NULL DEFAULT 0
);
