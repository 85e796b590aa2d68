"""Identity decisions as profile events: which decisions share an event."""

from __future__ import annotations

from datetime import UTC, datetime

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import message_class
from crm_eventstore import EventMetadata, StreamAppend
from crm_profile.app.profile_events import Cause, profile_events
from crm_profile.domain import identity as decided

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EMAIL, PHONE = "email:ada@example.com", "phone:+12125552671"


def _cause(*touchpoint_ids: str) -> Cause:
    stored = {t: TouchpointRecorded(event_id=t).SerializeToString() for t in touchpoint_ids}
    return Cause(touchpoint_ids[0], T0, EventMetadata(causation_id=touchpoint_ids[0]), stored)


def _published(appends: list[StreamAppend]) -> list[tuple[str, object]]:
    return [(a.stream_id, message_class(e.event_type).FromString(e.payload))
            for a in appends for e in a.events]


def _link(customer_id: str, identifier: str, rule: str = "new_profile",
          touchpoint_id: str = "tp-1") -> decided.Decision:
    return decided.IdentifierLinked(customer_id, identifier, touchpoint_id, rule, "verified")


def test_a_new_profile_carries_the_links_that_follow_it_then_comes_the_attribution() -> None:
    decisions = [decided.ProfileCreated("c1", frozenset({EMAIL, PHONE})),
                 _link("c1", EMAIL), _link("c1", PHONE),
                 decided.TouchpointAttributed("c1", "tp-1")]
    [(stream, created), (_, attributed)] = _published(profile_events(decisions, _cause("tp-1")))
    assert stream == "profile-c1"
    assert isinstance(created, wire.ProfileCreated)
    assert (created.customer_id, created.source_event_id) == ("c1", "tp-1")
    assert [(link.customer_id, link.identifier.value, link.rule, link.assurance)
            for link in created.links] == [
        ("c1", "ada@example.com", "new_profile", wire.ASSURANCE_VERIFIED),
        ("c1", "+12125552671", "new_profile", wire.ASSURANCE_VERIFIED)]
    assert isinstance(attributed, wire.TouchpointAttributed)
    assert attributed.touchpoint.event_id == "tp-1"


def test_a_known_profile_seen_with_new_identifiers_is_one_attribution_carrying_the_links(
) -> None:
    decisions = [_link("c0", EMAIL, "seen_together"), _link("c0", PHONE, "seen_together"),
                 decided.TouchpointAttributed("c0", "tp-1")]
    [(stream, attributed)] = _published(profile_events(decisions, _cause("tp-1")))
    assert stream == "profile-c0"
    assert isinstance(attributed, wire.TouchpointAttributed)
    assert (attributed.customer_id, attributed.touchpoint.event_id) == ("c0", "tp-1")
    assert [(link.customer_id, link.identifier.value, link.source_event_id, link.rule)
            for link in attributed.links] == [
        ("c0", "ada@example.com", "tp-1", "seen_together"),
        ("c0", "+12125552671", "tp-1", "seen_together")]


def test_links_by_another_touchpoint_or_of_another_customer_stay_out_of_an_attribution(
) -> None:
    decisions = [_link("c0", EMAIL, "seen_together", touchpoint_id="tp-2"),
                 _link("c0", PHONE, "seen_together"),
                 decided.TouchpointAttributed("c0", "tp-1"),
                 _link("c2", "email:grace@example.com", "seen_together"),
                 decided.TouchpointAttributed("c1", "tp-1")]
    published = _published(profile_events(decisions, _cause("tp-1", "tp-2")))
    assert [(stream, type(m).__name__, [link.identifier.value for link in getattr(m, "links", [])])
            for stream, m in published] == [
        ("profile-c0", "IdentifierLinked", []),
        ("profile-c0", "TouchpointAttributed", ["+12125552671"]),
        ("profile-c2", "IdentifierLinked", []),
        ("profile-c1", "TouchpointAttributed", [])]


def test_links_not_right_before_their_attribution_stay_events_of_their_own() -> None:
    decisions = [_link("c0", EMAIL, "seen_together"),
                 decided.ProfileCreated("c1", frozenset({PHONE})),
                 _link("c2", "email:grace@example.com"),
                 decided.TouchpointAttributed("c1", "tp-1"),
                 _link("c1", PHONE)]
    published = _published(profile_events(decisions, _cause("tp-1")))
    assert [(stream, type(m).__name__) for stream, m in published] == [
        ("profile-c0", "IdentifierLinked"), ("profile-c1", "ProfileCreated"),
        ("profile-c2", "IdentifierLinked"), ("profile-c1", "TouchpointAttributed"),
        ("profile-c1", "IdentifierLinked")]
    created = published[1][1]
    assert isinstance(created, wire.ProfileCreated) and not created.links


def test_two_new_profiles_in_one_touchpoint_each_carry_their_own_links() -> None:
    decisions = [decided.ProfileCreated("c1", frozenset({EMAIL})), _link("c1", EMAIL),
                 decided.ProfileCreated("c2", frozenset({PHONE})), _link("c2", PHONE)]
    published = _published(profile_events(decisions, _cause("tp-1")))
    assert [(stream, [link.identifier.value for link in m.links])  # type: ignore[attr-defined]
            for stream, m in published] == [
        ("profile-c1", ["ada@example.com"]), ("profile-c2", ["+12125552671"])]
