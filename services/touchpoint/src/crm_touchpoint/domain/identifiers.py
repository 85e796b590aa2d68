"""Customer identifiers as the touchpoint service applies them: the shared rule of
:mod:`crm_contracts.identifiers`, configured by the service's :class:`IngestionRules`."""

from __future__ import annotations

from crm_contracts.identifiers import (
    IDENTIFIER_TYPES,
    MAX_IDENTIFIER_LENGTH,
    Identifier,
    IdentifierType,
    InvalidValue,
    JunkValue,
    e164_phone,
    is_junk,
)
from crm_contracts.identifiers import normalise_identifier as _normalise
from crm_touchpoint.domain.rules import IngestionRules

__all__ = [
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

_DEFAULTS = IngestionRules()


def normalise_identifier(kind: str, raw: str, rules: IngestionRules = _DEFAULTS) -> str:
    """The normalised value of one identifier as sent, under ``rules``.

    Raises :class:`JunkValue` for placeholders (and configured test addresses) and
    :class:`InvalidValue` for values that are real but malformed.
    """
    return _normalise(kind, raw, region=rules.default_region,
                      test_addresses=rules.test_addresses)
