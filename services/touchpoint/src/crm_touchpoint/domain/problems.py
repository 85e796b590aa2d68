"""Why an event is rejected: :class:`Problem` and :class:`Rejection`, and the rule slugs.

A problem names the field as a dotted path into the event JSON (list positions are
numbers: ``properties.items.0.sku``; ``""`` is the event as a whole) and one rule slug.
Slugs are part of the public contract: clients branch on them, so a slug is never renamed,
only added. The slugs (:data:`RULES` holds the same list):

- ``required``: a required field is missing (on ``properties``: none of a required group,
  e.g. a survey response without nps or csat; on an id: only a placeholder was sent)
- ``type``: the JSON type is wrong (a number where a string is expected, NaN, ...)
- ``enum``: not one of the listed values (channel, severity, consent purpose, ...)
- ``range``: a number or time outside its range (satisfaction 1-5, NPS 0-10, ...)
- ``min_length``: an empty string where a value is required
- ``max_length``: a string longer than its limit
- ``max_items``: a list or object with more entries than allowed
- ``pattern``: a string not in the required format (uuid, email, phone, postal code, ...)
- ``decimal``: money not sent as a decimal string such as ``"19.99"`` (a JSON number is
  refused: it loses precision between languages)
- ``precision``: more decimals than the currency's minor units (4 for unit prices)
- ``currency``: not a circulating ISO 4217 code
- ``country``: not an ISO 3166-1 alpha-2 code
- ``url``: not an absolute http(s) URL
- ``datetime``: not an RFC 3339 timestamp, or not a real date
- ``timezone_required``: a timestamp without a UTC offset
- ``in_future``: ``occurred_at`` later than now plus the allowed clock skew
- ``too_large``: the event's compact JSON exceeds the size limit (field ``""``)
- ``too_deep``: generic properties nested deeper than allowed
- ``encoding``: a string holds NUL or an unpaired surrogate (it could not be stored)
- ``unknown_type``: the touchpoint type is not in the catalogue
- ``channel_not_allowed``: the type cannot arrive through this channel (field ``type``)
- ``no_identifier``: no usable identifier left after dropping junk (field ``identifiers``)
- ``extra_forbidden``: a field the contract does not define (typos included)
- ``invalid``: anything else (the message says why)

Raised by the application layer, not by validation (listed so the catalogue is whole):

- ``conflict``: the event id was already recorded with different content
- ``channel_not_allowed_for_key``: the API key may not post events of this channel

Pydantic's errors are translated here, once; nothing of pydantic's wording leaks out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pydantic_core import ErrorDetails

from crm_touchpoint.domain.catalogue import TOUCHPOINT_TYPES

__all__ = ["RULES", "Problem", "Rejection", "problems_from_pydantic"]

RULES: Mapping[str, str] = MappingProxyType({
    "required": "a required field is missing (or, on `properties`, none of a required group)",
    "type": "the JSON type is wrong (e.g. a number where a string is expected)",
    "enum": "the value is not one of the listed values",
    "range": "a number or time is outside its allowed range",
    "min_length": "a string is empty (after trimming) where a value is required",
    "max_length": "a string is longer than its limit",
    "max_items": "a list or object has more entries than allowed",
    "pattern": "a string does not have the required format (uuid, email, phone, ...)",
    "decimal": "money must be a decimal string such as \"19.99\" (never a JSON number)",
    "precision": "an amount has more decimals than its currency has minor units",
    "currency": "not a circulating ISO 4217 currency code",
    "country": "not an ISO 3166-1 alpha-2 country code",
    "url": "not an absolute http(s) URL",
    "datetime": "not an RFC 3339 timestamp (or not a real date)",
    "timezone_required": "a timestamp without a UTC offset",
    "in_future": "occurred_at is later than now plus the allowed clock skew",
    "too_large": "the compact JSON of the event exceeds the size limit",
    "too_deep": "generic properties are nested deeper than allowed",
    "encoding": "a string holds a NUL character or an unpaired surrogate",
    "unknown_type": "the touchpoint type is not in the catalogue",
    "channel_not_allowed": "the type cannot arrive through this channel",
    "no_identifier": "no usable identifier is left after normalisation",
    "extra_forbidden": "a field that the contract does not define",
    "invalid": "any other invalid value (the message says why)",
    "conflict": "the event id was already recorded with different content",
    "channel_not_allowed_for_key": "the API key may not post events of this channel",
})
"""Every rule slug a :class:`Problem` may carry, with what it means."""


@dataclass(frozen=True)
class Problem:
    """One reason an event is rejected."""

    field: str
    rule: str
    message: str


@dataclass(frozen=True)
class Rejection:
    """An event that was not accepted, with every problem found.

    ``event_id`` is the canonical event id when the event carried a valid one (even if
    other fields are bad), else ``None``.
    """

    problems: tuple[Problem, ...]
    event_id: str | None


def dotted(loc: Iterable[int | str]) -> str:
    """``("properties", "items", 0, "sku")`` -> ``"properties.items.0.sku"``."""
    return ".".join(str(part) for part in loc)


def describe(field: str) -> str:
    """How a message names a field."""
    return field if field else "the event"


# Pydantic error types -> (our slug, what to say). Unlisted types become "invalid".
_TRANSLATIONS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "missing": ("required", "is required"),
    "extra_forbidden": ("extra_forbidden", "is not a field of this event (check the spelling)"),
    "string_type": ("type", "must be a string"),
    "int_type": ("type", "must be a whole number"),
    "int_from_float": ("type", "must be a whole number"),
    "float_type": ("type", "must be a number"),
    "bool_type": ("type", "must be true or false"),
    "dict_type": ("type", "must be an object"),
    "model_type": ("type", "must be an object"),
    "model_attributes_type": ("type", "must be an object"),
    "list_type": ("type", "must be a list"),
    "tuple_type": ("type", "must be a list"),
    "none_required": ("type", "must be null"),
    "literal_error": ("enum", "must be one of {expected}"),
    "enum": ("enum", "must be one of {expected}"),
    "string_too_short": ("min_length", "must not be empty"),
    "string_too_long": ("max_length", "must be at most {max_length} characters long"),
    "too_long": ("max_items", "must have at most {max_length} entries"),
    "too_short": ("min_length", "must have at least {min_length} entries"),
    "greater_than": ("range", "must be greater than {gt}"),
    "greater_than_equal": ("range", "must be at least {ge}"),
    "less_than": ("range", "must be less than {lt}"),
    "less_than_equal": ("range", "must be at most {le}"),
    "string_pattern_mismatch": ("pattern", "does not have the expected format"),
    "uuid_parsing": ("pattern", "must be a UUID such as 3f2b6a1e-8c4d-4e5f-9a0b-1c2d3e4f5a6b"),
    "uuid_type": ("type", "must be a string holding a UUID"),
    "uuid_version": ("pattern", "must be a UUID such as 3f2b6a1e-8c4d-4e5f-9a0b-1c2d3e4f5a6b"),
    "recursion_loop": ("too_deep", "is nested too deeply"),
})


def problems_from_pydantic(
    errors: Iterable[ErrorDetails], *, tag: object, tagged: bool = True
) -> list[Problem]:
    """Our problems for pydantic's errors of one event.

    ``tag`` is the event's ``type`` as sent. Inside a tagged union (``tagged``) pydantic
    puts the discriminator's value in front of every location, and we strip it.
    """
    problems = []
    for error in errors:
        loc = error["loc"]
        if tagged and loc and loc[0] == tag:
            loc = loc[1:]
        problems.append(_translate(error, dotted(loc), tag))
    return problems


def _translate(error: ErrorDetails, field: str, tag: object) -> Problem:
    kind = error["type"]
    if kind == "union_tag_not_found":
        return Problem("type", "required", "type is required")
    if kind == "union_tag_invalid":
        return _bad_type(tag)
    if kind not in _TRANSLATIONS and kind in RULES:
        # Our own PydanticCustomError: its type is a slug, its message ours.
        return Problem(field, kind, f"{describe(field)} {error['msg']}")
    slug, detail = _TRANSLATIONS.get(kind, ("invalid", "is not valid"))
    context = error.get("ctx") or {}
    try:
        detail = detail.format(**context)
    except (KeyError, IndexError, ValueError):
        detail = "is not valid"
    return Problem(field, slug, f"{describe(field)} {detail}")


def _bad_type(tag: object) -> Problem:
    if not isinstance(tag, str):
        return Problem("type", "type", "type must be a string")
    return Problem(
        "type",
        "unknown_type",
        f"type {tag[:100]!r} is not a known touchpoint type; known types: "
        + ", ".join(TOUCHPOINT_TYPES),
    )
