"""Profile events and stored touchpoints without an erased person's personal data.

The walk is generic over the protobuf descriptors, so an event type added later is
scrubbed too: every typed identifier that is erased gets its token's value, every
string that quotes an erased value quotes the token instead, a touchpoint of the erased
person loses everything personal (crm_contracts.privacy), and a trait of theirs its
value.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from crm.common.v1.types_pb2 import Identifier as WireIdentifier
from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import message_class
from crm_contracts.privacy import touchpoint_without_pii
from crm_profile.app.identifiers import from_wire
from crm_profile.domain.erasure import Erased

__all__ = ["redacted_event", "redacted_touchpoint"]


def redacted_event(event_type: str, payload: bytes, erased: Erased) -> bytes | None:
    """The event's payload without the erased data; None when there is nothing to remove."""
    message = message_class(event_type).FromString(payload)
    before = message.SerializeToString(deterministic=True)
    _scrub(message, erased)
    if isinstance(message, wire.TraitObserved) and message.customer_id in erased.customers:
        message.value = ""
    after = message.SerializeToString(deterministic=True)
    return after if after != before else None


def redacted_touchpoint(touchpoint_id: str, payload: bytes, erased: Erased) -> bytes:
    """A stored touchpoint: the person's own ones anonymous, others without their values."""
    message = TouchpointRecorded.FromString(payload)
    if touchpoint_id in erased.touchpoints:
        return touchpoint_without_pii(message).SerializeToString(deterministic=True)
    _scrub(message, erased)
    return message.SerializeToString(deterministic=True)


def _scrub(message: Message, erased: Erased) -> None:
    for field, value in message.ListFields():
        if field.type == FieldDescriptor.TYPE_STRING:
            _scrub_strings(message, field, value, erased)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            _scrub_messages(message, field, value, erased)


def _scrub_strings(message: Message, field: FieldDescriptor, value: Any, erased: Erased) -> None:
    if field.is_repeated:
        value[:] = [erased.text(v) for v in value]
    else:
        setattr(message, field.name, erased.text(value))


def _scrub_messages(message: Message, field: FieldDescriptor, value: Any,
                    erased: Erased) -> None:
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        _scrub_map(value, entry.fields_by_name["value"], erased)
        return
    items = list(value) if field.is_repeated else [value]
    for item in items:
        if isinstance(item, TouchpointRecorded) and item.event_id in erased.touchpoints:
            item.CopyFrom(touchpoint_without_pii(item))
        elif isinstance(item, WireIdentifier):
            _scrub_identifier(item, erased)
        else:
            _scrub(item, erased)


def _scrub_map(mapping: Any, value_field: FieldDescriptor, erased: Erased) -> None:
    for key in list(mapping):
        if value_field.type == FieldDescriptor.TYPE_STRING:
            mapping[key] = erased.text(mapping[key])
        elif value_field.type == FieldDescriptor.TYPE_MESSAGE:
            _scrub(mapping[key], erased)


def _scrub_identifier(identifier: WireIdentifier, erased: Erased) -> None:
    typed = from_wire(identifier)
    if typed is not None:
        identifier.value = erased.identifier(typed).partition(":")[2]
