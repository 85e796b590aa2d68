"""From ``crm.profiles.v1`` events to facts: one function per event type, no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import types_pb2
from crm.common.v1.envelope_pb2 import Envelope
from crm.profiles.v1 import profiles_pb2 as profiles
from crm.touchpoints.v1 import touchpoints_pb2 as touchpoints
from crm_contracts import channel_name, from_timestamp, unpack_payload
from crm_customer_view.domain.facts import (
    ConsentFact,
    ConsentState,
    CreationFact,
    ErasureFact,
    Fact,
    IdentifierFact,
    MergeFact,
    SharedFact,
    TouchpointFact,
    TraitFact,
    UnattributionFact,
    UnlinkFact,
    UnmergeFact,
)
from crm_customer_view.domain.values import (
    CallProperties,
    ComplaintProperties,
    ConsentProperties,
    EventMeta,
    GenericProperties,
    Identifier,
    Money,
    OrderItem,
    OrderProperties,
    PageViewProperties,
    Properties,
    RefundProperties,
    SurveyResponseProperties,
    Touchpoint,
)

__all__ = ["InvalidEvent", "facts_from_envelope", "facts_from_event", "touchpoint_from_proto"]


class InvalidEvent(ValueError):
    """An event the projection cannot fold (a contract violation): dead-letter it."""

    def __init__(self, event_type: str, reason: str) -> None:
        super().__init__(f"{event_type}: {reason}")
        self.event_type = event_type
        self.reason = reason


def facts_from_event(event_type: str, message: Message, meta: EventMeta) -> tuple[Fact, ...]:
    """The facts of one event. ``event_type`` is the payload's full protobuf name (or its
    short name); ``meta`` comes from the envelope (see :func:`facts_from_envelope`).

    Event types the view does not fold (``MergeBlocked``, and any other catalogued type)
    give no fact. Raises :class:`InvalidEvent` when a required id is missing or the
    message is not of ``event_type``.
    """
    name = message.DESCRIPTOR.full_name
    if event_type not in (name, message.DESCRIPTOR.name):
        raise InvalidEvent(event_type, f"the message is a {name}")
    return _translate(message, meta)


def facts_from_envelope(envelope: Envelope) -> tuple[Fact, ...]:
    """The facts of one Kafka message (raises ``crm_contracts`` errors on a bad payload)."""
    meta = EventMeta(envelope.event_id, envelope.position, from_timestamp(envelope.occurred_at),
                     envelope.causation_id)
    return facts_from_event(envelope.event_type, unpack_payload(envelope), meta)


# --- one translation per event type ------------------------------------------------------


def _translate(message: Message, meta: EventMeta) -> tuple[Fact, ...]:
    match message:
        case profiles.TouchpointAttributed():
            return _attributed(message, meta)
        case profiles.TouchpointUnattributed():
            _require(message, customer_id=message.customer_id,
                     touchpoint_event_id=message.touchpoint_event_id)
            return (UnattributionFact(message.customer_id, message.touchpoint_event_id, meta),)
        case profiles.ProfileCreated():
            return _created(message, meta)
        case profiles.IdentifierLinked():
            return (_linked(message, meta),)
        case profiles.IdentifierUnlinked():
            _require(message, customer_id=message.customer_id,
                     identifier=message.identifier.value)
            return (UnlinkFact(message.customer_id, _identifier(message.identifier), meta),)
        case profiles.IdentifierMarkedShared():
            return _shared(message, meta)
        case profiles.TraitObserved():
            return _trait(message, meta)
        case profiles.ConsentChanged():
            return _consent(message, meta)
        case profiles.ProfilesMerged():
            _require(message, survivor_id=message.survivor_id,
                     merged_away_id=message.merged_away_id)
            return (MergeFact(message.survivor_id, message.merged_away_id, meta),)
        case profiles.ProfileUnmerged():
            return _unmerged(message, meta)
        case profiles.ProfileErased():
            _require(message, customer_id=message.customer_id)
            return (ErasureFact(message.customer_id, _time(message.erased_at, meta), meta),)
    return ()  # MergeBlocked, and events of other topics: nothing to fold


def _attributed(message: profiles.TouchpointAttributed, meta: EventMeta) -> tuple[Fact, ...]:
    _require(message, customer_id=message.customer_id, touchpoint=message.touchpoint.event_id)
    fact = TouchpointFact(message.customer_id, touchpoint_from_proto(message.touchpoint), meta)
    # Most attributions carry no link: no detour through _links for them (a rebuild folds
    # thousands a second).
    return (fact, *_links(message, meta)) if message.links else (fact,)


def _created(message: profiles.ProfileCreated, meta: EventMeta) -> tuple[Fact, ...]:
    _require(message, customer_id=message.customer_id)
    creation = CreationFact(message.customer_id, _time(message.occurred_at, meta), meta)
    return (creation, *_links(message, meta))


def _links(message: profiles.ProfileCreated | profiles.TouchpointAttributed,
           meta: EventMeta) -> tuple[IdentifierFact, ...]:
    """The links an event carries (parts 1, 2, ... of it), each its customer's."""
    for n, link in enumerate(message.links):
        if link.customer_id != message.customer_id or not link.identifier.value:
            raise InvalidEvent(_name(message), f"links[{n}] is not an identifier of "
                               f"{message.customer_id} (customer {link.customer_id!r})")
    return tuple(_linked(link, meta, part) for part, link in enumerate(message.links, 1))


def _linked(message: profiles.IdentifierLinked, meta: EventMeta, part: int = 0) -> IdentifierFact:
    _require(message, customer_id=message.customer_id, identifier=message.identifier.value)
    return IdentifierFact(message.customer_id, _identifier(message.identifier), meta, part)


def _shared(message: profiles.IdentifierMarkedShared, meta: EventMeta) -> tuple[Fact, ...]:
    _require(message, identifier=message.identifier.value)
    customers = tuple(sorted({c for c in message.customer_ids if c}))
    return (SharedFact(_identifier(message.identifier), customers, meta),) if customers else ()


def _trait(message: profiles.TraitObserved, meta: EventMeta) -> tuple[Fact, ...]:
    _require(message, customer_id=message.customer_id, name=message.name)
    return (TraitFact(message.customer_id, message.name, message.value,
                      message.source or "unknown", _time(message.occurred_at, meta), meta),)


_CONSENT_STATES: Mapping[int, ConsentState] = MappingProxyType({
    profiles.CONSENT_STATE_GRANTED: "granted",
    profiles.CONSENT_STATE_DENIED: "denied",
})


def _consent(message: profiles.ConsentChanged, meta: EventMeta) -> tuple[Fact, ...]:
    _require(message, customer_id=message.customer_id, channel=message.channel,
             purpose=message.purpose)
    state = _CONSENT_STATES.get(message.state)
    if state is None:
        raise InvalidEvent(_name(message), "state is unspecified")
    return (ConsentFact(message.customer_id, message.channel, message.purpose, state,
                        message.evidence_event_id or meta.event_id,
                        _time(message.occurred_at, meta), meta),)


def _unmerged(message: profiles.ProfileUnmerged, meta: EventMeta) -> tuple[Fact, ...]:
    """The unmerge, then its identifiers leaving ``customer_id`` and joining the restored
    profile (parts in that order: the fold applies them in that order)."""
    _require(message, customer_id=message.customer_id, restored_id=message.restored_id)
    moving = sorted({_identifier(i) for i in message.identifiers if i.value})
    leaving = [UnlinkFact(message.customer_id, i, meta, 1 + n) for n, i in enumerate(moving)]
    joining = [IdentifierFact(message.restored_id, i, meta, 1 + len(moving) + n)
               for n, i in enumerate(moving)]
    return UnmergeFact(message.customer_id, message.restored_id, meta), *leaving, *joining


def _name(message: Message) -> str:
    return message.DESCRIPTOR.full_name


def _require(message: Message, **fields: str) -> None:
    missing = sorted(name for name, value in fields.items() if not value)
    if missing:
        raise InvalidEvent(_name(message), f"{', '.join(missing)} missing")


def _time(timestamp: Timestamp, meta: EventMeta) -> datetime:
    """The message's own time, else the envelope's (proto3 cannot tell unset from epoch)."""
    return from_timestamp(timestamp) if timestamp.seconds or timestamp.nanos else meta.occurred_at


# --- touchpoints ---------------------------------------------------------------------------


def _enum_names(prefix: str, items: list[tuple[str, int]]) -> Mapping[int, str]:
    return MappingProxyType({number: name.removeprefix(prefix).lower() for name, number in items})


_IDENTIFIER_TYPES = _enum_names("IDENTIFIER_TYPE_", types_pb2.IdentifierType.items())


def _identifier(identifier: types_pb2.Identifier) -> Identifier:
    return Identifier(_IDENTIFIER_TYPES.get(identifier.type, "unspecified"), identifier.value)


def touchpoint_from_proto(message: touchpoints.TouchpointRecorded) -> Touchpoint:
    """The touchpoint as a plain value (unknown enum numbers read as ``unspecified``)."""
    return Touchpoint(
        event_id=message.event_id,
        channel=channel_name(message.channel),
        type=message.type,
        occurred_at=from_timestamp(message.occurred_at),
        identifiers=tuple(_identifier(i) for i in message.identifiers if i.value),
        traits=tuple(sorted((k, v) for k, v in message.traits.items() if v)),
        properties=_properties(message),
    )


def _money(money: types_pb2.Money) -> Money:
    return Money(money.amount, money.currency)


def _properties(message: touchpoints.TouchpointRecorded) -> Properties:
    kind = message.WhichOneof("properties")
    if kind == "order":
        order = message.order
        items = tuple(OrderItem(i.sku, i.name, i.quantity, _money(i.unit_price))
                      for i in order.items)
        return OrderProperties(order.order_id, _money(order.amount), items)
    if kind == "refund":
        return RefundProperties(message.refund.order_id, _money(message.refund.amount))
    if kind == "call":
        call = message.call
        satisfaction = call.satisfaction if call.HasField("satisfaction") else None
        return CallProperties(call.duration_seconds, call.reason, call.outcome, call.agent_id,
                              satisfaction)
    if kind == "survey_response":
        survey = message.survey_response
        return SurveyResponseProperties(
            survey.nps if survey.HasField("nps") else None,
            survey.csat if survey.HasField("csat") else None,
            survey.comment,
        )
    if kind == "complaint":
        return ComplaintProperties(message.complaint.category, message.complaint.severity)
    if kind == "page_view":
        page = message.page_view
        return PageViewProperties(page.url, page.referrer, page.title)
    if kind == "consent":
        consent = message.consent
        return ConsentProperties(consent.channel, consent.purpose, consent.granted)
    if kind == "generic":
        fields = json_format.MessageToDict(message.generic.fields)
        return GenericProperties(json.dumps(fields, sort_keys=True, separators=(",", ":")))
    return None
