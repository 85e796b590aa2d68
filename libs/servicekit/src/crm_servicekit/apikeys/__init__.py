"""API keys with scopes: storage, authentication, the FastAPI dependency and a CLI.

Keys look like ``crm_<key_id>_<secret>``; only a SHA-256 hash of the secret is
stored. ``python -m crm_servicekit.apikeys --help`` manages them.
"""

from crm_servicekit.apikeys.dependencies import require_scope
from crm_servicekit.apikeys.keys import ApiKey, InvalidApiKeyError, generate_key, parse_key
from crm_servicekit.apikeys.scopes import (
    ADMIN,
    ALL_SCOPES,
    CAMPAIGNS_READ,
    CAMPAIGNS_WRITE,
    CUSTOMERS_READ,
    CUSTOMERS_READ_PII,
    PROFILES_ERASE,
    PROFILES_READ,
    PROFILES_WRITE,
    SEGMENTS_READ,
    SEGMENTS_WRITE,
    TOUCHPOINTS_READ,
    TOUCHPOINTS_WRITE,
    UnknownScopeError,
    validate_scopes,
)
from crm_servicekit.apikeys.store import API_KEYS_MIGRATIONS, ApiKeyConflictError, ApiKeyStore

__all__ = [
    "ADMIN",
    "ALL_SCOPES",
    "API_KEYS_MIGRATIONS",
    "CAMPAIGNS_READ",
    "CAMPAIGNS_WRITE",
    "CUSTOMERS_READ",
    "CUSTOMERS_READ_PII",
    "PROFILES_ERASE",
    "PROFILES_READ",
    "PROFILES_WRITE",
    "SEGMENTS_READ",
    "SEGMENTS_WRITE",
    "TOUCHPOINTS_READ",
    "TOUCHPOINTS_WRITE",
    "ApiKey",
    "ApiKeyConflictError",
    "ApiKeyStore",
    "InvalidApiKeyError",
    "UnknownScopeError",
    "generate_key",
    "parse_key",
    "require_scope",
    "validate_scopes",
]
