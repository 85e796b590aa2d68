"""Why a profile holds what it holds: its identity events (and those merged into it), the
splits that made it, and the never-merge facts about its identifiers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.profiles.v1 import profiles_pb2 as wire
from crm_contracts import message_class
from crm_eventstore import EventStore, RecordedEvent
from crm_profile.adapters.never_merge_store import NeverMergeStore, RecordedSplit
from crm_profile.adapters.profiles import StoredProfile
from crm_profile.app.profile_events import stream_of

__all__ = ["Splits", "explanation", "splits_of"]

_KINDS = {
    "crm.profiles.v1.ProfileCreated": "created",
    "crm.profiles.v1.IdentifierLinked": "identifier_linked",
    "crm.profiles.v1.IdentifierUnlinked": "identifier_unlinked",
    "crm.profiles.v1.ProfilesMerged": "merged",
    "crm.profiles.v1.ProfileUnmerged": "unmerged",
    "crm.profiles.v1.MergeBlocked": "merge_blocked",
    "crm.profiles.v1.IdentifierMarkedShared": "identifier_shared",
    "crm.profiles.v1.ProfileSplit": "split",
}
# Not identity history itself, but it may carry links that are (ProfileCreated too).
_ATTRIBUTED = wire.TouchpointAttributed.DESCRIPTOR.full_name


@dataclass(frozen=True)
class Splits:
    """The splits behind a profile: the ``ProfileSplit`` events that created one of its ids
    (they are on the stream of the profile that was split), and the never-merge facts
    about its identifiers."""

    events: tuple[RecordedEvent, ...] = ()
    facts: tuple[RecordedSplit, ...] = ()


async def splits_of(engine: AsyncEngine, profile: StoredProfile) -> Splits:
    """The splits behind ``profile`` (see :class:`Splits`)."""
    async with engine.connect() as connection:
        facts = NeverMergeStore(connection)
        made = await facts.of_customers((profile.customer_id, *profile.merged_ids))
        touching = await facts.touching(profile.identifiers)
    own = {str(event.event_id) for event in profile.events}
    wanted = {split.split_id: split for split in made if split.split_id not in own}
    events: list[RecordedEvent] = []
    for customer_id in sorted({split.customer_id for split in wanted.values()}):
        events += [event for event in await EventStore(engine).read_stream(stream_of(customer_id))
                   if str(event.event_id) in wanted]
    known = {split.split_id: split for split in (*touching, *made)}
    return Splits(tuple(events), tuple(known.values()))


def explanation(profile: StoredProfile, splits: Splits | None = None) -> dict[str, Any]:
    """Every identity event of the profile, oldest first, with what, when and why; and the
    never-merge facts that keep its identifiers apart from others."""
    splits = splits or Splits()
    events = sorted((*profile.events, *splits.events), key=lambda e: e.global_position)
    return {
        "customer_id": profile.customer_id,
        "requested_id": profile.asked_for,
        "merged_into": profile.customer_id if profile.asked_for != profile.customer_id else None,
        "history": [entry for e in events if e.event_type in _KINDS or e.event_type == _ATTRIBUTED
                    for entry in _entries(e)],
        "never_merge": [_fact(split) for split in splits.facts],
    }


def _fact(split: RecordedSplit) -> dict[str, Any]:
    return {"split_event_id": split.split_id, "customer_id": split.customer_id,
            "new_customer_id": split.new_customer_id, "moved": _typed(split.fact.left),
            "kept": _typed(split.fact.right), "reason": split.fact.reason,
            "requested_by": split.requested_by,
            "split_at": split.split_at.isoformat() if split.split_at else None}


def _typed(identifiers: Iterable[str]) -> list[dict[str, str]]:
    return [{"type": i.partition(":")[0], "value": i.partition(":")[2]}
            for i in sorted(identifiers)]


def _entries(event: RecordedEvent) -> list[dict[str, Any]]:
    """The event's entry, then one per link it carries (a ``ProfileCreated``, a
    ``TouchpointAttributed``), as if each were the ``IdentifierLinked`` event that older
    history holds instead; an attribution itself has no entry."""
    message = message_class(event.event_type).FromString(event.payload)
    if not isinstance(message, wire.ProfileCreated | wire.TouchpointAttributed):
        return [_entry(event, _KINDS[event.event_type], message)]
    links = [_entry(event, "identifier_linked", link) for link in message.links]
    if isinstance(message, wire.TouchpointAttributed):
        return links
    message.ClearField("links")
    return [_entry(event, "created", message), *links]


def _entry(event: RecordedEvent, what: str, message: Message) -> dict[str, Any]:
    return {"what": what, "at": event.recorded_at.isoformat(),
            "occurred_at": event.occurred_at.isoformat(), "event_id": str(event.event_id),
            "details": MessageToDict(message, preserving_proto_field_name=True)}
