"""Field types of the event models: each validates, normalises and documents one kind of value.

Validators run inside pydantic (so every field's problem is reported in one pass) with a
:class:`ValidationRun` as the validation context: it carries ``now``, the rules, and
collects warnings about dropped junk. Problems are raised as ``PydanticCustomError`` whose
type is one of our rule slugs and whose message completes the sentence "<field> ...".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from crm_touchpoint.domain.identifiers import (
    MAX_IDENTIFIER_LENGTH,
    InvalidValue,
    JunkValue,
    is_junk,
    normalise_identifier,
)
from crm_touchpoint.domain.reference import COUNTRIES, CURRENCIES, MINOR_UNITS
from crm_touchpoint.domain.rules import IngestionRules

__all__ = [
    "MONEY_SCHEMA",
    "BirthDate",
    "CountryCode",
    "CurrencyCode",
    "EventId",
    "FreeText",
    "HttpUrl",
    "LanguageTag",
    "OccurredAt",
    "OptionalUrl",
    "PostalCode",
    "ValidationRun",
    "at_most_max_items",
    "canonical_amount",
    "identifier",
    "identifier_schema",
    "money",
    "optional_text",
    "parse_event_id",
    "parse_rfc3339",
    "required_text",
    "text_schema",
    "trait_text",
]

_Item = TypeVar("_Item")

MAX_URL_LENGTH = 2048
MAX_AMOUNT_LENGTH = 40
MAX_INTEGER_DIGITS = 15
MAX_UNIT_PRICE_DECIMALS = 4


@dataclass(slots=True)
class ValidationRun:
    """The context of validating one event (mutable, lives for one call)."""

    now: datetime
    rules: IngestionRules
    warnings: list[str] = field(default_factory=list)
    # The order's currency: declared before the amounts, so validated before them.
    currency: str | None = None
    latest: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.latest = self.now + self.rules.future_tolerance

    def drop(self, where: str, note: str) -> None:
        self.warnings.append(f"{where}: {note}")


def _run(info: ValidationInfo) -> ValidationRun:
    # Always a ValidationRun: the models are validated only by validate_touchpoint().
    return cast(ValidationRun, info.context)


def _error(rule: str, detail: str) -> PydanticCustomError:
    # Braces in a detail would be read as template fields by pydantic.
    return PydanticCustomError(rule, detail.replace("{", "(").replace("}", ")"))


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise _error("type", "must be a string")
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(value: object, limit: int) -> str:
    """A string value trimmed and checked: the common start of every text field."""
    if not isinstance(value, str):
        raise _error("type", "must be a string")
    text = value.strip()
    if len(text) > limit:
        raise _error("max_length", f"must be at most {limit} characters long")
    if not text.isprintable() and _CONTROL.search(text):  # isprintable: the fast common case
        raise _error("pattern", "must not contain control characters")
    return text


# --- event id and time ----------------------------------------------------------------

_NIL = uuid.UUID(int=0)
_UUID = TypeAdapter(uuid.UUID)


def _not_nil(value: uuid.UUID) -> uuid.UUID:
    if value == _NIL:
        raise _error("pattern", "must not be the nil UUID")
    return value


def parse_event_id(value: object) -> uuid.UUID | None:
    """The event id if ``value`` is a valid one (a UUID string, not the nil UUID)."""
    try:
        parsed = _UUID.validate_python(value, strict=False) if isinstance(value, str) else None
    except ValidationError:
        return None
    return parsed if parsed != _NIL else None


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"([Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 timestamp with offset as an aware UTC datetime (microseconds kept,
    further digits truncated). Raises ``PydanticCustomError`` (datetime,
    timezone_required or range)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _error(
            "datetime", "must be an RFC 3339 timestamp with offset, e.g. 2024-05-01T12:00:00+02:00"
        )
    if match.group(1) is None:
        raise _error("timezone_required", "has no UTC offset: end it with Z or +hh:mm / -hh:mm")
    try:
        # The pattern has pinned the format; fromisoformat (fast, C) checks the calendar.
        return datetime.fromisoformat(text.upper()).astimezone(UTC)
    except OverflowError:
        raise _error("range", "is outside the years 0001 to 9999 in UTC") from None
    except ValueError:
        raise _error("datetime", "is not a real date and time") from None


def _occurred_at(value: object, info: ValidationInfo) -> datetime:
    run = _run(info)
    moment = parse_rfc3339(_string(value))
    if moment > run.latest:
        raise _error(
            "in_future",
            f"is in the future: {moment.isoformat()} is later than now plus "
            f"{run.rules.future_tolerance} (check the client's clock and offset)",
        )
    if moment <= run.rules.earliest_occurred_at:
        raise _error(
            "range", f"must be after {run.rules.earliest_occurred_at.isoformat()}"
        )
    return moment


EventId = Annotated[
    uuid.UUID,
    Field(strict=False, description="Client-generated UUID; the idempotency key."),
    AfterValidator(_not_nil),
]
OccurredAt = Annotated[
    datetime,
    PlainValidator(_occurred_at),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "description": "RFC 3339 with a UTC offset; at most 5 minutes ahead."}),
]

# --- text -----------------------------------------------------------------------------


def text_schema(limit: int, *, required: bool = False) -> WithJsonSchema:
    """The JSON schema of a string field of at most ``limit`` characters."""
    schema: dict[str, object] = {"type": "string", "maxLength": limit}
    if required:
        schema["minLength"] = 1
    return WithJsonSchema(schema)


def required_text(limit: int, *, is_id: bool = False) -> PlainValidator:
    """A required string, trimmed, 1 to ``limit`` characters; ids refuse placeholders."""

    def validate(value: object) -> str:
        text = _clean(value, limit)
        if not text:
            raise _error("min_length", "must not be empty")
        if is_id and is_junk(text):
            raise _error("required", f"is required, and {text!r} is a placeholder, not an id")
        return text

    return PlainValidator(validate)


def optional_text(limit: int | None = None, *, drop_junk: bool = False) -> PlainValidator:
    """An optional string, trimmed; empty means absent. ``limit`` None: the rules' limit.

    With ``drop_junk`` (top-level properties only: the warning names the field as
    ``properties.<name>``), placeholders are dropped with a warning instead of kept.
    """

    def validate(value: object, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        run = _run(info)
        text = _clean(value, limit or run.rules.max_string_length)
        if not text:
            return None
        if drop_junk and is_junk(text):
            run.drop(f"properties.{info.field_name}", f"dropped junk value {value!r}")
            return None
        return text

    return PlainValidator(validate)


FreeText = Annotated[
    str | None, optional_text(drop_junk=True), text_schema(IngestionRules.max_string_length)
]

# --- urls -----------------------------------------------------------------------------


# Plain http(s) URLs, most of what arrives: a host of letters, digits, dots and dashes, an
# optional port, then anything but whitespace. Every text this matches, urlsplit accepts
# too (a property test holds them to that); the rest take the general path below.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:[/?#]\S*)?")
_WHITESPACE = re.compile(r"\s")


def is_plain_http_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL of the plain shape the fast path accepts."""
    return _PLAIN_HTTP_URL.fullmatch(text) is not None


def is_usable_url(text: str, *, schemes: frozenset[str] | None) -> bool:
    """Whether ``text`` is an absolute URL with a host (and, if given, one of ``schemes``)
    and no whitespace: the general rule, by ``urlsplit``."""
    try:
        parts = urlsplit(text)
        usable = bool(parts.hostname) and (parts.scheme in schemes if schemes else
                                           bool(parts.scheme))
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return False
    return usable and _WHITESPACE.search(text) is None


def _url(text: str, *, schemes: frozenset[str] | None) -> str:
    if not (is_plain_http_url(text) or is_usable_url(text, schemes=schemes)):
        kind = "http(s)" if schemes else "absolute"
        raise _error("url", f"must be an {kind} URL such as https://shop.example.com/cart")
    return text


_HTTP = frozenset({"http", "https"})


def _http_url(value: object) -> str:
    return _url(_clean(value, MAX_URL_LENGTH), schemes=_HTTP)


def _optional_url(value: object) -> str | None:
    """Any absolute URL (app referrers such as android-app://... included), or absent."""
    if value is None:
        return None
    text = _clean(value, MAX_URL_LENGTH)
    return _url(text, schemes=None) if text else None


_URL_SCHEMA = {"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH}
HttpUrl = Annotated[str, PlainValidator(_http_url), WithJsonSchema(_URL_SCHEMA)]
OptionalUrl = Annotated[str | None, PlainValidator(_optional_url), WithJsonSchema(_URL_SCHEMA)]

# --- money ----------------------------------------------------------------------------

_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def canonical_amount(text: str, *, minor: int, max_decimals: int, positive: bool) -> str:
    """``text`` as a canonical decimal string with at least ``minor`` decimals.

    ``"19.9"`` -> ``"19.90"``, ``"007"`` -> ``"7.00"``; raises :class:`InvalidValue`.
    """
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise InvalidValue(
            "decimal", 'must be a decimal string such as "19.99" (digits, then "." and decimals)'
        )
    sign, whole, fraction = match.group(1), match.group(2).lstrip("0"), match.group(3) or ""
    fraction = fraction.rstrip("0")
    if sign and (whole or fraction):
        raise InvalidValue("range", "must not be negative")
    if positive and not (whole or fraction):
        raise InvalidValue("range", "must be greater than 0")
    if len(whole) > MAX_INTEGER_DIGITS:
        raise InvalidValue("range", f"must be less than 10^{MAX_INTEGER_DIGITS}")
    if len(fraction) > max_decimals:
        raise InvalidValue("precision", f"must have at most {max_decimals} decimals")
    fraction = fraction.ljust(minor, "0")
    return f"{whole or '0'}.{fraction}" if fraction else whole or "0"


def money(*, unit_price: bool = False, positive: bool = False) -> PlainValidator:
    """A money amount as a decimal string, checked against the order's currency.

    An order's amount has at most its currency's minor units of decimals; a unit price
    may have up to four (fuel, energy and wholesale prices go below the cent).
    """

    def validate(value: object, info: ValidationInfo) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise _error(
                "decimal",
                f'must be a decimal string such as "{value}", not a JSON number: '
                "numbers lose precision between languages",
            )
        text = _string(value)
        if len(text) > MAX_AMOUNT_LENGTH:
            raise _error("max_length", f"must be at most {MAX_AMOUNT_LENGTH} characters long")
        currency = _run(info).currency
        minor = MINOR_UNITS.get(currency or "", 2)
        decimals = max(minor, MAX_UNIT_PRICE_DECIMALS) if unit_price else minor
        try:
            return canonical_amount(text, minor=minor, max_decimals=decimals, positive=positive)
        except InvalidValue as invalid:
            detail = invalid.detail
            if invalid.rule == "precision" and currency and not unit_price:
                detail += f" ({currency} has {minor} minor units)"
            raise _error(invalid.rule, detail) from None

    return PlainValidator(validate)


MONEY_SCHEMA = WithJsonSchema({
    "type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "maxLength": MAX_AMOUNT_LENGTH,
    "examples": ["19.99"], "description": "A decimal string, never a JSON number.",
})


def _currency(value: object, info: ValidationInfo) -> str:
    code = _string(value).strip().upper()
    if code not in CURRENCIES:
        raise _error("currency", f"{str(value)[:10]!r} is not a circulating ISO 4217 currency")
    _run(info).currency = code
    return code


CurrencyCode = Annotated[
    str,
    PlainValidator(_currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["EUR"]}),
]


def at_most_max_items(items: tuple[_Item, ...], info: ValidationInfo) -> tuple[_Item, ...]:
    """A list bounded by the rules' ``max_items``."""
    limit = _run(info).rules.max_items
    if len(items) > limit:
        raise _error("max_items", f"must have at most {limit} entries")
    return items


# --- identifiers and traits -----------------------------------------------------------


def identifier(kind: str) -> PlainValidator:
    """An optional identifier of ``kind``; normalised, or dropped with a warning if junk."""

    def validate(value: object, info: ValidationInfo) -> str | None:
        run = _run(info)
        if value is None:
            run.drop(f"identifiers.{kind}", "dropped junk value null")
            return None
        try:
            return normalise_identifier(kind, _string(value), run.rules)
        except JunkValue as junk:
            run.drop(f"identifiers.{kind}", junk.note)
            return None
        except InvalidValue as invalid:
            raise _error(invalid.rule, invalid.detail) from None

    return PlainValidator(validate)


def identifier_schema(kind: str) -> WithJsonSchema:
    schema: dict[str, object] = {"type": "string", "maxLength": MAX_IDENTIFIER_LENGTH[kind]}
    if kind == "email":
        schema["format"] = "email"
    return WithJsonSchema(schema)


def trait_text(
    limit: int, normalise: Callable[[str, ValidationRun], str] | None = None
) -> PlainValidator:
    """An optional trait: trimmed, junk dropped with a warning, then ``normalise``d."""

    def validate(value: object, info: ValidationInfo) -> str | None:
        run = _run(info)
        if value is None:
            run.drop(f"traits.{info.field_name}", "dropped junk value null")
            return None
        text = _clean(value, limit)
        if is_junk(text):
            run.drop(f"traits.{info.field_name}", f"dropped junk value {value!r}")
            return None
        return normalise(text, run) if normalise else text

    return PlainValidator(validate)


def _country(text: str, run: ValidationRun) -> str:
    code = text.upper()
    if code not in COUNTRIES:
        raise _error("country", "must be an ISO 3166-1 alpha-2 country code such as DE or GB")
    return code


_POSTAL = re.compile(r"[A-Z0-9](?:[A-Z0-9 -]{0,18}[A-Z0-9])?")


def _postal_code(text: str, run: ValidationRun) -> str:
    code = " ".join(text.upper().split())
    if not _POSTAL.fullmatch(code):
        raise _error("pattern", "must be letters and digits, optionally with spaces or '-'")
    return code


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def _language(text: str, run: ValidationRun) -> str:
    """A BCP 47 tag in its canonical case: ``EN-us`` -> ``en-US``, ``zh-hant`` -> ``zh-Hant``."""
    if not _LANGUAGE.fullmatch(text):
        raise _error("pattern", "must be a BCP 47 language tag such as en or pt-BR")
    first, *rest = text.split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())
        else:
            parts.append(part.lower())
    return "-".join(parts)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EARLIEST_BIRTH = date(1900, 1, 1)


def _birth_date(text: str, run: ValidationRun) -> str:
    try:
        born = date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        born = None
    if born is None:
        raise _error("datetime", "must be a date as YYYY-MM-DD")
    if born < _EARLIEST_BIRTH or born > run.now.date():
        raise _error("range", "must be between 1900-01-01 and today")
    return text


CountryCode = Annotated[
    str | None,
    trait_text(60, _country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}$", "examples": ["DE"]}),
]
PostalCode = Annotated[str | None, trait_text(20, _postal_code), text_schema(20)]
LanguageTag = Annotated[
    str | None,
    trait_text(35, _language),
    WithJsonSchema({"type": "string", "maxLength": 35, "examples": ["en", "pt-BR"]}),
]
BirthDate = Annotated[
    str | None,
    trait_text(40, _birth_date),
    WithJsonSchema({"type": "string", "format": "date"}),
]
