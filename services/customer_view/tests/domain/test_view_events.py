"""From crm.profiles.v1 events to facts: every event type, and what is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import types_pb2
from crm.common.v1.envelope_pb2 import Envelope
from crm.profiles.v1 import profiles_pb2 as profiles
from crm.touchpoints.v1 import touchpoints_pb2 as touchpoints
from crm_contracts import event_types, pack_payload
from crm_customer_view.domain import (
    ConsentFact,
    CreationFact,
    ErasureFact,
    EventMeta,
    Fact,
    Identifier,
    IdentifierFact,
    InvalidEvent,
    MergeFact,
    SharedFact,
    TouchpointFact,
    TraitFact,
    UnattributionFact,
    UnlinkFact,
    UnmergeFact,
    customer_key,
    customers_affected,
    facts_from_envelope,
    facts_from_event,
    index_keys,
    keys_to_load,
    touchpoint_key,
)
from crm_customer_view.domain.values import (
    CallProperties,
    ComplaintProperties,
    ConsentProperties,
    GenericProperties,
    Money,
    OrderItem,
    OrderProperties,
    PageViewProperties,
    RefundProperties,
    SurveyResponseProperties,
)

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
META = EventMeta("ev-1", 42, T0)
EMAIL = types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_EMAIL, value="ada@example.com")


def ts(moment: datetime) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(moment)
    return timestamp


def facts(message: Message) -> tuple[Fact, ...]:
    return facts_from_event(message.DESCRIPTOR.full_name, message, META)


def attributed(**properties: object) -> profiles.TouchpointAttributed:
    touchpoint = touchpoints.TouchpointRecorded(
        event_id="tp-1", channel=touchpoints.CHANNEL_CALL_CENTER, type="call",
        occurred_at=ts(T0 - timedelta(days=1)), identifiers=[EMAIL],
        traits={"first_name": "Ada", "city": ""}, **properties)
    return profiles.TouchpointAttributed(customer_id="c1", touchpoint=touchpoint)


def test_an_attributed_touchpoint_becomes_a_touchpoint_fact_of_its_customer() -> None:
    (fact,) = facts(attributed(call=touchpoints.CallProperties(
        duration_seconds=300, reason="billing", satisfaction=4)))
    assert isinstance(fact, TouchpointFact)
    assert fact.customer_id == "c1" and fact.meta == META and fact.key == "ev-1/0"
    tp = fact.touchpoint
    assert (tp.event_id, tp.channel, tp.type) == ("tp-1", "call_center", "call")
    assert tp.occurred_at == T0 - timedelta(days=1)
    assert tp.identifiers == (Identifier("email", "ada@example.com"),)
    assert tp.traits == (("first_name", "Ada"),)  # empty values are absent in proto3
    assert tp.properties == CallProperties(300, "billing", "", "", 4)


@pytest.mark.parametrize(("properties", "expected"), [
    ({"order": touchpoints.OrderProperties(
        order_id="o-1", amount=types_pb2.Money(amount="19.90", currency="EUR"),
        items=[touchpoints.OrderItem(sku="s", name="Mug", quantity=2,
                                     unit_price=types_pb2.Money(amount="9.95", currency="EUR"))])},
     OrderProperties("o-1", Money("19.90", "EUR"),
                     (OrderItem("s", "Mug", 2, Money("9.95", "EUR")),))),
    ({"refund": touchpoints.RefundProperties(
        order_id="o-1", amount=types_pb2.Money(amount="5.00", currency="USD"))},
     RefundProperties("o-1", Money("5.00", "USD"))),
    ({"survey_response": touchpoints.SurveyResponseProperties(nps=0, comment="meh")},
     SurveyResponseProperties(0, None, "meh")),
    ({"complaint": touchpoints.ComplaintProperties(category="billing", severity="high")},
     ComplaintProperties("billing", "high")),
    ({"page_view": touchpoints.PageViewProperties(url="https://x.test/", title="Home")},
     PageViewProperties("https://x.test/", "", "Home")),
    ({"consent": touchpoints.ConsentProperties(channel="email", purpose="marketing")},
     ConsentProperties("email", "marketing", False)),
    ({}, None),
])
def test_each_typed_property_message_becomes_its_plain_value(
    properties: dict[str, object], expected: object
) -> None:
    (fact,) = facts(attributed(**properties))
    assert isinstance(fact, TouchpointFact)
    assert fact.touchpoint.properties == expected


def test_generic_properties_become_canonical_json_with_sorted_keys() -> None:
    message = attributed()
    message.touchpoint.generic.fields.update({"b": 1, "a": ["x", True]})
    (fact,) = facts(message)
    assert isinstance(fact, TouchpointFact)
    assert fact.touchpoint.properties == GenericProperties('{"a":["x",true],"b":1.0}')


def test_every_profile_event_type_becomes_its_facts() -> None:
    linked = profiles.IdentifierLinked(customer_id="c1", identifier=EMAIL, rule="new_profile")
    assert facts(linked) == (IdentifierFact("c1", Identifier("email", "ada@example.com"), META),)
    unlinked = profiles.IdentifierUnlinked(customer_id="c1", identifier=EMAIL)
    assert facts(unlinked) == (UnlinkFact("c1", Identifier("email", "ada@example.com"), META),)
    assert facts(profiles.TouchpointUnattributed(customer_id="c1", touchpoint_event_id="tp-1")) == (
        UnattributionFact("c1", "tp-1", META),)
    assert facts(profiles.ProfileCreated(customer_id="c1", occurred_at=ts(T0))) == (
        CreationFact("c1", T0, META),)
    assert facts(profiles.ProfilesMerged(survivor_id="c1", merged_away_id="c2")) == (
        MergeFact("c1", "c2", META),)
    assert facts(profiles.ProfileErased(customer_id="c1", erased_at=ts(T0))) == (
        ErasureFact("c1", T0, META),)
    assert facts(profiles.MergeBlocked(customer_ids=["c1", "c2"], reason="never_merge")) == ()


def test_a_new_profile_is_created_then_linked_to_each_identifier_it_carries() -> None:
    phone = types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_PHONE, value="+12125552671")
    created = profiles.ProfileCreated(customer_id="c1", occurred_at=ts(T0), links=[
        profiles.IdentifierLinked(customer_id="c1", identifier=i, rule="new_profile")
        for i in (EMAIL, phone)])
    parts = facts(created)
    assert parts == (
        CreationFact("c1", T0, META),
        IdentifierFact("c1", Identifier("email", "ada@example.com"), META, 1),
        IdentifierFact("c1", Identifier("phone", "+12125552671"), META, 2),
    )
    assert len({fact.key for fact in parts}) == 3  # each part its own idempotency key


def test_an_attribution_carrying_links_is_the_touchpoint_then_each_identifier_it_linked(
) -> None:
    phone = types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_PHONE, value="+12125552671")
    message = attributed()
    message.links.add(customer_id="c1", identifier=phone, rule="seen_together")
    touchpoint, link = facts(message)
    assert isinstance(touchpoint, TouchpointFact) and touchpoint.touchpoint.event_id == "tp-1"
    assert link == IdentifierFact("c1", Identifier("phone", "+12125552671"), META, 1)
    assert (touchpoint.key, link.key) == ("ev-1/0", "ev-1/1")


@pytest.mark.parametrize("link", [
    profiles.IdentifierLinked(customer_id="c2", identifier=EMAIL),
    profiles.IdentifierLinked(identifier=EMAIL),
    profiles.IdentifierLinked(customer_id="c1"),
])
def test_a_new_profile_whose_link_is_not_its_own_or_is_empty_is_refused(
    link: profiles.IdentifierLinked,
) -> None:
    created = profiles.ProfileCreated(customer_id="c1", links=[link])
    with pytest.raises(InvalidEvent, match="ProfileCreated"):
        facts(created)
    carrying = attributed()
    carrying.links.append(link)
    with pytest.raises(InvalidEvent, match="TouchpointAttributed"):
        facts(carrying)


def test_a_trait_without_a_source_says_unknown_and_one_without_a_time_takes_the_events() -> None:
    (fact,) = facts(profiles.TraitObserved(customer_id="c1", name="city", value="Paris"))
    assert fact == TraitFact("c1", "city", "Paris", "unknown", T0, META)


def test_a_consent_change_keeps_its_evidence_or_else_is_its_own_evidence() -> None:
    with_evidence = profiles.ConsentChanged(
        customer_id="c1", channel="email", purpose="marketing",
        state=profiles.CONSENT_STATE_DENIED, evidence_event_id="tp-9", occurred_at=ts(T0))
    assert facts(with_evidence) == (
        ConsentFact("c1", "email", "marketing", "denied", "tp-9", T0, META),)
    with_evidence.ClearField("evidence_event_id")
    (fact,) = facts(with_evidence)
    assert isinstance(fact, ConsentFact) and fact.evidence_event_id == "ev-1"


def test_an_unmerge_moves_each_identifier_it_names_from_the_survivor_to_the_restored() -> None:
    phone = types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_PHONE, value="+12125552671")
    message = profiles.ProfileUnmerged(customer_id="c1", restored_id="c2",
                                       identifiers=[phone, EMAIL, EMAIL])
    email_, phone_ = Identifier("email", "ada@example.com"), Identifier("phone", "+12125552671")
    assert facts(message) == (
        UnmergeFact("c1", "c2", META),
        UnlinkFact("c1", email_, META, 1), UnlinkFact("c1", phone_, META, 2),
        IdentifierFact("c2", email_, META, 3), IdentifierFact("c2", phone_, META, 4),
    )


def test_a_shared_identifier_names_each_customer_once() -> None:
    message = profiles.IdentifierMarkedShared(identifier=EMAIL, customer_ids=["c2", "c1", "c2"])
    assert facts(message) == (
        SharedFact(Identifier("email", "ada@example.com"), ("c1", "c2"), META),)


@pytest.mark.parametrize("message", [
    profiles.TouchpointAttributed(customer_id="c1"),
    profiles.TouchpointAttributed(touchpoint=touchpoints.TouchpointRecorded(event_id="tp")),
    profiles.IdentifierLinked(customer_id="c1"),
    profiles.ProfilesMerged(survivor_id="c1"),
    profiles.ProfileUnmerged(restored_id="c2"),
    profiles.ConsentChanged(customer_id="c1", channel="email", purpose="marketing"),
    profiles.ProfileErased(),
])
def test_an_event_missing_what_the_view_needs_is_refused_with_the_reason(message: Message) -> None:
    with pytest.raises(InvalidEvent) as refused:
        facts(message)
    assert refused.value.reason


def test_a_message_that_is_not_of_the_named_type_is_refused() -> None:
    with pytest.raises(InvalidEvent, match=r"is a crm\.profiles\.v1\.ProfileErased"):
        facts_from_event("crm.profiles.v1.ProfilesMerged",
                         profiles.ProfileErased(customer_id="c1"), META)


def test_the_short_event_name_is_accepted_too() -> None:
    merged = profiles.ProfilesMerged(survivor_id="c1", merged_away_id="c2")
    assert facts_from_event("ProfilesMerged", merged, META) == (MergeFact("c1", "c2", META),)


def test_events_of_other_topics_give_no_fact() -> None:
    recorded = touchpoints.TouchpointRecorded(event_id="tp-1")
    assert facts_from_event(recorded.DESCRIPTOR.full_name, recorded, META) == ()


FOLDED = {
    profiles.TouchpointAttributed, profiles.TouchpointUnattributed, profiles.ProfileCreated,
    profiles.IdentifierLinked, profiles.IdentifierUnlinked, profiles.IdentifierMarkedShared,
    profiles.TraitObserved, profiles.ConsentChanged, profiles.ProfilesMerged,
    profiles.ProfileUnmerged, profiles.ProfileErased,
}
# No record content: a split's moves follow as links, unlinks and attributions; the
# erasure notices name touchpoints the ProfileErased already covers, or that were never
# attributed (a suppressed one never reaches the view).
IGNORED = {
    profiles.MergeBlocked, profiles.ProfileSplit, profiles.TouchpointsErased,
    profiles.TouchpointSuppressed, profiles.SuppressionLifted,
}


def test_every_catalogued_profile_event_type_is_folded_or_knowingly_ignored() -> None:
    profile_types = {t for t in event_types() if t.startswith("crm.profiles.v1.")}
    assert profile_types == {m.DESCRIPTOR.full_name for m in FOLDED | IGNORED}


@pytest.mark.parametrize("message", [
    profiles.ProfileSplit(customer_id="c1", new_customer_id="c2",
                          identifiers=[EMAIL], reason="two people", requested_by="key-1"),
    profiles.TouchpointsErased(customer_id="c1", receipt_id="r-1",
                               touchpoint_event_ids=["tp-1", "tp-2"]),
    profiles.TouchpointSuppressed(touchpoint_event_id="tp-3", receipt_id="r-1"),
    profiles.SuppressionLifted(receipt_id="r-1", evidence_event_id="tp-4", occurred_at=ts(T0)),
    profiles.MergeBlocked(customer_ids=["c1", "c2"], reason="rule"),
], ids=lambda m: m.DESCRIPTOR.name)
def test_events_without_record_content_give_no_fact_and_are_not_refused(
    message: Message,
) -> None:
    assert facts(message) == ()


def test_an_envelope_gives_its_id_position_time_and_cause_to_the_facts() -> None:
    event_id = str(uuid.uuid4())
    event_type, payload = pack_payload(profiles.ProfilesMerged(survivor_id="c1",
                                                               merged_away_id="c2"))
    envelope = Envelope(event_id=event_id, event_type=event_type, payload=payload,
                        occurred_at=ts(T0), position=7, causation_id="tp-1")
    assert facts_from_envelope(envelope) == (
        MergeFact("c1", "c2", EventMeta(event_id, 7, T0, "tp-1")),)


def test_facts_are_filed_under_their_customers_and_attributions_under_the_touchpoint() -> None:
    (touchpoint_fact,) = facts(attributed())
    (merge,) = facts(profiles.ProfilesMerged(survivor_id="c1", merged_away_id="c2"))
    assert index_keys(touchpoint_fact) == {customer_key("c1"), touchpoint_key("tp-1")}
    assert index_keys(merge) == {customer_key("c1"), customer_key("c2")}
    assert customers_affected([touchpoint_fact, merge]) == {"c1", "c2"}


def test_what_a_record_needs_is_its_merge_lineage_and_the_touchpoints_it_was_given() -> None:
    merge = MergeFact("c1", "c2", META)
    older = MergeFact("c2", "c3", EventMeta("ev-0", 1, T0))
    (touchpoint_fact,) = facts(attributed())
    elsewhere = UnattributionFact("c9", "tp-9", META)
    assert keys_to_load("c3", [older]) == {customer_key("c3"), customer_key("c2")}
    assert keys_to_load("c3", [older, merge, touchpoint_fact, elsewhere]) == {
        customer_key("c1"), customer_key("c2"), customer_key("c3"), touchpoint_key("tp-1")}
