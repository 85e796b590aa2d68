"""Recording accepted touchpoints: idempotency ledger, event store and outbox in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import pack_payload
from crm_contracts.privacy import touchpoint_key_id
from crm_eventstore import (
    NO_STREAM,
    EventMetadata,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamAppend,
)
from crm_messaging.topics import TOUCHPOINTS
from crm_touchpoint.adapters.ids import LEDGER, stored_hashes
from crm_touchpoint.domain import ValidatedTouchpoint

__all__ = ["Recorded", "Submission", "record_touchpoints", "stream_id", "touchpoint_seal"]

_RECORDED = TouchpointRecorded.DESCRIPTOR.full_name


class Recorded(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # same id, same content: nothing new
    CONFLICT = "conflict"  # same id, different content: refused


@dataclass(frozen=True)
class Submission:
    """A valid touchpoint and who sent it, when, on which trace."""

    touchpoint: ValidatedTouchpoint
    received_at: datetime
    source_key_id: str
    metadata: EventMetadata


def stream_id(event_id: object) -> str:
    """Every touchpoint is a stream of its own: ``touchpoint-<event id>``."""
    return f"touchpoint-{event_id}"


def touchpoint_seal(event: RecordedEvent) -> str | None:
    """The seal policy of the touchpoint service: each touchpoint travels sealed by a key
    of its own, which the erasure of its person destroys."""
    return touchpoint_key_id(str(event.event_id)) if event.event_type == _RECORDED else None


async def record_touchpoints(store: EventStore, submissions: list[Submission],
                             partition_secret: bytes) -> list[Recorded]:
    """Record ``submissions``; one outcome per submission, in order.
    ``partition_secret`` keys the hash that makes partition keys (``partition_key``).

    Each new id is claimed in the idempotency ledger and its event appended (with its
    outbox row) by one statement: one round trip for the whole group. Committed before
    this returns: the caller may answer 202.
    """
    ids = [s.touchpoint.event_id_text for s in submissions]
    hashes = [s.touchpoint.content_hash() for s in submissions]
    first: dict[str, tuple[Submission, bytes]] = {}
    for submission, event_id, content_hash in zip(submissions, ids, hashes, strict=True):
        first.setdefault(event_id, (submission, content_hash))
    appends = [StreamAppend(stream_id(event_id), [_event(submission, partition_secret)],
                            NO_STREAM) for event_id, (submission, _) in first.items()]
    fingerprints = {submission.touchpoint.event_id: content_hash
                    for submission, content_hash in first.values()}
    appended = {str(i) for i in await store.append_once(appends, fingerprints, LEDGER)}
    known = {event_id: content_hash for event_id, (_, content_hash) in first.items()}
    if missed := [event_id for event_id in first if event_id not in appended]:
        async with store.engine.connect() as connection:
            known |= await stored_hashes(connection, missed)
    outcomes: list[Recorded] = []
    for submission, event_id, content_hash in zip(submissions, ids, hashes, strict=True):
        if event_id in appended and first[event_id][0] is submission:
            outcomes.append(Recorded.ACCEPTED)
        elif known.get(event_id) == content_hash:
            outcomes.append(Recorded.DUPLICATE)
        else:
            outcomes.append(Recorded.CONFLICT)
    return outcomes


def _event(submission: Submission, partition_secret: bytes) -> NewEvent:
    touchpoint = submission.touchpoint
    message = touchpoint.to_proto(
        received_at=submission.received_at, source_key_id=submission.source_key_id)
    event_type, payload = pack_payload(message)
    return NewEvent(
        event_type=event_type,
        payload=payload,
        occurred_at=touchpoint.occurred_at,
        event_id=touchpoint.event_id,
        customer_key=touchpoint.partition_key(partition_secret),
        topic=TOUCHPOINTS.name,
        metadata=submission.metadata,
    )
