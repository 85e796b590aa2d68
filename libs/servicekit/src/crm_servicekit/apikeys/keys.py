"""API keys: the model, the ``crm_<key_id>_<secret>`` format and secret hashing.

Keys are high-entropy random strings, so a single SHA-256 of the secret is a
sound verifier (a slow password hash buys nothing against 256 random bits). Only
the hash is stored; the plaintext is shown once, when the key is made.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from crm_servicekit.apikeys.scopes import grants

__all__ = [
    "ApiKey",
    "InvalidApiKeyError",
    "generate_key",
    "hash_secret",
    "parse_key",
    "secret_matches",
]

_PREFIX = "crm_"
_KEY_ID_LENGTH = 12
_KEY_ID_ALPHABET = string.ascii_letters + string.digits
# key_id has no "_" so that the first "_" after the prefix ends it; the secret may hold any
# url-safe character. The minimums admit hand-made bootstrap keys for local runs.
_KEY_FORMAT = re.compile(r"^crm_([A-Za-z0-9]{3,32})_([A-Za-z0-9_-]{16,128})$")
_HASH_SCHEME = "sha256:"


class InvalidApiKeyError(ValueError):
    """A string that is not shaped like ``crm_<key_id>_<secret>``."""


@dataclass(frozen=True)
class ApiKey:
    """An API key's public record (never its secret): the authenticated principal."""

    key_id: str
    name: str
    scopes: frozenset[str]
    channels: frozenset[str] | None
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        """Whether this key may do what ``scope`` protects (``admin`` may do anything)."""
        return grants(self.scopes, scope)

    def allows_channel(self, channel: str) -> bool:
        """Whether this key may act for ``channel`` (``None`` channels means all)."""
        return self.channels is None or channel in self.channels


def generate_key() -> str:
    """A new random plaintext key: 12-character id, 32 random bytes of secret."""
    key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(_KEY_ID_LENGTH))
    return f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def parse_key(plaintext: str) -> tuple[str, str]:
    """Split ``plaintext`` into ``(key_id, secret)``; raises :class:`InvalidApiKeyError`."""
    match = _KEY_FORMAT.match(plaintext)
    if match is None:
        raise InvalidApiKeyError(
            "an API key looks like crm_<key id: 3-32 letters/digits>_<secret: 16+ url-safe chars>"
        )
    return match[1], match[2]


def hash_secret(secret: str) -> str:
    """The stored verifier of ``secret``."""
    return _HASH_SCHEME + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Compare in constant time, so timing reveals nothing about the stored hash."""
    return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())
