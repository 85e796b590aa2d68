"""Event contracts: the generated protobuf code of proto/ and the event catalogue.

Every Kafka message is an :class:`Envelope` whose payload is a catalogued event::

    event_type, payload = pack_payload(touchpoint)
    data = encode_envelope(Envelope(event_id=..., event_type=event_type, payload=payload, ...))
    event = unpack_payload(decode_envelope(data))
"""

from crm.common.v1.envelope_pb2 import Envelope, TraceContext
from crm_contracts.catalogue import event_types, generated_files, is_event, message_class
from crm_contracts.channels import channel_name
from crm_contracts.envelopes import (
    decode_envelope,
    encode_envelope,
    from_timestamp,
    pack_payload,
    set_timestamp,
    to_timestamp,
    unpack_payload,
)
from crm_contracts.errors import ContractError, MalformedMessage, UnknownEventType

__all__ = [
    "ContractError",
    "Envelope",
    "MalformedMessage",
    "TraceContext",
    "UnknownEventType",
    "channel_name",
    "decode_envelope",
    "encode_envelope",
    "event_types",
    "from_timestamp",
    "generated_files",
    "is_event",
    "message_class",
    "pack_payload",
    "set_timestamp",
    "to_timestamp",
    "unpack_payload",
]
