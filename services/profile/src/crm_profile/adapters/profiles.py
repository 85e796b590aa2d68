"""Reading a profile: its live identifiers, the ids merged into it, and its events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm.profiles.v1.profiles_pb2 import TouchpointAttributed
from crm_eventstore import EventStore, RecordedEvent
from crm_profile.app.profile_events import stream_of

__all__ = ["Lineage", "StoredProfile", "lineage", "load_profile"]

_PROFILE = text("""SELECT customer_id, merged_into, identifiers FROM identity_profiles
                   WHERE customer_id = :id""")
_MOVED_AWAY = text("""
SELECT touchpoint_id FROM identity_attribution
WHERE touchpoint_id = ANY(CAST(:ids AS text[])) AND NOT customer_id = ANY(CAST(:lineage AS text[]))
""")
_FOLDED = text("""
WITH RECURSIVE away AS (
    SELECT customer_id FROM identity_profiles WHERE merged_into = :root
    UNION
    SELECT p.customer_id FROM identity_profiles p JOIN away ON p.merged_into = away.customer_id
)
SELECT customer_id FROM away
""")


@dataclass(frozen=True)
class StoredProfile:
    customer_id: str  # the live profile (the survivor, if the asked id was merged away)
    asked_for: str
    identifiers: tuple[str, ...]
    merged_ids: tuple[str, ...]
    events: tuple[RecordedEvent, ...]  # of the profile and every profile merged into it
    # Touchpoints that some of those events carry or were caused by, but that belong to
    # someone else now (a split or a re-resolution moved them): what they said is no
    # longer about this one.
    moved_away: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lineage:
    """A live profile and every profile merged into it (directly or not)."""

    customer_id: str
    identifiers: tuple[str, ...]
    merged_ids: tuple[str, ...]

    def ids(self) -> tuple[str, ...]:
        return (self.customer_id, *self.merged_ids)


async def lineage(connection: AsyncConnection, customer_id: str) -> Lineage | None:
    """The live profile ``customer_id`` is (or was merged into), and what was merged in."""
    seen: set[str] = set()
    current, identifiers = customer_id, ()
    while current not in seen:
        seen.add(current)
        row = (await connection.execute(_PROFILE, {"id": current})).first()
        if row is None:
            return None
        identifiers = tuple(sorted(row.identifiers))
        if row.merged_into is None:
            break
        current = row.merged_into
    folded = tuple(str(r[0]) for r in await connection.execute(_FOLDED, {"root": current}))
    return Lineage(current, identifiers, folded)


async def load_profile(connection: AsyncConnection, store: EventStore,
                       customer_id: str) -> StoredProfile | None:
    """The live profile ``customer_id`` is (or was merged into), with its history."""
    found = await lineage(connection, customer_id)
    if found is None:
        return None
    events: list[RecordedEvent] = []
    for cid in found.ids():
        events += await store.read_stream(stream_of(cid))
    events.sort(key=lambda e: e.global_position)
    moved = await connection.execute(_MOVED_AWAY, {"ids": sorted(_touchpoints_named(events)),
                                                   "lineage": list(found.ids())})
    return StoredProfile(found.customer_id, customer_id, found.identifiers, found.merged_ids,
                         tuple(events), frozenset(str(row[0]) for row in moved))


_ATTRIBUTED = TouchpointAttributed.DESCRIPTOR.full_name


def _touchpoints_named(events: list[RecordedEvent]) -> set[str]:
    """The touchpoints ``events`` carry (attributions) or were caused by (observations),
    among other causes (an API key, a split), which no attribution names."""
    named = {e.metadata.causation_id for e in events if e.metadata.causation_id}
    named |= {TouchpointAttributed.FromString(e.payload).touchpoint.event_id
              for e in events if e.event_type == _ATTRIBUTED}
    return named
