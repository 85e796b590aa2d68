-- Identity resolution state, derived from (and written with) the profile events.

-- What every attributed touchpoint showed: its normalised identifiers, and the
-- touchpoint itself (to attribute it again when re-resolution moves it).
CREATE TABLE identity_evidence (
    touchpoint_id text        PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    identifiers   text[]      NOT NULL,
    assurance     text        NOT NULL,
    touchpoint    bytea       NOT NULL
);
CREATE INDEX identity_evidence_identifiers ON identity_evidence USING gin (identifiers);

CREATE SEQUENCE identity_profile_order;

-- Profiles: live ones (merged_into NULL) and merged-away ones (as they were when merged).
CREATE TABLE identity_profiles (
    customer_id   text   PRIMARY KEY,
    created_order bigint NOT NULL,
    identifiers   text[] NOT NULL,
    merged_into   text
);
CREATE INDEX identity_profiles_identifiers ON identity_profiles USING gin (identifiers);
CREATE INDEX identity_profiles_merged_into ON identity_profiles (merged_into);

CREATE TABLE identity_attribution (
    touchpoint_id text PRIMARY KEY,
    customer_id   text NOT NULL
);

CREATE TABLE identity_shared (
    identifier   text   PRIMARY KEY,
    customer_ids text[] NOT NULL
);

CREATE TABLE identity_blocked (
    touchpoint_id text   NOT NULL,
    customer_ids  text[] NOT NULL,
    reason        text   NOT NULL,
    PRIMARY KEY (touchpoint_id, customer_ids, reason)
);
