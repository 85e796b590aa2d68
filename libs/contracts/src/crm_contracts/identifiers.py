"""Customer identifiers: what they are, how strong each one is, how they are normalised.

This is part of the contract between services: the touchpoint service normalises what
channels send with it, and the customer view normalises lookups with it, so a raw value
typed by an agent finds the record the ingested value built.

Normalisation makes one person look the same from every channel: emails trimmed and
lower-cased, phones in E.164, numbers and ids trimmed. Junk (placeholders that tools and
forms put where a value is missing) is told apart from an invalid value: junk is dropped
with a warning, an invalid value rejects the event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, get_args

import phonenumbers

__all__ = [
    "DEFAULT_REGION",
    "IDENTIFIER_TYPES",
    "MAX_IDENTIFIER_LENGTH",
    "Identifier",
    "IdentifierType",
    "InvalidValue",
    "JunkValue",
    "e164_phone",
    "is_junk",
    "normalise_identifier",
]

IdentifierType = Literal["customer_number", "loyalty_id", "email", "phone", "anonymous_id"]

IDENTIFIER_TYPES: tuple[IdentifierType, ...] = get_args(IdentifierType)
"""Strongest first: the order of :attr:`ValidatedTouchpoint.identifiers` and the choice of
the partition key. A customer number is issued by us; an anonymous id only by a browser."""

MAX_IDENTIFIER_LENGTH: MappingProxyType[str, int] = MappingProxyType({
    "customer_number": 200,
    "loyalty_id": 200,
    "email": 254,
    "phone": 50,
    "anonymous_id": 200,
})
"""Limits on the trimmed value (254 is the longest deliverable email address)."""


@dataclass(frozen=True)
class Identifier:
    """One normalised identifier of a customer, e.g. ``Identifier("email", "ada@example.com")``."""

    type: str
    value: str


class JunkValue(Exception):
    """A placeholder where a value should be; the identifier is dropped with a warning."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


class InvalidValue(Exception):
    """A real but malformed value; the event is rejected under ``rule``."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


DEFAULT_REGION = "US"

# Placeholder words (any case), or nothing but zeros and the separators people type in
# numbers (empty included).
_JUNK = re.compile(
    r"(?i:null|undefined|\[object object\]|nan|none|nil|n/a|unknown)|[0\s\-.()+/_#*]*"
)


def is_junk(text: str) -> bool:
    """Whether a trimmed value is a placeholder: empty, a junk word, or only zeros.

    Junk words (any case): null, undefined, [object Object], NaN, none, nil, n/a, unknown.
    """
    return _JUNK.fullmatch(text) is not None


def normalise_identifier(
    kind: str, raw: str, *, region: str = DEFAULT_REGION,
    test_addresses: frozenset[str] = frozenset(),
) -> str:
    """The normalised value of one identifier as sent; ``region`` places phone numbers
    written without +country; ``test_addresses`` are emails treated as junk.

    Raises :class:`JunkValue` for placeholders (and test addresses) and
    :class:`InvalidValue` for values that are real but malformed.
    """
    text = raw.strip()
    limit = MAX_IDENTIFIER_LENGTH.get(kind, 200)
    if len(text) > limit:
        raise InvalidValue("max_length", f"must be at most {limit} characters long")
    if is_junk(text):
        raise JunkValue(f"dropped junk value {raw!r}")
    if kind == "email":
        return _email(text, test_addresses)
    if kind == "phone":
        return _phone(text, region)
    if not text.isprintable():
        raise InvalidValue("pattern", "must not contain control characters")
    return text


# Deliberately permissive (internationalised addresses pass), but a typo such as a
# missing "@", a space, two dots or a missing top-level domain does not. Possessive
# quantifiers on the character classes: no backtracking inside a part, so the cost
# stays linear whatever is sent. The groups repeat greedily, not possessively: each part
# starts (or ends) with a dot the others cannot hold, so giving one back is all the
# backtracking there is. (Python 3.11.2's regex engine, Debian 12's python3, fails
# every address when the domain's group repeats possessively; later 3.11s do not.)
_NOT_IN_LOCAL = r"\s@\"(),:;<>\[\]\\.\x00-\x1f\x7f"
_EMAIL = re.compile(
    rf"[^{_NOT_IN_LOCAL}]{{1,64}}+(?:\.[^{_NOT_IN_LOCAL}]{{1,64}}+)*"
    r"@(?:[^\W_](?:[^\W_]|-)*+(?<!-)\.)+"
    r"(?:[^\W\d_]{2,63}+|xn--[a-z0-9-]{1,59}+)"
)


def _email(text: str, test_addresses: frozenset[str]) -> str:
    address = text.lower()
    if address in test_addresses:
        raise JunkValue(f"dropped test address {text!r}")
    local, _, _ = address.rpartition("@")
    if len(local) > 64 or not _EMAIL.fullmatch(address):
        raise InvalidValue("pattern", "must be an email address such as ada@example.com")
    return address


def _phone(text: str, region: str) -> str:
    e164 = e164_phone(text, region)
    if e164 is None:
        raise InvalidValue(
            "pattern",
            f"must be a valid phone number: international (+country code) or national "
            f"in {region}",
        )
    return e164


@lru_cache(maxsize=65_536)
def e164_phone(text: str, region: str) -> str | None:
    """``text`` in E.164, or ``None`` if it is not a valid number (cached: parsing is slow)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
