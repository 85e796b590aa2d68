"""Reading a profile: its live identifiers, the ids merged into it, and its events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_eventstore import EventStore, RecordedEvent
from crm_profile.app.profile_events import stream_of

__all__ = ["StoredProfile", "load_profile"]

_PROFILE = text("""SELECT customer_id, merged_into, identifiers FROM identity_profiles
                   WHERE customer_id = :id""")
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


async def load_profile(connection: AsyncConnection, store: EventStore,
                       customer_id: str) -> StoredProfile | None:
    """The live profile ``customer_id`` is (or was merged into), with its history."""
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
    events: list[RecordedEvent] = []
    for cid in (current, *folded):
        events += await store.read_stream(stream_of(cid))
    events.sort(key=lambda e: e.global_position)
    return StoredProfile(current, customer_id, identifiers, folded, tuple(events))
