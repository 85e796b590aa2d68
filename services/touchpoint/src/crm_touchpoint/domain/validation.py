"""``validate_touchpoint``: one posted event in, a :class:`ValidatedTouchpoint` or a
:class:`Rejection` out. Pure, and it never raises for any input.

The order of checks, cheapest and most fundamental first:

1. the event is a JSON object;
2. its compact JSON is at most ``max_event_bytes``, and every string can be stored (no
   NUL, no unpaired surrogate): otherwise only this problem is reported, because the
   rest is not worth the work;
3. the models (``schema.py``): every field's type, range, format and normalisation, in
   one pass, so all field problems are reported together;
4. rules across fields: the channel may report the type; generic properties are bounded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from crm_touchpoint.domain.catalogue import ALLOWED_CHANNELS, CHANNELS, GENERIC_TYPES
from crm_touchpoint.domain.fields import ValidationRun, parse_event_id
from crm_touchpoint.domain.identifiers import IDENTIFIER_TYPES, Identifier
from crm_touchpoint.domain.problems import Problem, Rejection, describe, problems_from_pydantic
from crm_touchpoint.domain.properties import (
    MAX_EXACT_INTEGER,
    GenericProperties,
    JsonValue,
    json_number,
)
from crm_touchpoint.domain.rules import IngestionRules
from crm_touchpoint.domain.schema import ENVELOPE_ADAPTER, EVENT_ADAPTER, Event, GenericEvent
from crm_touchpoint.domain.touchpoint import ValidatedTouchpoint

__all__ = ["DEFAULT_RULES", "validate_touchpoint"]

DEFAULT_RULES = IngestionRules()
MAX_PROPERTY_NAME_LENGTH = 100

_GENERIC = frozenset(GENERIC_TYPES)
_encoder = getattr(json.encoder, "c_make_encoder", None)


def _compact_json(value: object) -> str:
    """Compact JSON, as ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``.

    Calls the C encoder directly when there is one: json.dumps builds a new encoder per
    call, which is a third of the cost for an event. No circular-reference markers: parsed
    JSON has no cycles, and a cycle would end in RecursionError, which is handled.
    """
    if _C_ENCODER is None:
        return _FALLBACK.encode(value)
    return "".join(_C_ENCODER(value, 0))


_FALLBACK = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_C_ENCODER = (
    _encoder(None, _FALLBACK.default, json.encoder.encode_basestring, None, ":", ",",
             False, False, True)
    if _encoder is not None else None
)
_CHANNEL_SET = frozenset(CHANNELS)


def validate_touchpoint(
    raw: object, *, now: datetime, rules: IngestionRules = DEFAULT_RULES
) -> ValidatedTouchpoint | Rejection:
    """Validate and normalise one event as parsed from JSON.

    ``now`` (timezone-aware) is the server's clock, against which ``occurred_at`` may be
    at most ``rules.future_tolerance`` ahead. Raises only for a naive ``now``.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(raw, dict):
        return Rejection((Problem("", "type", "the event must be a JSON object"),), None)
    early = _storable_problem(raw, rules)
    if early is not None:
        return Rejection((early,), _readable_event_id(raw))

    run = ValidationRun(now=now.astimezone(UTC), rules=rules)
    tag = raw.get("type")
    problems: list[Problem] = []
    event: Event | None = None
    try:
        event = EVENT_ADAPTER.validate_python(raw, context=run)
    except ValidationError as error:
        problems = problems_from_pydantic(_details(error), tag=tag)
        if any(problem.field == "type" for problem in problems):
            problems += _envelope_problems(raw, now=run.now, rules=rules)
    problems += _channel_problems(raw.get("channel"), tag)
    generic = None
    if isinstance(tag, str) and tag in _GENERIC and isinstance(raw.get("properties"), dict):
        generic = _generic_properties(raw["properties"], rules, problems)

    if problems or event is None:
        return Rejection(tuple(problems), _readable_event_id(raw))
    return _touchpoint(event, generic, run.warnings)


def _details(error: ValidationError) -> list[ErrorDetails]:
    return error.errors(include_url=False, include_input=False)


def _readable_event_id(raw: dict[object, object]) -> str | None:
    event_id = parse_event_id(raw.get("event_id"))
    return str(event_id) if event_id is not None else None


def _envelope_problems(
    raw: dict[object, object], *, now: datetime, rules: IngestionRules
) -> list[Problem]:
    """The envelope's problems when the type is missing or unknown (so the union stopped)."""
    try:
        ENVELOPE_ADAPTER.validate_python(raw, context=ValidationRun(now=now, rules=rules))
    except ValidationError as error:
        return problems_from_pydantic(_details(error), tag=None, tagged=False)
    return []


def _channel_problems(channel: object, kind: object) -> list[Problem]:
    if not (isinstance(channel, str) and isinstance(kind, str)):
        return []
    allowed = ALLOWED_CHANNELS.get(kind)
    if allowed is None or channel not in _CHANNEL_SET or channel in allowed:
        return []
    return [Problem(
        "type",
        "channel_not_allowed",
        f"type {kind} cannot arrive through channel {channel}; it may come through "
        + ", ".join(sorted(allowed)),
    )]


def _touchpoint(
    event: Event, generic: GenericProperties | None, warnings: list[str]
) -> ValidatedTouchpoint:
    # Models keep their fields in __dict__; reading it is much faster than iterating them.
    sent = event.identifiers.__dict__
    identifiers = tuple(
        Identifier(kind, sent[kind]) for kind in IDENTIFIER_TYPES if sent[kind] is not None
    )
    traits = {name: value for name, value in event.traits.__dict__.items() if value is not None}
    properties = generic if isinstance(event, GenericEvent) else event.properties
    return ValidatedTouchpoint(
        event_id=event.event_id,
        channel=event.channel,
        type=event.type,
        occurred_at=event.occurred_at,
        identifiers=identifiers,
        traits=traits,
        properties=properties if properties is not None else GenericProperties(),
        warnings=tuple(warnings),
    )


# --- size and storability ---------------------------------------------------------------


def _storable_problem(raw: dict[object, object], rules: IngestionRules) -> Problem | None:
    """Too large, too deep for JSON, not JSON, or holding an unstorable string."""
    try:
        text = _compact_json(raw)
    except RecursionError:
        return Problem("", "too_deep", "the event is nested too deeply to be read")
    except (TypeError, ValueError):
        return Problem("", "type", "the event must consist of JSON values only")
    if len(text) > rules.max_event_bytes:  # every character is at least one byte
        return _too_large(len(text.encode("utf-8", "surrogatepass")), rules)
    try:
        size = len(text) if text.isascii() else len(text.encode())
    except UnicodeEncodeError:
        return _unstorable(raw)
    if size > rules.max_event_bytes:
        return _too_large(size, rules)
    if "\\u0000" in text:  # json.dumps writes NUL as \u0000 (or a literal "\u0000" text)
        return _unstorable(raw)
    return None


def _too_large(size: int, rules: IngestionRules) -> Problem:
    return Problem(
        "", "too_large",
        f"the event is {size} bytes of compact JSON; at most {rules.max_event_bytes} are allowed",
    )


def _unstorable(raw: dict[object, object]) -> Problem | None:
    for path, text in _strings(raw, ()):
        if "\x00" in text or not _is_utf8(text):
            field = _safe(".".join(path))
            return Problem(
                field, "encoding",
                f"{describe(field)} holds a NUL character or an unpaired UTF-16 surrogate, "
                "which cannot be stored",
            )
    return None


def _strings(value: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string (keys included) with its path, depth first (iterative: any depth)."""
    pending: list[tuple[tuple[str, ...], object]] = [(path, value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                name = str(key)
                pending.append(((*where, name), child))
                pending.append(((*where, name), name))
        elif isinstance(item, list):
            pending.extend(((*where, str(index)), child)
                           for index, child in reversed(list(enumerate(item))))


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _safe(text: str) -> str:
    """Text that can go in a problem document: surrogates and NUL escaped."""
    return text.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")


# --- generic properties -----------------------------------------------------------------


def _generic_properties(
    properties: dict[object, object], rules: IngestionRules, problems: list[Problem]
) -> GenericProperties:
    """Bounded, normalised JSON; problems are appended to ``problems``."""
    found: list[Problem] = []
    fields = _walk_object(properties, "properties", 1, rules, found)
    problems.extend(found)
    return GenericProperties(fields)


def _walk_object(
    value: dict[object, object], path: str, depth: int, rules: IngestionRules,
    problems: list[Problem],
) -> dict[str, JsonValue]:
    if len(value) > rules.max_items:
        problems.append(Problem(path, "max_items", f"{path} must have at most "
                                f"{rules.max_items} entries"))
    normalised: dict[str, JsonValue] = {}
    for key, item in value.items():
        name = str(key)
        where = f"{path}.{name}"
        if not name or len(name) > MAX_PROPERTY_NAME_LENGTH:
            problems.append(Problem(
                where, "pattern",
                f"{where}: property names must be 1 to {MAX_PROPERTY_NAME_LENGTH} characters",
            ))
        normalised[name] = _walk(item, where, depth, rules, problems)
    return normalised


def _walk(
    value: object, path: str, depth: int, rules: IngestionRules, problems: list[Problem]
) -> JsonValue:
    """``value`` (inside a container at ``depth``) checked and normalised."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > rules.max_string_length:
            problems.append(Problem(path, "max_length", f"{path} must be at most "
                                    f"{rules.max_string_length} characters long"))
        return value
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_INTEGER:
            problems.append(Problem(path, "range", f"{path} must be between -2^53 and 2^53 "
                                    "(send larger numbers as strings)"))
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(Problem(path, "type", f"{path} must be a finite number"))
            return None
        return json_number(value)
    if isinstance(value, dict | list):
        if depth >= rules.max_depth:
            problems.append(Problem(path, "too_deep", f"{path} is nested deeper than "
                                    f"{rules.max_depth} levels"))
            return None
        if isinstance(value, dict):
            return _walk_object(value, path, depth + 1, rules, problems)
        if len(value) > rules.max_items:
            problems.append(Problem(path, "max_items", f"{path} must have at most "
                                    f"{rules.max_items} entries"))
        return [_walk(item, f"{path}.{index}", depth + 1, rules, problems)
                for index, item in enumerate(value)]
    problems.append(Problem(path, "type", f"{path} must be a JSON value"))
    return None
