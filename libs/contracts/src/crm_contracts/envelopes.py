"""Encoding of the one Kafka message format: an Envelope around a catalogued payload."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1.envelope_pb2 import Envelope
from crm_contracts.catalogue import message_class
from crm_contracts.errors import MalformedMessage

__all__ = [
    "decode_envelope",
    "encode_envelope",
    "from_timestamp",
    "pack_payload",
    "to_timestamp",
    "unpack_payload",
]

# A full protobuf message name: lower-case package segments, then the message name.
_FULL_NAME = re.compile(r"(?:[a-z_][a-z0-9_]*\.)+[A-Za-z_][A-Za-z0-9_]*")
# The form str(uuid) writes: what our producers send. Others are judged by uuid.UUID.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def encode_envelope(envelope: Envelope) -> bytes:
    """Serialize an envelope; refuses one that :func:`decode_envelope` would reject."""
    _check(envelope)
    return envelope.SerializeToString(deterministic=True)


def decode_envelope(data: bytes) -> Envelope:
    """Parse and check an envelope; raises :class:`MalformedMessage` saying why not.

    Unknown fields (from a newer envelope) are kept, not rejected. The payload is
    left packed: see :func:`unpack_payload`.
    """
    envelope = Envelope()
    try:
        envelope.ParseFromString(data)
    except DecodeError as error:
        raise MalformedMessage("envelope", f"bytes are not a protobuf Envelope ({error})") from None
    _check(envelope)
    return envelope


def unpack_payload(envelope: Envelope) -> Message:
    """The envelope's payload as its catalogued message type.

    Raises :class:`UnknownEventType` or :class:`MalformedMessage` (also for a payload
    still sealed: a consumer opens it with the key vault first).
    """
    cls = message_class(envelope.event_type)
    if envelope.sealed_by:
        raise MalformedMessage(envelope.event_type, f"payload of event {envelope.event_id} is "
                               f"sealed by key {envelope.sealed_by!r}: open it first")
    try:
        return cls.FromString(envelope.payload)
    except DecodeError as error:
        raise MalformedMessage(
            envelope.event_type, f"payload of event {envelope.event_id} does not parse ({error})"
        ) from None


def pack_payload(message: Message) -> tuple[str, bytes]:
    """``(event_type, payload)`` for an envelope; only catalogued events can be packed."""
    event_type = message.DESCRIPTOR.full_name
    message_class(event_type)
    return event_type, message.SerializeToString(deterministic=True)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What a Timestamp may hold: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
_SECONDS_MIN, _SECONDS_MAX = -62_135_596_800, 253_402_300_799


def to_timestamp(moment: datetime) -> Timestamp:
    """A protobuf Timestamp of a timezone-aware datetime; naive ones are refused."""
    timestamp = Timestamp()
    set_timestamp(timestamp, moment)
    return timestamp


def set_timestamp(target: Timestamp, moment: datetime) -> None:
    """Set a message's Timestamp field in place to ``moment`` (as :func:`to_timestamp`).

    Cheaper than building a Timestamp and handing it to the message's constructor,
    which copies it: the relay and the touchpoint service do this for every event.
    """
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give it a timezone")
    # Integer arithmetic on the offset from the epoch: exact to the microsecond, and
    # several times cheaper than Timestamp.FromDatetime.
    since = moment - _EPOCH
    target.seconds = since.days * 86_400 + since.seconds
    target.nanos = since.microseconds * 1_000


def from_timestamp(timestamp: Timestamp) -> datetime:
    """A timezone-aware UTC datetime (microsecond precision: nanoseconds are truncated).
    Raises ``ValueError`` outside the range a Timestamp may hold (years 1 to 9999).

    What ``Timestamp.ToDatetime(tzinfo=UTC)`` gives, at under half its cost (0.45 us
    against 1.06): the customer view converts three timestamps of every event it reads.
    """
    seconds, nanos = timestamp.seconds, timestamp.nanos
    if not (_SECONDS_MIN <= seconds <= _SECONDS_MAX and 0 <= nanos < 1_000_000_000):
        raise ValueError(f"timestamp out of range: {seconds} s, {nanos} ns")
    return _EPOCH + timedelta(0, seconds, nanos // 1_000)


def _check(envelope: Envelope) -> None:
    reason = _contract_violation(envelope)
    if reason is not None:
        raise MalformedMessage("envelope", reason)


def _contract_violation(envelope: Envelope) -> str | None:
    if not _is_uuid(envelope.event_id):
        return f"event_id {envelope.event_id!r} is not a UUID"
    if not _FULL_NAME.fullmatch(envelope.event_type):
        return f"event_type {envelope.event_type!r} is not a full protobuf message name"
    if not envelope.HasField("occurred_at"):
        return "occurred_at is missing"
    return None


def _is_uuid(text: str) -> bool:
    if _CANONICAL_UUID.fullmatch(text):  # 0.4 us; uuid.UUID takes 1.7 (every message)
        return True
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
