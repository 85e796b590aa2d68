-- The projection's state is the set of profile events it consumed (as envelopes),
-- filed under the index keys of their facts; records are derived from it.
CREATE TABLE view_events (
    event_id text  PRIMARY KEY,
    envelope bytea NOT NULL
);

CREATE TABLE view_event_keys (
    key      text NOT NULL,
    event_id text NOT NULL,
    PRIMARY KEY (key, event_id)
);

-- One row per customer id: its record (full and masked), or where it was merged into.
CREATE TABLE customer_records (
    customer_id   text        PRIMARY KEY,
    survivor_id   text,
    record        jsonb,
    masked        jsonb,
    digest        text,
    version       integer     NOT NULL DEFAULT 0,
    last_event_at timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX customer_records_updated ON customer_records (updated_at, customer_id);

-- Lookup by any identifier (normalised as at ingestion).
CREATE TABLE customer_identifiers (
    type        text NOT NULL,
    value       text NOT NULL,
    customer_id text NOT NULL,
    PRIMARY KEY (type, value, customer_id)
);
CREATE INDEX customer_identifiers_customer ON customer_identifiers (customer_id);
