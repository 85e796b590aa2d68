"""The profile as the API shows it, from stored events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1 import touchpoints_pb2 as pb
from crm_contracts import pack_payload, to_timestamp
from crm_eventstore import EventMetadata, RecordedEvent
from crm_profile.adapters.profiles import StoredProfile
from crm_profile.app.profile_view import profile_json

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _attributed(channel: int) -> RecordedEvent:
    touchpoint = pb.TouchpointRecorded(event_id="tp-1", channel=channel,
                                       occurred_at=to_timestamp(T0), traits={"city": "Oslo"})
    event_type, payload = pack_payload(
        wire.TouchpointAttributed(customer_id="c1", touchpoint=touchpoint))
    return RecordedEvent(1, "profile-c1", 1, uuid.uuid4(), event_type, 1, payload, "c1",
                         "crm.profiles.v1", T0, T0, EventMetadata(causation_id="tp-1"))


def _profile(*events: RecordedEvent) -> StoredProfile:
    return StoredProfile("c1", "c1", ("email:ada@example.com",), (), events)


def test_a_touchpoint_trait_is_shown_with_its_channel_as_source() -> None:
    shown = profile_json(_profile(_attributed(pb.CHANNEL_CALL_CENTER)))
    assert shown["traits"] == {"city": {"value": "Oslo", "source": "call_center",
                                        "occurred_at": T0.isoformat()}}


def test_a_channel_this_build_does_not_know_shows_as_unspecified() -> None:
    # A newer producer's channel: the profile is still shown (it raised before).
    shown = profile_json(_profile(_attributed(max(pb.Channel.values()) + 1)))
    assert shown["traits"]["city"]["source"] == "unspecified"
