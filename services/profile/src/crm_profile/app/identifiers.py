"""Between wire identifiers (typed protobuf) and identity identifiers (``type:value``)."""

from __future__ import annotations

from crm.common.v1.types_pb2 import Identifier as WireIdentifier
from crm.common.v1.types_pb2 import IdentifierType
from crm.touchpoints.v1.touchpoints_pb2 import Channel, TouchpointRecorded
from crm_contracts import from_timestamp
from crm_profile.domain.identity import Evidence, make_identifier

__all__ = ["evidence_of", "from_wire", "set_wire", "to_wire"]

_TYPES = {
    IdentifierType.IDENTIFIER_TYPE_CUSTOMER_NUMBER: "customer_number",
    IdentifierType.IDENTIFIER_TYPE_LOYALTY_ID: "loyalty_id",
    IdentifierType.IDENTIFIER_TYPE_EMAIL: "email",
    IdentifierType.IDENTIFIER_TYPE_PHONE: "phone",
    IdentifierType.IDENTIFIER_TYPE_ANONYMOUS_ID: "anonymous_id",
}
_WIRE_TYPES = {name: value for value, name in _TYPES.items()}
# An agent on the phone or a clerk at the till saw the person: their identifiers are
# verified; what a web form or an email click says is self-asserted.
_VERIFYING_CHANNELS = {Channel.CHANNEL_CALL_CENTER, Channel.CHANNEL_STORE}


def evidence_of(touchpoint: TouchpointRecorded) -> Evidence:
    """The identity evidence a touchpoint carries."""
    identifiers = frozenset(
        make_identifier(_TYPES[i.type], i.value) for i in touchpoint.identifiers
        if i.type in _TYPES and i.value)
    assurance = "verified" if touchpoint.channel in _VERIFYING_CHANNELS else "self_asserted"
    return Evidence(touchpoint.event_id, from_timestamp(touchpoint.occurred_at), identifiers,
                    assurance)


def to_wire(identifier: str) -> WireIdentifier:
    """``email:ada@example.com`` as a typed wire identifier."""
    wire = WireIdentifier()
    set_wire(wire, identifier)
    return wire


def set_wire(target: WireIdentifier, identifier: str) -> None:
    """Write ``identifier`` into ``target`` (a message's field, set in place: no copy)."""
    kind, _, value = identifier.partition(":")
    target.type = _WIRE_TYPES.get(kind, IdentifierType.IDENTIFIER_TYPE_UNSPECIFIED)
    target.value = value


def from_wire(identifier: WireIdentifier) -> str | None:
    """A typed wire identifier as ``type:value`` (None for an unknown type)."""
    kind = _TYPES.get(identifier.type)
    return make_identifier(kind, identifier.value) if kind else None
