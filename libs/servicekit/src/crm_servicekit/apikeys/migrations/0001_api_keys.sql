-- API keys of this service's API. Only a hash of each key's secret is stored.
-- channels NULL: the key may act for every channel.
CREATE TABLE api_keys (
    key_id       text        PRIMARY KEY,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scopes       text[]      NOT NULL CHECK (cardinality(scopes) > 0),
    channels     text[],
    secret_hash  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
)
