"""From a stored event to the Kafka record that announces it."""

from __future__ import annotations

from dataclasses import dataclass

from crm.common.v1.envelope_pb2 import Envelope
from crm_contracts import set_timestamp
from crm_eventstore import RecordedEvent
from crm_messaging.sealing import new_secret, seal

__all__ = ["OutboundRecord", "outbound_record"]


@dataclass(frozen=True)
class OutboundRecord:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def outbound_record(event: RecordedEvent, producer: str,
                    sealed_by: tuple[str, bytes | None] | None = None) -> OutboundRecord:
    """The envelope of ``event`` keyed by its customer (or its stream, if it has none).

    ``sealed_by`` (key id, secret) seals the payload. A destroyed key (secret ``None``:
    the person was erased before this event was published) seals it under a secret
    that is thrown away: the payload is unreadable, as the erasure wants.
    """
    if event.topic is None:
        raise ValueError(f"event {event.event_id} is internal: it has no topic")
    meta = event.metadata
    event_id = str(event.event_id)
    payload, key_id = event.payload, ""
    if sealed_by is not None:
        key_id, secret = sealed_by
        payload = seal(payload, event_id=event_id, secret=secret or new_secret())
    envelope = Envelope(
        event_id=event_id,
        event_type=event.event_type,
        schema_version=event.schema_version,
        producer=producer,
        customer_key=event.customer_key,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        stream_id=event.stream_id,
        stream_version=event.stream_version,
        position=event.global_position,
        payload=payload,
        sealed_by=key_id,
    )
    # Sub-messages set in place: handing built ones to the constructor copies them.
    set_timestamp(envelope.occurred_at, event.occurred_at)
    set_timestamp(envelope.recorded_at, event.recorded_at)
    envelope.trace.traceparent = meta.traceparent
    envelope.trace.tracestate = meta.tracestate
    headers = [
        ("event-type", event.event_type.encode()),
        ("event-id", event_id.encode()),
    ]
    if meta.traceparent:
        headers.append(("traceparent", meta.traceparent.encode()))
    if meta.tracestate:
        headers.append(("tracestate", meta.tracestate.encode()))
    if meta.correlation_id:
        headers.append(("correlation-id", meta.correlation_id.encode()))
    key = (event.customer_key or event.stream_id).encode()
    # Not through encode_envelope's checks: a stored event has a UUID id, an occurred_at
    # and a catalogued type (the store's columns and pack_payload saw to that), and the
    # checks cost a seventh of the relay's work per event. decode_envelope still checks.
    return OutboundRecord(event.topic, key, envelope.SerializeToString(), headers)
