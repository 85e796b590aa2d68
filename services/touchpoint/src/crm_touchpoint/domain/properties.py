"""The properties of each touchpoint type: one frozen model per typed type, and generic.

Typed properties refuse fields they do not define (``extra_forbidden``): a misspelt
``ammount`` must not vanish silently, and every typed field has a place on the wire.
Optional strings are trimmed and an empty one means absent; money is a canonical
decimal string (``"19.9"`` arrives, ``"19.90"`` is kept).

Types without a model of their own carry :class:`GenericProperties`: any JSON object,
bounded in depth, size and string length (see ``validation.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from crm_contracts.consent import (
    CONSENT_CHANNELS,
    CONSENT_PURPOSES,
    ConsentChannel,
    ConsentPurpose,
)
from crm_touchpoint.domain.fields import (
    MONEY_SCHEMA,
    CurrencyCode,
    FreeText,
    HttpUrl,
    OptionalUrl,
    at_most_max_items,
    money,
    optional_text,
    required_text,
    text_schema,
)
from crm_touchpoint.domain.rules import IngestionRules

__all__ = [
    "CONSENT_CHANNELS",
    "CONSENT_PURPOSES",
    "MAX_EXACT_INTEGER",
    "CallProperties",
    "ComplaintProperties",
    "ConsentProperties",
    "GenericProperties",
    "JsonValue",
    "OrderItem",
    "OrderProperties",
    "PageViewProperties",
    "Properties",
    "RefundProperties",
    "SurveyResponseProperties",
    "json_number",
]

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

Id = Annotated[str, required_text(200, is_id=True), text_schema(200, required=True)]
Label = Annotated[str, required_text(200), text_schema(200, required=True)]
OptionalId = Annotated[str | None, optional_text(200, drop_junk=True), text_schema(200)]
OptionalLabel = Annotated[str | None, optional_text(200, drop_junk=True), text_schema(200)]
ItemName = Annotated[str | None, optional_text(500), text_schema(500)]
Title = Annotated[str | None, optional_text(500, drop_junk=True), text_schema(500)]
Amount = Annotated[str, money(), MONEY_SCHEMA]
PositiveAmount = Annotated[str, money(positive=True), MONEY_SCHEMA]
UnitPrice = Annotated[str, money(unit_price=True), MONEY_SCHEMA]

Severity = Literal["low", "medium", "high", "critical"]


class _Properties(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class OrderItem(_Properties):
    """One line of an order; its unit price is in the order's currency."""

    sku: Id
    name: ItemName = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]
    unit_price: UnitPrice


class OrderProperties(_Properties):
    """A purchase. ``currency`` comes before the amounts: they are checked against it."""

    order_id: Id
    currency: CurrencyCode
    amount: Amount
    items: Annotated[
        tuple[OrderItem, ...],
        Field(strict=False, json_schema_extra={"maxItems": IngestionRules.max_items}),
        AfterValidator(at_most_max_items),
    ] = ()


class RefundProperties(_Properties):
    """Money given back for an order (more than zero)."""

    order_id: Id
    currency: CurrencyCode
    amount: PositiveAmount


class CallProperties(_Properties):
    """A call-center contact; ``satisfaction`` 1-5 when the caller rated it."""

    duration_seconds: Annotated[int, Field(ge=0, le=86_400)]
    reason: OptionalLabel = None
    outcome: OptionalLabel = None
    agent_id: OptionalId = None
    satisfaction: Annotated[int, Field(ge=1, le=5)] | None = None


class SurveyResponseProperties(_Properties):
    """An answer to a survey: NPS (0-10), CSAT (1-5), or both, with a comment."""

    nps: Annotated[int, Field(ge=0, le=10)] | None = None
    csat: Annotated[int, Field(ge=1, le=5)] | None = None
    comment: FreeText = None

    @model_validator(mode="after")
    def _has_a_score(self) -> SurveyResponseProperties:
        if self.nps is None and self.csat is None:
            raise PydanticCustomError("required", "must hold nps (0-10), csat (1-5) or both")
        return self


class ComplaintProperties(_Properties):
    """A complaint; open complaints suppress marketing."""

    category: Label
    severity: Severity


class PageViewProperties(_Properties):
    """A page (or app screen with a URL) seen by a visitor."""

    url: HttpUrl
    referrer: OptionalUrl = None
    title: Title = None


class ConsentProperties(_Properties):
    """A consent given or withdrawn: opt-in (granted) or unsubscribe (not granted)."""

    channel: ConsentChannel
    purpose: ConsentPurpose
    granted: bool


@dataclass(frozen=True)
class GenericProperties:
    """Free-form properties of a type without a model (validated and normalised JSON)."""

    fields: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)


MAX_EXACT_INTEGER = 2**53
"""Generic numbers travel as doubles (``google.protobuf.Struct``): integers beyond this
would silently change, so they are refused."""


def json_number(number: float) -> int | float:
    """A JSON number in normal form: whole numbers (``5.0``) as ``int`` (``5``).

    The wire holds every generic number as a double; normalising both sides the same way
    makes a touchpoint read back from the wire equal to the one that was accepted.
    """
    if number.is_integer() and abs(number) <= MAX_EXACT_INTEGER:
        return int(number)
    return number


Properties: TypeAlias = (
    OrderProperties
    | RefundProperties
    | CallProperties
    | SurveyResponseProperties
    | ComplaintProperties
    | PageViewProperties
    | ConsentProperties
    | GenericProperties
)
"""What :attr:`ValidatedTouchpoint.properties` holds, by type."""
