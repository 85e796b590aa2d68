-- The key vault: one data key per touchpoint or customer whose personal data travels
-- sealed on the topics. Destroying a key (erasure) keeps its row as a tombstone, with
-- the secret gone, so that nothing can issue it again.
CREATE TABLE data_keys (
    key_id       text        PRIMARY KEY,
    secret       bytea       CHECK (secret IS NULL OR length(secret) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((secret IS NULL) = (destroyed_at IS NOT NULL))
);
