"""Why a profile holds what it holds: its identity events (and those merged into it)."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict

from crm_contracts import message_class
from crm_eventstore import RecordedEvent
from crm_profile.adapters.profiles import StoredProfile

__all__ = ["explanation"]

_KINDS = {
    "crm.profiles.v1.ProfileCreated": "created",
    "crm.profiles.v1.IdentifierLinked": "identifier_linked",
    "crm.profiles.v1.IdentifierUnlinked": "identifier_unlinked",
    "crm.profiles.v1.ProfilesMerged": "merged",
    "crm.profiles.v1.ProfileUnmerged": "unmerged",
    "crm.profiles.v1.MergeBlocked": "merge_blocked",
    "crm.profiles.v1.IdentifierMarkedShared": "identifier_shared",
}


def explanation(profile: StoredProfile) -> dict[str, Any]:
    """Every identity event of the profile, oldest first, with what, when and why."""
    return {
        "customer_id": profile.customer_id,
        "requested_id": profile.asked_for,
        "merged_into": profile.customer_id if profile.asked_for != profile.customer_id else None,
        "history": [_entry(e) for e in profile.events if e.event_type in _KINDS],
    }


def _entry(event: RecordedEvent) -> dict[str, Any]:
    message = message_class(event.event_type).FromString(event.payload)
    return {"what": _KINDS[event.event_type], "at": event.recorded_at.isoformat(),
            "occurred_at": event.occurred_at.isoformat(), "event_id": str(event.event_id),
            "details": MessageToDict(message, preserving_proto_field_name=True)}
