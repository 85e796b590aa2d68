"""The configurable limits and lists that validation applies (one instance per service)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from phonenumbers import SUPPORTED_REGIONS

__all__ = ["DEFAULT_TEST_ADDRESSES", "IngestionRules"]

DEFAULT_TEST_ADDRESSES: frozenset[str] = frozenset({
    "test@example.com",
    "test@test.com",
    "email@example.com",
    "user@example.com",
    "noemail@noemail.com",
    "no@email.com",
    "none@none.com",
    "null@null.com",
    "asdf@asdf.com",
})
"""Placeholder addresses that forms and call-center tools fill in when a customer has none."""


@dataclass(frozen=True)
class IngestionRules:
    """What an acceptable touchpoint looks like beyond its fixed shape.

    ``test_addresses`` are compared with the normalised (trimmed, lower-cased) email.
    ``max_string_length`` bounds free text (comments, generic property values); short
    fields have tighter fixed limits (ids 200, urls 2048, names 100, ...).
    ``max_depth`` counts the ``properties`` object of a generic type as depth 1.
    ``max_items`` bounds order items and every generic list or object.
    ``earliest_occurred_at`` is exclusive: the Unix epoch itself is the classic value of
    an unset clock, not a real interaction.
    """

    default_region: str = "US"
    test_addresses: frozenset[str] = DEFAULT_TEST_ADDRESSES
    max_event_bytes: int = 32 * 1024
    future_tolerance: timedelta = timedelta(minutes=5)
    max_string_length: int = 2_000
    max_depth: int = 5
    max_items: int = 200
    earliest_occurred_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    def __post_init__(self) -> None:
        if self.default_region.upper() not in SUPPORTED_REGIONS:
            raise ValueError(f"default_region {self.default_region!r} is not a phone region")
        # Frozen: normalise the configuration once, through the back door dataclasses use.
        object.__setattr__(self, "default_region", self.default_region.upper())
        object.__setattr__(
            self, "test_addresses",
            frozenset(address.strip().lower() for address in self.test_addresses),
        )
