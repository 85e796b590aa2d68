"""The values identity resolution works on: identifiers, evidence and the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

__all__ = [
    "ASSURANCE_LEVELS",
    "DEFAULT_LIMITS",
    "DEFAULT_PRIORITY",
    "Evidence",
    "Identifier",
    "IdentityRules",
    "NeverMerge",
    "identifier_type",
    "make_identifier",
]

Identifier = str
"""A normalised identifier written ``type:value``, e.g. ``email:ada@example.com``."""

ASSURANCE_LEVELS: frozenset[str] = frozenset({"self_asserted", "verified"})
"""``verified``: checked by an agent or a store clerk; ``self_asserted``: typed by the person."""

DEFAULT_PRIORITY: tuple[str, ...] = (
    "customer_number", "loyalty_id", "email", "phone", "anonymous_id",
)
"""Identifier types, strongest first (a customer number is issued by us, an anonymous id
only by a browser)."""

DEFAULT_LIMITS: Mapping[str, int] = MappingProxyType({
    "customer_number": 1, "loyalty_id": 2, "email": 5, "phone": 5, "anonymous_id": 50,
})
"""How many identifiers of each type one person (one profile) may hold."""


def identifier_type(identifier: Identifier) -> str:
    """The type part of ``type:value`` (``email`` for ``email:ada@example.com``)."""
    return identifier.partition(":")[0]


def make_identifier(type_: str, value: str) -> Identifier:
    """Write an identifier as ``type:value``; the type must be non-empty and colon-free."""
    if not type_ or ":" in type_:
        raise ValueError(f"invalid identifier type {type_!r}")
    return f"{type_}:{value}"


@dataclass(frozen=True)
class Evidence:
    """What one attributed touchpoint says: these identifiers belong to one person.

    ``occurred_at`` must be timezone-aware (all evidence is compared by time).
    """

    touchpoint_id: str
    occurred_at: datetime
    identifiers: frozenset[Identifier]
    assurance: str = "self_asserted"

    def __post_init__(self) -> None:
        if self.assurance not in ASSURANCE_LEVELS:
            raise ValueError(f"unknown assurance {self.assurance!r}")


@dataclass(frozen=True)
class NeverMerge:
    """A manual fact (from a split): the two groups of identifiers are different people."""

    left: frozenset[Identifier]
    right: frozenset[Identifier]
    reason: str

    def __post_init__(self) -> None:
        if not self.left or not self.right or self.left & self.right:
            raise ValueError("never-merge sides must be non-empty and disjoint")


@dataclass(frozen=True)
class IdentityRules:
    """The configurable rules of identity resolution (defaults from docs/identity.md).

    ``limits``: per-type maximum in one profile (types without a limit are unlimited).
    ``priority``: identifier types strongest first; types not listed rank after them.
    ``blocked``: values that never link (a call center's own number).
    ``never_merge``: groups that must stay in different profiles.
    """

    limits: Mapping[str, int] = field(default_factory=lambda: DEFAULT_LIMITS)
    priority: tuple[str, ...] = DEFAULT_PRIORITY
    blocked: frozenset[Identifier] = frozenset()
    never_merge: tuple[NeverMerge, ...] = ()
