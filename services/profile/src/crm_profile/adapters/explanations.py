"""Why a profile holds what it holds: read from its events (and those merged into it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf.json_format import MessageToDict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_contracts import message_class
from crm_eventstore import EventStore, RecordedEvent
from crm_profile.app.profile_events import stream_of

__all__ = ["Explanation", "explain"]

_PROFILE = text("SELECT customer_id, merged_into FROM identity_profiles WHERE customer_id = :id")
_FOLDED = text("""
WITH RECURSIVE away AS (
    SELECT customer_id FROM identity_profiles WHERE merged_into = :root
    UNION
    SELECT p.customer_id FROM identity_profiles p JOIN away ON p.merged_into = away.customer_id
)
SELECT customer_id FROM away
""")

_KINDS = {
    "crm.profiles.v1.IdentifierLinked": "identifier_linked",
    "crm.profiles.v1.IdentifierUnlinked": "identifier_unlinked",
    "crm.profiles.v1.ProfilesMerged": "merged",
    "crm.profiles.v1.ProfileUnmerged": "unmerged",
    "crm.profiles.v1.MergeBlocked": "merge_blocked",
    "crm.profiles.v1.IdentifierMarkedShared": "identifier_shared",
    "crm.profiles.v1.ProfileCreated": "created",
}


@dataclass
class Explanation:
    customer_id: str
    asked_for: str
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "requested_id": self.asked_for,
                "merged_into": self.customer_id if self.customer_id != self.asked_for else None,
                "history": self.history}


async def explain(connection: AsyncConnection, store: EventStore,
                  customer_id: str) -> Explanation | None:
    """Every identity event of the profile (and of profiles merged into it), oldest first."""
    root = await _root(connection, customer_id)
    if root is None:
        return None
    folded = [str(r[0]) for r in await connection.execute(_FOLDED, {"root": root})]
    events: list[RecordedEvent] = []
    for cid in [root, *folded]:
        events += await store.read_stream(stream_of(cid))
    events.sort(key=lambda e: e.global_position)
    history = [_entry(e) for e in events if e.event_type in _KINDS]
    return Explanation(root, customer_id, history)


async def _root(connection: AsyncConnection, customer_id: str) -> str | None:
    seen = set()
    while customer_id not in seen:
        seen.add(customer_id)
        row = (await connection.execute(_PROFILE, {"id": customer_id})).first()
        if row is None:
            return None
        if row.merged_into is None:
            return customer_id
        customer_id = row.merged_into
    return customer_id


def _entry(event: RecordedEvent) -> dict[str, Any]:
    message = message_class(event.event_type).FromString(event.payload)
    return {"what": _KINDS[event.event_type], "at": event.recorded_at.isoformat(),
            "occurred_at": event.occurred_at.isoformat(), "event_id": str(event.event_id),
            "details": MessageToDict(message, preserving_proto_field_name=True)}
