-- Erasure receipts: what was erased, where and when. No personal data: customer ids
-- are random, the rest are counts.
CREATE TABLE erasure_receipts (
    receipt_id      text        PRIMARY KEY,
    customer_id     text        NOT NULL,
    erased_ids      text[]      NOT NULL,
    requested_by    text        NOT NULL,
    erased_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    identifiers     integer     NOT NULL,
    touchpoints     integer     NOT NULL,
    events_redacted integer     NOT NULL,
    rows_scrubbed   integer     NOT NULL
);
CREATE INDEX erasure_receipts_erased_ids ON erasure_receipts USING gin (erased_ids);

-- Erased identifiers, as tokens (keyed hashes): a touchpoint carrying one is dropped
-- and counted here, unless it is a fresh consent (which lifts the suppression: the row
-- stays, with when, so the receipt's report stays true).
CREATE TABLE identity_suppressed (
    token           text        PRIMARY KEY,
    receipt_id      text        NOT NULL REFERENCES erasure_receipts (receipt_id),
    suppressed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    dropped         bigint      NOT NULL DEFAULT 0,
    last_dropped_at timestamptz,
    lifted_at       timestamptz
);
CREATE INDEX identity_suppressed_receipt ON identity_suppressed (receipt_id);
