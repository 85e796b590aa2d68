"""The wire form of a touchpoint: ``crm.touchpoints.v1.TouchpointRecorded``, both ways.

Proto3 cannot tell an empty string from an absent one, so absent optional strings travel
as ``""`` and come back absent; that is why validation turns empty strings into absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from google.protobuf.struct_pb2 import Value
from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import types_pb2
from crm.touchpoints.v1 import touchpoints_pb2 as pb
from crm_contracts import from_timestamp
from crm_touchpoint.domain.properties import (
    CallProperties,
    ComplaintProperties,
    ConsentProperties,
    GenericProperties,
    JsonValue,
    OrderProperties,
    PageViewProperties,
    Properties,
    RefundProperties,
    SurveyResponseProperties,
    json_number,
)

if TYPE_CHECKING:
    from crm_touchpoint.domain.touchpoint import ValidatedTouchpoint

__all__ = ["format_timestamp", "touchpoint_from_proto", "touchpoint_to_proto"]

_CHANNELS: Mapping[str, pb.Channel] = MappingProxyType({
    "call_center": pb.CHANNEL_CALL_CENTER,
    "web": pb.CHANNEL_WEB,
    "email": pb.CHANNEL_EMAIL,
    "store": pb.CHANNEL_STORE,
    "mobile_app": pb.CHANNEL_MOBILE_APP,
    "sms": pb.CHANNEL_SMS,
    "direct_mail": pb.CHANNEL_DIRECT_MAIL,
    "social": pb.CHANNEL_SOCIAL,
})
_CHANNEL_NAMES = MappingProxyType({number: name for name, number in _CHANNELS.items()})

_IDENTIFIERS: Mapping[str, types_pb2.IdentifierType] = MappingProxyType({
    "customer_number": types_pb2.IDENTIFIER_TYPE_CUSTOMER_NUMBER,
    "loyalty_id": types_pb2.IDENTIFIER_TYPE_LOYALTY_ID,
    "email": types_pb2.IDENTIFIER_TYPE_EMAIL,
    "phone": types_pb2.IDENTIFIER_TYPE_PHONE,
    "anonymous_id": types_pb2.IDENTIFIER_TYPE_ANONYMOUS_ID,
})
_IDENTIFIER_NAMES = MappingProxyType({number: name for name, number in _IDENTIFIERS.items()})


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _timestamp(moment: datetime) -> Timestamp:
    """``crm_contracts.to_timestamp`` without its cost: protobuf's FromDatetime is Python
    and took a fifth of the message; this is the same arithmetic (tested to agree)."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give it a timezone")
    delta = moment - _EPOCH
    return Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000)


def format_timestamp(moment: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC with ``Z``: ``2024-05-01T10:00:00.25Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def touchpoint_to_proto(
    touchpoint: ValidatedTouchpoint, *, received_at: datetime, source_key_id: str
) -> pb.TouchpointRecorded:
    """The wire message of an accepted touchpoint (``received_at`` must be aware)."""
    message = pb.TouchpointRecorded(
        event_id=str(touchpoint.event_id),
        channel=_CHANNELS[touchpoint.channel],
        type=touchpoint.type,
        occurred_at=_timestamp(touchpoint.occurred_at),
        received_at=_timestamp(received_at),
        identifiers=[
            types_pb2.Identifier(type=_IDENTIFIERS[identifier.type], value=identifier.value)
            for identifier in touchpoint.identifiers
        ],
        traits=touchpoint.traits,
        source_key_id=source_key_id,
        warnings=touchpoint.warnings,
    )
    _set_properties(message, touchpoint.properties)
    return message


def touchpoint_from_proto(message: pb.TouchpointRecorded) -> dict[str, object]:
    """The API JSON of a stored touchpoint: :meth:`ValidatedTouchpoint.to_json`'s shape plus
    the server's ``received_at``, ``warnings`` and ``source_key_id``."""
    return {
        "event_id": message.event_id,
        "channel": _CHANNEL_NAMES.get(message.channel, "unspecified"),
        "type": message.type,
        "occurred_at": format_timestamp(from_timestamp(message.occurred_at)),
        "identifiers": {
            _IDENTIFIER_NAMES.get(identifier.type, "unspecified"): identifier.value
            for identifier in message.identifiers
        },
        "traits": dict(message.traits),
        "properties": _properties_from_proto(message),
        "received_at": format_timestamp(from_timestamp(message.received_at)),
        "warnings": list(message.warnings),
        "source_key_id": message.source_key_id,
    }


# --- properties, domain -> wire ---------------------------------------------------------


def _money(amount: str, currency: str) -> types_pb2.Money:
    return types_pb2.Money(amount=amount, currency=currency)


def _set_properties(message: pb.TouchpointRecorded, properties: Properties) -> None:
    match properties:
        case OrderProperties():
            message.order.CopyFrom(pb.OrderProperties(
                order_id=properties.order_id,
                amount=_money(properties.amount, properties.currency),
                items=[
                    pb.OrderItem(sku=item.sku, name=item.name or "", quantity=item.quantity,
                                 unit_price=_money(item.unit_price, properties.currency))
                    for item in properties.items
                ],
            ))
        case RefundProperties():
            message.refund.CopyFrom(pb.RefundProperties(
                order_id=properties.order_id,
                amount=_money(properties.amount, properties.currency),
            ))
        case CallProperties():
            message.call.CopyFrom(pb.CallProperties(
                duration_seconds=properties.duration_seconds, reason=properties.reason or "",
                outcome=properties.outcome or "", agent_id=properties.agent_id or "",
                satisfaction=properties.satisfaction,
            ))
        case SurveyResponseProperties():
            message.survey_response.CopyFrom(pb.SurveyResponseProperties(
                nps=properties.nps, csat=properties.csat, comment=properties.comment or "",
            ))
        case ComplaintProperties():
            message.complaint.CopyFrom(pb.ComplaintProperties(
                category=properties.category, severity=properties.severity,
            ))
        case PageViewProperties():
            message.page_view.CopyFrom(pb.PageViewProperties(
                url=properties.url, referrer=properties.referrer or "",
                title=properties.title or "",
            ))
        case ConsentProperties():
            message.consent.CopyFrom(pb.ConsentProperties(
                channel=properties.channel, purpose=properties.purpose,
                granted=properties.granted,
            ))
        case GenericProperties():
            message.generic.SetInParent()
            message.generic.fields.update(properties.fields)


# --- properties, wire -> API JSON ---------------------------------------------------------


def _present(**fields: object) -> dict[str, object]:
    """The fields that are set: proto3's ``""`` and unset optionals are absent in JSON."""
    return {name: value for name, value in fields.items() if value not in ("", None)}


def _properties_from_proto(message: pb.TouchpointRecorded) -> dict[str, object]:
    kind = message.WhichOneof("properties")
    if kind == "order":
        order = message.order
        shown = _present(order_id=order.order_id, currency=order.amount.currency,
                         amount=order.amount.amount)
        if order.items:
            shown["items"] = [
                _present(sku=item.sku, name=item.name, quantity=item.quantity,
                         unit_price=item.unit_price.amount)
                for item in order.items
            ]
        return shown
    if kind == "refund":
        refund = message.refund
        return _present(order_id=refund.order_id, currency=refund.amount.currency,
                        amount=refund.amount.amount)
    if kind == "call":
        call = message.call
        return {"duration_seconds": call.duration_seconds} | _present(
            reason=call.reason, outcome=call.outcome, agent_id=call.agent_id,
            satisfaction=call.satisfaction if call.HasField("satisfaction") else None,
        )
    if kind == "survey_response":
        survey = message.survey_response
        return _present(
            nps=survey.nps if survey.HasField("nps") else None,
            csat=survey.csat if survey.HasField("csat") else None,
            comment=survey.comment,
        )
    if kind == "complaint":
        return _present(category=message.complaint.category,
                        severity=message.complaint.severity)
    if kind == "page_view":
        page = message.page_view
        return _present(url=page.url, referrer=page.referrer, title=page.title)
    if kind == "consent":
        consent = message.consent
        return {"channel": consent.channel, "purpose": consent.purpose,
                "granted": consent.granted}
    if kind == "generic":
        return {key: _json(value) for key, value in message.generic.fields.fields.items()}
    return {}


def _json(value: Value) -> JsonValue:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return json_number(value.number_value)
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {key: _json(item) for key, item in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_json(item) for item in value.list_value.values]
    return None
