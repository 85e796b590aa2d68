"""The shape of one posted event: a discriminated union of pydantic models keyed on ``type``.

The models validate and normalise field by field (see ``fields.py``); rules that span the
event (size, channel x type, generic properties) live in ``validation.py``. The adapters
are built once, at import.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic_core import PydanticCustomError

from crm_touchpoint.domain.catalogue import Channel, GenericType
from crm_touchpoint.domain.fields import (
    BirthDate,
    CountryCode,
    EventId,
    LanguageTag,
    OccurredAt,
    PostalCode,
    identifier,
    identifier_schema,
    text_schema,
    trait_text,
)
from crm_touchpoint.domain.properties import (
    CallProperties,
    ComplaintProperties,
    ConsentProperties,
    OrderProperties,
    PageViewProperties,
    RefundProperties,
    SurveyResponseProperties,
)

__all__ = [
    "ENVELOPE_ADAPTER",
    "EVENT_ADAPTER",
    "EVENT_JSON_SCHEMA",
    "Event",
    "Identifiers",
    "Traits",
    "event_json_schema",
]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Identifiers(_Model):
    """Who the event is about; at least one usable identifier after normalisation."""

    customer_number: Annotated[
        str | None, identifier("customer_number"), identifier_schema("customer_number")
    ] = None
    loyalty_id: Annotated[str | None, identifier("loyalty_id"), identifier_schema("loyalty_id")] = (
        None
    )
    email: Annotated[str | None, identifier("email"), identifier_schema("email")] = None
    phone: Annotated[str | None, identifier("phone"), identifier_schema("phone")] = None
    anonymous_id: Annotated[
        str | None, identifier("anonymous_id"), identifier_schema("anonymous_id")
    ] = None

    @model_validator(mode="after")
    def _has_one(self) -> Identifiers:
        if not any(self.__dict__.values()):  # kept values are non-empty strings, else None
            raise PydanticCustomError(
                "no_identifier",
                "hold no usable identifier: send at least one of customer_number, loyalty_id, "
                "email, phone or anonymous_id (placeholders such as 'undefined' do not count)",
            )
        return self


Name = Annotated[str | None, trait_text(100), text_schema(100)]


class Traits(_Model):
    """What the customer told us about themselves; a closed list, so typos are refused."""

    first_name: Name = None
    last_name: Name = None
    company: Annotated[str | None, trait_text(200), text_schema(200)] = None
    city: Name = None
    region: Name = None
    postal_code: PostalCode = None
    country: CountryCode = None
    language: LanguageTag = None
    birth_date: BirthDate = None


_NO_TRAITS = Traits()


class _Envelope(_Model):
    event_id: EventId
    channel: Channel
    type: object  # each event model narrows it to its tag(s)
    occurred_at: OccurredAt
    identifiers: Identifiers
    # One shared (frozen) empty instance: building a fresh one per event costs a microsecond.
    traits: Annotated[Traits, Field(default_factory=lambda: _NO_TRAITS)]


class OrderEvent(_Envelope):
    type: Literal["order"]
    properties: OrderProperties


class RefundEvent(_Envelope):
    type: Literal["refund"]
    properties: RefundProperties


class CallEvent(_Envelope):
    type: Literal["call"]
    properties: CallProperties


class SurveyResponseEvent(_Envelope):
    type: Literal["survey_response"]
    properties: SurveyResponseProperties


class ComplaintEvent(_Envelope):
    type: Literal["complaint"]
    properties: ComplaintProperties


class PageViewEvent(_Envelope):
    type: Literal["page_view"]
    properties: PageViewProperties


class ConsentEvent(_Envelope):
    type: Literal["consent"]
    properties: ConsentProperties


class GenericEvent(_Envelope):
    """Any type without a model of its own; properties are checked by ``validation.py``."""

    type: GenericType
    properties: Annotated[
        dict[str, object],
        Field(
            default_factory=dict,
            description="Free-form JSON object: bounded depth, entries and string length.",
        ),
    ]


Event = Annotated[
    OrderEvent
    | RefundEvent
    | CallEvent
    | SurveyResponseEvent
    | ComplaintEvent
    | PageViewEvent
    | ConsentEvent
    | GenericEvent,
    Field(discriminator="type"),
]


class _EnvelopeProbe(_Envelope):
    """The envelope alone, to report its problems when ``type`` is missing or unknown."""

    type: object = None
    properties: object = None


EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
ENVELOPE_ADAPTER: TypeAdapter[_EnvelopeProbe] = TypeAdapter(_EnvelopeProbe)



def event_json_schema(ref_template: str = "#/$defs/{model}") -> dict[str, object]:
    """The JSON schema of one posted event, its sub-schemas under ``$defs``.

    To put them into an OpenAPI document's ``components/schemas`` instead, pass
    ``"#/components/schemas/{model}"`` and move the ``$defs`` entries there.
    """
    return EVENT_ADAPTER.json_schema(ref_template=ref_template)


EVENT_JSON_SCHEMA: dict[str, object] = event_json_schema()
"""The JSON schema of one posted event (self-contained: refs point into its ``$defs``)."""
