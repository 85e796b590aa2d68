"""The scope vocabulary of the public API (see ARCHITECTURE.md).

``admin`` implies every other scope.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

__all__ = [
    "ADMIN",
    "ALL_SCOPES",
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
    "UnknownScopeError",
    "grants",
    "validate_scopes",
]

TOUCHPOINTS_WRITE = "touchpoints:write"
TOUCHPOINTS_READ = "touchpoints:read"
PROFILES_READ = "profiles:read"
PROFILES_WRITE = "profiles:write"
PROFILES_ERASE = "profiles:erase"
CUSTOMERS_READ = "customers:read"
CUSTOMERS_READ_PII = "customers:read:pii"
SEGMENTS_READ = "segments:read"
SEGMENTS_WRITE = "segments:write"
CAMPAIGNS_READ = "campaigns:read"
CAMPAIGNS_WRITE = "campaigns:write"
ADMIN = "admin"

ALL_SCOPES: frozenset[str] = frozenset({
    TOUCHPOINTS_WRITE, TOUCHPOINTS_READ, PROFILES_READ, PROFILES_WRITE, PROFILES_ERASE,
    CUSTOMERS_READ, CUSTOMERS_READ_PII, SEGMENTS_READ, SEGMENTS_WRITE, CAMPAIGNS_READ,
    CAMPAIGNS_WRITE, ADMIN,
})


class UnknownScopeError(ValueError):
    """A scope name that is not in the vocabulary."""

    def __init__(self, unknown: Iterable[str]) -> None:
        self.unknown = sorted(unknown)
        super().__init__(
            f"unknown scope(s): {', '.join(self.unknown)}; known: {', '.join(sorted(ALL_SCOPES))}"
        )


def validate_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The distinct ``scopes``, sorted; raises if one is unknown or none is given."""
    distinct = set(scopes)
    unknown = distinct - ALL_SCOPES
    if unknown:
        raise UnknownScopeError(unknown)
    if not distinct:
        raise ValueError("an API key needs at least one scope")
    return tuple(sorted(distinct))


def grants(held: Collection[str], needed: str) -> bool:
    """Whether holding ``held`` allows what ``needed`` protects."""
    return needed in held or ADMIN in held
