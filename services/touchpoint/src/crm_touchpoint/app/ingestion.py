"""Ingestion: validate each event, apply the key's channel restriction, record the valid ones.

Events are independent: in a batch, one bad event is rejected and the others go on.
Valid events of concurrent requests are recorded together (group commit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from crm_eventstore import EventMetadata, EventStore, GroupCommitter
from crm_messaging.tracing import current_trace
from crm_servicekit import ServiceContext
from crm_servicekit.apikeys import ApiKey
from crm_touchpoint.app.recording import Recorded, Submission, record_touchpoints
from crm_touchpoint.domain import (
    IngestionRules,
    Problem,
    Rejection,
    ValidatedTouchpoint,
    validate_touchpoint,
)

__all__ = ["Outcome", "Status", "TouchpointIngestion"]


class Status(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Outcome:
    """What became of one posted event."""

    event_id: str | None
    status: Status
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()
    conflict: bool = False  # rejected because the id was recorded with other content
    forbidden: bool = False  # rejected because the key may not post this channel


@dataclass
class TouchpointIngestion:
    """The ingestion use case; ``run`` is the worker that records (group commit)."""

    rules: IngestionRules
    partition_secret: bytes
    writers: int = 1  # transactions in flight at once (see the group_commit_writers setting)
    linger: float = 0.0  # seconds a small group waits for more (group_commit_linger_ms)
    linger_events: int = 1  # a group this full does not wait (group_commit_linger_events)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _committer: GroupCommitter[Submission, Recorded] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, ctx: ServiceContext) -> None:
        """Worker: record submissions in shared transactions until cancelled."""
        store = EventStore(ctx.engine)

        async def write(submissions: list[Submission]) -> list[Recorded]:
            return await record_touchpoints(store, submissions, self.partition_secret)

        self._committer = GroupCommitter(write, max_items=2_000, writers=self.writers,
                                         linger=self.linger, linger_items=self.linger_events)
        self._ready.set()
        await self._committer.run()

    async def ingest(self, raw_events: Sequence[object], key: ApiKey) -> list[Outcome]:
        """Validate and record ``raw_events``; one outcome per event, in order."""
        now = self.clock()
        metadata = _metadata()  # one request, one trace
        checked = [self._check(raw, key, now, metadata) for raw in raw_events]
        submissions = [c for c in checked if isinstance(c, Submission)]
        recorded = iter(await self._record(submissions))
        return [
            _outcome_of(c, next(recorded)) if isinstance(c, Submission) else c
            for c in checked
        ]

    def _check(self, raw: object, key: ApiKey, now: datetime,
               metadata: EventMetadata) -> Submission | Outcome:
        result = validate_touchpoint(raw, now=now, rules=self.rules)
        if isinstance(result, Rejection):
            return Outcome(result.event_id, Status.REJECTED, result.problems)
        if not key.allows_channel(result.channel):
            problem = Problem("channel", "channel_not_allowed_for_key",
                              f"this API key may not post {result.channel} events")
            return Outcome(str(result.event_id), Status.REJECTED, (problem,),
                           result.warnings, forbidden=True)
        return Submission(result, now, key.key_id, metadata)

    async def _record(self, submissions: list[Submission]) -> list[Recorded]:
        if not submissions:
            return []
        await self._ready.wait()
        assert self._committer is not None
        return await self._committer.submit(submissions)


def _metadata() -> EventMetadata:
    trace = current_trace()
    return EventMetadata(correlation_id=trace.correlation_id, traceparent=trace.traceparent,
                         tracestate=trace.tracestate)


def _outcome_of(submission: Submission, recorded: Recorded) -> Outcome:
    touchpoint: ValidatedTouchpoint = submission.touchpoint
    event_id = touchpoint.event_id_text
    if recorded is Recorded.ACCEPTED:
        return Outcome(event_id, Status.ACCEPTED, warnings=touchpoint.warnings)
    if recorded is Recorded.DUPLICATE:
        return Outcome(event_id, Status.DUPLICATE, warnings=touchpoint.warnings)
    problem = Problem("event_id", "conflict",
                      f"event {event_id} was already recorded with different content")
    return Outcome(event_id, Status.REJECTED, (problem,), touchpoint.warnings, conflict=True)
