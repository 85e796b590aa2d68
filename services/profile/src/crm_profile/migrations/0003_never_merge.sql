-- Never-merge facts (docs/identity.md, rule 4): a split said that the identifiers it
-- moved and those that stayed are different people. Resolution loads the facts that
-- touch the identifiers it resolves; the explanation of a profile shows them.
CREATE TABLE identity_never_merge (
    split_id        text        PRIMARY KEY,  -- the event id of the ProfileSplit
    customer_id     text        NOT NULL,     -- the profile that was split
    new_customer_id text        NOT NULL,     -- the profile the moved identifiers went to
    moved           text[]      NOT NULL,
    kept            text[]      NOT NULL,
    reason          text        NOT NULL,
    requested_by    text        NOT NULL,
    split_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX identity_never_merge_moved ON identity_never_merge USING gin (moved);
CREATE INDEX identity_never_merge_kept ON identity_never_merge USING gin (kept);
CREATE INDEX identity_never_merge_customer ON identity_never_merge (customer_id);
CREATE INDEX identity_never_merge_new_customer ON identity_never_merge (new_customer_id);
