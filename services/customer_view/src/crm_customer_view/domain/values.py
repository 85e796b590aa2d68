"""Plain frozen values the facts are made of: identifiers, money, touchpoints.

They mirror ``crm.touchpoints.v1`` without protobuf, so the fold never touches a message
and a fact can be compared, hashed, stored and scrubbed as a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TypeAlias

__all__ = [
    "CallProperties",
    "ComplaintProperties",
    "ConsentProperties",
    "EventMeta",
    "GenericProperties",
    "Identifier",
    "Money",
    "OrderItem",
    "OrderProperties",
    "PageViewProperties",
    "Properties",
    "RefundProperties",
    "SurveyResponseProperties",
    "Touchpoint",
]


@dataclass(frozen=True, slots=True)
class EventMeta:
    """What a fact keeps of its event's envelope.

    ``position`` is the producer's global event-store position: the order in which the
    profile service took its identity decisions (merges, links, attributions). It travels
    with the event, so ordering by it keeps the view a function of the set of events.
    ``occurred_at`` is the envelope's time (for profile events: the causing touchpoint's).
    ``causation_id`` is what caused the event: for what the profile service says of a
    touchpoint it attributes (its traits, its consent), the touchpoint's event id; for a
    back-office edit, ``api-key:<id>``. Facts stored before the view kept it have ``""``.
    """

    event_id: str
    position: int
    occurred_at: datetime
    causation_id: str = ""


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A normalised identifier: ``type`` is ``email``, ``phone``, ``customer_number``,
    ``anonymous_id`` or ``loyalty_id``. An empty ``value`` is an erased one."""

    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount as its decimal string on the wire, in an ISO 4217 currency."""

    amount: str
    currency: str

    def decimal(self) -> Decimal | None:
        """The amount, or None when it is not a finite decimal number."""
        try:
            value = Decimal(self.amount)
        except InvalidOperation:
            return None
        return value if value.is_finite() else None


@dataclass(frozen=True, slots=True)
class OrderItem:
    sku: str
    name: str
    quantity: int
    unit_price: Money


@dataclass(frozen=True, slots=True)
class OrderProperties:
    order_id: str
    amount: Money
    items: tuple[OrderItem, ...] = ()


@dataclass(frozen=True, slots=True)
class RefundProperties:
    order_id: str
    amount: Money


@dataclass(frozen=True, slots=True)
class CallProperties:
    duration_seconds: int
    reason: str = ""
    outcome: str = ""
    agent_id: str = ""
    satisfaction: int | None = None


@dataclass(frozen=True, slots=True)
class SurveyResponseProperties:
    nps: int | None = None
    csat: int | None = None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ComplaintProperties:
    category: str
    severity: str


@dataclass(frozen=True, slots=True)
class PageViewProperties:
    url: str
    referrer: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class ConsentProperties:
    channel: str
    purpose: str
    granted: bool


@dataclass(frozen=True, slots=True)
class GenericProperties:
    """Free-form properties as canonical JSON text (sorted keys): hashable and stable."""

    json: str = "{}"


Properties: TypeAlias = (
    OrderProperties
    | RefundProperties
    | CallProperties
    | SurveyResponseProperties
    | ComplaintProperties
    | PageViewProperties
    | ConsentProperties
    | GenericProperties
    | None
)


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """One interaction as the touchpoint service accepted it (identifiers normalised)."""

    event_id: str
    channel: str
    type: str
    occurred_at: datetime
    identifiers: tuple[Identifier, ...] = ()
    traits: tuple[tuple[str, str], ...] = ()
    properties: Properties = None
