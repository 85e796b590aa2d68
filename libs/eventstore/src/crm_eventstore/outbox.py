"""The Postgres side of the transactional outbox: what waits to be published.

Rows are written by :meth:`UnitOfWork.append_streams` in the same statement as
their events. A row leaves the outbox only after Kafka acknowledged it, so the
outbox is a queue, not a cursor over positions: an event whose transaction
commits late simply shows up in a later batch, and nothing is ever skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_eventstore.driver import driver_connection
from crm_eventstore.events import RecordedEvent
from crm_eventstore.store import _COLUMNS, _recorded

__all__ = ["Outbox", "PendingEvent"]

_PREFIXED = ", ".join("e." + c.strip() for c in _COLUMNS.split(","))

# The relay's statements, on the path of every batch it publishes: through the driver.
# The oldest entries but those in ${passed} (a relay's batch in flight, or the one being
# deleted): NOT IN a subquery is a hashed lookup per entry, where <> ALL would scan
# the array.
_OLDEST = f"""
SELECT o.id AS outbox_id, {_PREFIXED}
FROM outbox o JOIN events e USING (global_position)
WHERE o.id NOT IN (SELECT unnest(${{passed}}::bigint[]))
ORDER BY o.id LIMIT ${{limit}}
"""
_FETCH = _OLDEST.format(limit=1, passed=2)

# The entries $1 leave, and $3 events are counted as published to each topic $2. The
# per-topic counts come from the relay, which knows what it sent: joining the deleted
# entries to the events for their topics was the dearest statement Postgres ran in the
# freshness benchmark (1.7 ms a call).
_DONE = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"
_COUNTED = """
INSERT INTO published_topics (topic, published)
SELECT * FROM unnest($2::text[], $3::bigint[])
ON CONFLICT (topic) DO UPDATE SET published = published_topics.published + EXCLUDED.published
"""
_ACKNOWLEDGE = f"WITH done AS ({_DONE}) {_COUNTED}"

# Both at once, in one round trip: the batch Kafka acknowledged leaves, and the next one
# is read. The read sees the outbox as the statement began (the deleted entries still in
# it), so it passes over them as ``_FETCH`` passes over a batch in flight.
_ACKNOWLEDGE_AND_FETCH = (f"WITH done AS ({_DONE}), counted AS ({_COUNTED})"
                          + _OLDEST.format(limit=4, passed=1))

_PUBLISHED = text("SELECT topic, published FROM published_topics WHERE published > 0")

_PENDING = text("SELECT count(*) FROM outbox")

# One statement, so atomic on an autocommit connection too: the topic's pending entries
# are dropped, its whole history queued again in position order, its count reset.
_REQUEUE = text("""
WITH dropped AS (
    DELETE FROM outbox o USING events e
    WHERE o.global_position = e.global_position AND e.topic = :topic
),
reset AS (
    UPDATE published_topics SET published = 0 WHERE topic = :topic
),
queued AS (
    INSERT INTO outbox (global_position)
    SELECT global_position FROM events WHERE topic = :topic ORDER BY global_position
    RETURNING 1
)
SELECT count(*) FROM queued
""")


@dataclass(frozen=True)
class PendingEvent:
    """An outbox entry with the event it announces."""

    outbox_id: int
    event: RecordedEvent


class Outbox:
    """Queries on the outbox, run on a connection the caller owns."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def fetch(self, limit: int, passing_over: Sequence[PendingEvent] = ()
                    ) -> list[PendingEvent]:
        """The oldest ``limit`` entries, in the order they were enqueued, except those of
        ``passing_over`` (fetched before and still being published)."""
        rows = await (await driver_connection(self.connection)).fetch(
            _FETCH, limit, [p.outbox_id for p in passing_over])
        return _pending(rows)

    async def acknowledge(self, published: Sequence[PendingEvent]) -> None:
        """Remove published entries and count them per topic, atomically."""
        await (await driver_connection(self.connection)).execute(
            _ACKNOWLEDGE, *_acknowledged(published))
        await self.connection.commit()

    async def acknowledge_and_fetch(self, published: Sequence[PendingEvent], limit: int
                                    ) -> list[PendingEvent]:
        """:meth:`acknowledge` ``published`` and :meth:`fetch` the ``limit`` oldest entries
        after them, in one statement (one round trip, atomic)."""
        rows = await (await driver_connection(self.connection)).fetch(
            _ACKNOWLEDGE_AND_FETCH, *_acknowledged(published), limit)
        await self.connection.commit()
        return _pending(rows)

    async def published_counts(self) -> dict[str, int]:
        """How many events were published to each topic so far."""
        rows = await self.connection.execute(_PUBLISHED)
        counts = {str(topic): int(count) for topic, count in rows}
        await self.connection.commit()
        return counts

    async def pending(self) -> int:
        """Entries still waiting for publication."""
        count = (await self.connection.execute(_PENDING)).scalar_one()
        await self.connection.commit()
        return int(count)

    async def requeue_topic(self, topic: str) -> int:
        """Queue every event of ``topic`` again, in position order (a broker lost them).

        Pending entries of the topic are dropped first so that the topic's history
        goes out in order; they are part of that history anyway.
        """
        queued = (await self.connection.execute(_REQUEUE, {"topic": topic})).scalar_one()
        await self.connection.commit()
        return int(queued)


def _acknowledged(published: Sequence[PendingEvent]) -> tuple[list[int], list[str], list[int]]:
    """The parameters of ``_DONE`` and ``_COUNTED``: the entries, their topics, the counts."""
    counts = Counter(p.event.topic for p in published if p.event.topic)
    return [p.outbox_id for p in published], list(counts), list(counts.values())


def _pending(rows: Sequence[Any]) -> list[PendingEvent]:
    return [PendingEvent(row[0], _recorded(row[1:])) for row in rows]
