"""The event store's value types: what is appended and what is read back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

__all__ = ["ANY", "NO_STREAM", "EventMetadata", "ExpectedVersion", "NewEvent", "RecordedEvent"]


class ExpectedVersion(IntEnum):
    """Special expected versions; any other non-negative int is an exact version."""

    ANY = -1  # append at the end, whatever the version
    NO_STREAM = 0  # the stream must not exist yet


ANY = ExpectedVersion.ANY
NO_STREAM = ExpectedVersion.NO_STREAM


@dataclass(frozen=True)
class EventMetadata:
    """Where an event came from: correlation, causation and W3C trace context."""

    correlation_id: str = ""
    causation_id: str = ""
    traceparent: str = ""
    tracestate: str = ""


@dataclass(frozen=True)
class NewEvent:
    """An event to append. ``payload`` is the encoded contract message of ``event_type``.

    ``topic`` names the Kafka topic it is published to (through the outbox);
    ``None`` keeps it internal to the service. ``customer_key`` is the Kafka key.
    """

    event_type: str
    payload: bytes
    occurred_at: datetime
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    customer_key: str = ""
    topic: str | None = None
    schema_version: int = 1
    metadata: EventMetadata = EventMetadata()


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored, with its place in its stream and in the whole store."""

    global_position: int
    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    event_type: str
    schema_version: int
    payload: bytes
    customer_key: str
    topic: str | None
    occurred_at: datetime
    recorded_at: datetime
    metadata: EventMetadata
