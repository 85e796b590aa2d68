"""A profile as the API shows it: identifiers, traits and consent (folded from events).

Traits come from the touchpoints the profile holds (each ``TouchpointAttributed``
carries its touchpoint, whose traits it says; source: the channel) and from
``TraitObserved`` events: back-office edits, and, in history written before touchpoints'
traits stopped getting events of their own, the traits of touchpoints. What a touchpoint
that moved away said no longer counts here, whichever event says it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import channel_name, from_timestamp, message_class
from crm_profile.adapters.profiles import StoredProfile
from crm_profile.domain.profile import ConsentFact, TraitFact, fold

__all__ = ["profile_json"]


def profile_json(profile: StoredProfile) -> dict[str, Any]:
    traits: list[TraitFact] = []
    consents: list[ConsentFact] = []
    merged_at: dict[str, datetime] = {}
    for event in profile.events:
        message = message_class(event.event_type).FromString(event.payload)
        match message:
            case wire.TouchpointAttributed() if message.touchpoint.event_id in profile.moved_away:
                continue  # belongs to someone else now
            case wire.TouchpointAttributed():
                traits += _said_by(message.touchpoint)
            case wire.TraitObserved() if event.metadata.causation_id in profile.moved_away:
                continue  # said by a touchpoint that belongs to someone else now
            case wire.ConsentChanged() if message.evidence_event_id in profile.moved_away:
                continue
            case wire.TraitObserved():
                traits.append(TraitFact(message.name, message.value, message.source,
                                        from_timestamp(message.occurred_at), str(event.event_id)))
            case wire.ConsentChanged():
                consents.append(ConsentFact(
                    message.channel, message.purpose,
                    message.state == wire.CONSENT_STATE_GRANTED,
                    message.evidence_event_id or str(event.event_id),
                    from_timestamp(message.occurred_at), event.stream_id, message.evidence))
            case wire.ProfilesMerged():
                merged_at[message.merged_away_id] = event.occurred_at
    view = fold(traits, consents, merged_at)
    return {
        "customer_id": profile.customer_id,
        "merged_into": profile.customer_id if profile.asked_for != profile.customer_id else None,
        "merged_ids": list(profile.merged_ids),
        "identifiers": [{"type": i.split(":", 1)[0], "value": i.split(":", 1)[1]}
                        for i in profile.identifiers],
        "traits": {name: {"value": t.value, "source": t.source,
                          "occurred_at": t.occurred_at.isoformat()}
                   for name, t in view.traits.items()},
        "consent": [{"channel": c, "purpose": p, "state": "granted" if s.granted else "denied",
                     "evidence_event_id": s.evidence_event_id, "evidence": s.evidence or None,
                     "occurred_at": s.occurred_at.isoformat()}
                    for (c, p), s in view.consent.items()],
    }


def _said_by(touchpoint: TouchpointRecorded) -> list[TraitFact]:
    """The traits ``touchpoint`` carries, observed when it occurred, through its channel;
    ties between equal times are broken by the touchpoint's id. A channel this build does
    not know is ``unspecified``, as in the customer view."""
    source = channel_name(touchpoint.channel)
    when = from_timestamp(touchpoint.occurred_at)
    return [TraitFact(name, value, source, when, touchpoint.event_id)
            for name, value in touchpoint.traits.items()]
