"""The unified record: traits, consent, identifiers, merges, timeline, masking, erasure."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from crm.common.v1 import types_pb2
from crm.profiles.v1 import profiles_pb2 as profiles
from crm_customer_view.domain import (
    ConsentFact,
    CustomerRecord,
    ErasureFact,
    EventMeta,
    Fact,
    Identifier,
    IdentifierFact,
    MergeFact,
    Redirect,
    SharedFact,
    Touchpoint,
    TouchpointFact,
    TraitFact,
    UnattributionFact,
    UnlinkFact,
    digest,
    facts_from_event,
    mask_email,
    mask_name,
    mask_phone,
    record_of,
    timeline,
    without_pii,
)
from crm_customer_view.domain.consent import ConsentValue
from crm_customer_view.domain.facts import ConsentState
from crm_customer_view.domain.values import (
    ConsentProperties,
    Money,
    OrderProperties,
    Properties,
    SurveyResponseProperties,
)

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class History:
    """Facts as the profile service would publish them, positions in call order."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def _meta(self, when: datetime, cause: str = "") -> EventMeta:
        position = len(self.facts) + 1
        return EventMeta(f"ev-{position:03d}", position, when, cause)

    def _add(self, fact: Fact) -> Fact:
        self.facts.append(fact)
        return fact

    def touchpoint(self, customer: str, when: datetime, type_: str = "page_view",
                   channel: str = "web", event_id: str | None = None,
                   identifiers: tuple[Identifier, ...] = (),
                   traits: tuple[tuple[str, str], ...] = (),
                   properties: Properties = None) -> Touchpoint:
        touchpoint = Touchpoint(event_id or f"tp-{len(self.facts) + 1:03d}", channel, type_,
                                when, identifiers, traits, properties)
        self._add(TouchpointFact(customer, touchpoint, self._meta(when)))
        return touchpoint

    def attribute(self, customer: str, touchpoint: Touchpoint, said: bool = True) -> None:
        """``touchpoint`` given to ``customer`` as the profile service publishes it: the
        touchpoint, then (``said``) its traits and consent, caused by the touchpoint."""
        when, cause = touchpoint.occurred_at, touchpoint.event_id
        self._add(TouchpointFact(customer, touchpoint, self._meta(when)))
        if not said:
            return
        for name, value in touchpoint.traits:
            self._add(TraitFact(customer, name, value, touchpoint.channel, when,
                                self._meta(when, cause)))
        consent = touchpoint.properties
        if isinstance(consent, ConsentProperties):
            state: ConsentState = "granted" if consent.granted else "denied"
            self._add(ConsentFact(customer, consent.channel, consent.purpose, state, cause,
                                  when, self._meta(when, cause)))

    def unattribute(self, customer: str, touchpoint: Touchpoint) -> None:
        self._add(UnattributionFact(customer, touchpoint.event_id, self._meta(T0)))

    def link(self, customer: str, identifier: Identifier, when: datetime = T0) -> None:
        self._add(IdentifierFact(customer, identifier, self._meta(when)))

    def unlink(self, customer: str, identifier: Identifier) -> None:
        self._add(UnlinkFact(customer, identifier, self._meta(T0)))

    def trait(self, customer: str, name: str, value: str, when: datetime,
              source: str = "back_office", cause: str = "api-key:k1") -> None:
        self._add(TraitFact(customer, name, value, source, when, self._meta(when, cause)))

    def consent(self, customer: str, state: ConsentState, when: datetime,
                purpose: str = "marketing", evidence: str | None = None) -> None:
        meta = self._meta(when, "api-key:k1")
        self._add(ConsentFact(customer, "email", purpose, state, evidence or meta.event_id,
                              when, meta))

    def merge(self, survivor: str, away: str, when: datetime = T0) -> None:
        self._add(MergeFact(survivor, away, self._meta(when)))

    def unmerge(self, customer: str, restored: str, *identifiers: Identifier) -> None:
        message = profiles.ProfileUnmerged(customer_id=customer, restored_id=restored, identifiers=[
            types_pb2.Identifier(type=types_pb2.IdentifierType.Value(
                f"IDENTIFIER_TYPE_{i.type.upper()}"), value=i.value) for i in identifiers])
        self.facts += facts_from_event("ProfileUnmerged", message, self._meta(T0))

    def share(self, identifier: Identifier, *customers: str) -> None:
        self._add(SharedFact(identifier, customers, self._meta(T0)))

    def erase(self, customer: str) -> None:
        self._add(ErasureFact(customer, T0, self._meta(T0)))

    def record(self, customer: str = "c1") -> CustomerRecord:
        result = record_of(customer, self.facts)
        assert isinstance(result, CustomerRecord), result
        return result

    def shuffled(self, seed: int) -> list[Fact]:
        facts = list(self.facts)
        random.Random(seed).shuffle(facts)
        return facts


ADA = Identifier("email", "ada@example.com")
ADA_PHONE = Identifier("phone", "+12125552671")
BOB = Identifier("email", "bob@example.com")


def traits_of(record: CustomerRecord) -> dict[str, tuple[str, str]]:
    return {t.name: (t.value, t.source) for t in record.traits}


# --- traits ------------------------------------------------------------------------------------


def test_a_late_call_center_event_does_not_overwrite_a_newer_web_update() -> None:
    history = History()
    history.touchpoint("c1", at(10), traits=(("city", "Lyon"),))
    history.touchpoint("c1", at(2), "call", "call_center", traits=(("city", "Paris"),))
    assert traits_of(history.record())["city"] == ("Lyon", "web")


def test_a_tie_in_time_goes_to_the_observation_with_the_larger_event_id() -> None:
    history = History()
    history.touchpoint("c1", at(1), event_id="tp-b", traits=(("city", "Lyon"),))
    history.touchpoint("c1", at(1), "call", "call_center", event_id="tp-a",
                       traits=(("city", "Paris"),))
    for seed in range(5):
        record = record_of("c1", history.shuffled(seed))
        assert isinstance(record, CustomerRecord)
        assert traits_of(record)["city"] == ("Lyon", "web")


def test_a_back_office_edit_competes_with_channel_traits_by_time() -> None:
    history = History()
    history.touchpoint("c1", at(1), traits=(("first_name", "Ada"),))
    history.trait("c1", "first_name", "Augusta", at(5))
    history.touchpoint("c1", at(3), traits=(("first_name", "Addie"),))
    trait = history.record().traits[0]
    assert (trait.value, trait.source, trait.occurred_at) == ("Augusta", "back_office", at(5))


def test_the_traits_of_an_unattributed_touchpoint_no_longer_count() -> None:
    history = History()
    history.touchpoint("c1", at(1), traits=(("city", "Lyon"),))
    wrong = history.touchpoint("c1", at(2), traits=(("city", "Paris"),))
    history.unattribute("c1", wrong)
    assert traits_of(history.record())["city"] == ("Lyon", "web")


def web_visit(event_id: str, when: datetime, *traits: tuple[str, str]) -> Touchpoint:
    return Touchpoint(event_id, "web", "page_view", when, (), traits, None)


def test_after_a_split_each_customer_shows_only_what_its_own_touchpoints_said() -> None:
    history = History()
    history.attribute("c1", web_visit("tp-ada", at(1), ("first_name", "Ada")))
    grace = web_visit("tp-grace", at(2), ("first_name", "Grace"), ("city", "Arlington"))
    history.attribute("c1", grace)
    assert traits_of(history.record("c1"))["first_name"] == ("Grace", "web")
    history.attribute("c2", grace)  # split off: moved, and said again for its new owner
    assert traits_of(history.record("c1")) == {"first_name": ("Ada", "web")}
    assert traits_of(history.record("c2")) == {"first_name": ("Grace", "web"),
                                               "city": ("Arlington", "web")}


def test_a_touchpoint_speaks_for_its_new_owner_even_before_its_traits_are_said_again() -> None:
    history = History()
    grace = web_visit("tp-grace", at(2), ("first_name", "Grace"))
    history.attribute("c1", grace)
    history.attribute("c2", grace, said=False)
    assert traits_of(history.record("c1")) == {}
    assert traits_of(history.record("c2")) == {"first_name": ("Grace", "web")}


def test_what_a_touchpoint_said_is_shown_as_said_by_the_touchpoint() -> None:
    history = History()
    visit = web_visit("tp-1", at(1), ("city", "Lyon"))
    history.attribute("c1", visit)
    (city,) = history.record().traits
    assert (city.value, city.source, city.occurred_at, city.event_id) == (
        "Lyon", "web", at(1), visit.event_id)


def test_a_back_office_edit_stays_with_its_customer_when_touchpoints_move() -> None:
    history = History()
    grace = web_visit("tp-grace", at(2), ("first_name", "Grace"))
    history.attribute("c1", grace)
    history.trait("c1", "first_name", "Ada", at(3))
    history.attribute("c2", grace)
    assert traits_of(history.record("c1")) == {"first_name": ("Ada", "back_office")}
    assert traits_of(history.record("c2")) == {"first_name": ("Grace", "web")}


def test_an_observation_stored_without_its_cause_counts_as_observed() -> None:
    history = History()  # stored before the view kept causation ids: run rebuild --replace
    grace = web_visit("tp-grace", at(2), ("first_name", "Grace"))
    history.touchpoint("c1", at(2), event_id=grace.event_id, traits=grace.traits)
    history.trait("c1", "first_name", "Grace", at(2), source="web", cause="")
    history.attribute("c2", grace)
    assert traits_of(history.record("c1")) == {"first_name": ("Grace", "web")}


# --- consent -----------------------------------------------------------------------------------


def consent_of(record: CustomerRecord, purpose: str = "marketing") -> ConsentValue:
    (value,) = [c for c in record.consent if c.purpose == purpose]
    return value


def test_the_latest_consent_decision_wins_whatever_the_arrival_order() -> None:
    history = History()
    history.consent("c1", "granted", at(5))
    history.consent("c1", "denied", at(1))
    for seed in range(5):
        record = record_of("c1", history.shuffled(seed))
        assert isinstance(record, CustomerRecord)
        assert consent_of(record).state == "granted"


def test_at_the_same_instant_denied_beats_granted() -> None:
    history = History()
    history.consent("c1", "denied", at(1), evidence="a")
    history.consent("c1", "granted", at(1), evidence="z")
    assert consent_of(history.record()).state == "denied"


def test_a_consent_touchpoint_is_a_decision_with_itself_as_evidence() -> None:
    history = History()
    history.consent("c1", "granted", at(1))
    unsubscribe = history.touchpoint("c1", at(3), "consent", event_id="tp-unsub",
                                     properties=ConsentProperties("email", "marketing", False))
    value = consent_of(history.record())
    assert (value.state, value.evidence_event_id, value.occurred_at) == (
        "denied", unsubscribe.event_id, at(3))


def test_consent_given_by_a_touchpoint_leaves_with_the_touchpoint() -> None:
    history = History()
    history.consent("c1", "granted", at(1), evidence="opted-in")
    unsubscribe = Touchpoint("tp-unsub", "email", "consent", at(3), (), (),
                             ConsentProperties("email", "marketing", False))
    history.attribute("c1", unsubscribe)
    assert consent_of(history.record("c1")).state == "denied"
    history.attribute("c2", unsubscribe)
    assert (consent_of(history.record("c1")).state,
            consent_of(history.record("c1")).evidence_event_id) == ("granted", "opted-in")
    assert (consent_of(history.record("c2")).state,
            consent_of(history.record("c2")).evidence_event_id) == ("denied", "tp-unsub")


def test_on_a_merge_the_stricter_state_wins_and_keeps_its_evidence() -> None:
    history = History()
    history.consent("c2", "denied", at(1), evidence="c2-unsubscribed")
    history.consent("c1", "granted", at(5), evidence="c1-opted-in")
    history.merge("c1", "c2", at(10))
    value = consent_of(history.record())
    assert (value.state, value.evidence_event_id) == ("denied", "c2-unsubscribed")


def test_a_grant_after_the_merge_is_heard() -> None:
    history = History()
    history.consent("c2", "denied", at(1))
    history.merge("c1", "c2", at(10))
    history.consent("c1", "granted", at(20), evidence="opted-in-again")
    assert consent_of(history.record()).evidence_event_id == "opted-in-again"


def test_a_decision_from_before_the_merge_arriving_late_lands_before_the_merge() -> None:
    history = History()
    history.merge("c1", "c2", at(10))
    history.consent("c1", "granted", at(5))
    history.consent("c2", "denied", at(3))  # published (and arriving) after the merge
    assert consent_of(history.record()).state == "denied"


def test_after_an_unmerge_each_profile_has_its_own_consent_again() -> None:
    history = History()
    history.consent("c2", "denied", at(1))
    history.consent("c1", "granted", at(5))
    history.merge("c1", "c2", at(10))
    history.unmerge("c1", "c2")
    assert consent_of(history.record("c1")).state == "granted"
    assert consent_of(history.record("c2")).state == "denied"


# --- identifiers -------------------------------------------------------------------------------


def test_identifiers_show_when_they_were_first_and_last_seen_in_links_and_touchpoints() -> None:
    history = History()
    history.link("c1", ADA, at(5))
    history.touchpoint("c1", at(1), identifiers=(ADA,))
    history.touchpoint("c1", at(9), identifiers=(ADA, BOB))  # BOB is not linked: not shown
    (identifier,) = history.record().identifiers
    assert (identifier.type, identifier.value, identifier.first_seen, identifier.last_seen,
            identifier.shared) == ("email", ADA.value, at(1), at(9), False)


def test_an_identifier_both_merged_profiles_held_spans_both_histories() -> None:
    history = History()
    history.link("c1", ADA, at(1))
    history.link("c2", ADA, at(5))
    history.merge("c1", "c2")
    (ada,) = history.record("c1").identifiers
    assert (ada.first_seen, ada.last_seen) == (at(1), at(5))


def test_an_unlinked_identifier_leaves_the_record() -> None:
    history = History()
    history.link("c1", ADA)
    history.link("c1", ADA_PHONE)
    history.unlink("c1", ADA_PHONE)
    assert [i.value for i in history.record().identifiers] == [ADA.value]


def test_a_shared_identifier_is_shown_and_flagged_for_everyone_sharing_it() -> None:
    history = History()
    history.link("c1", ADA)
    history.share(ADA_PHONE, "c1", "c2")
    for customer in ("c1", "c2"):
        shown = {(i.value, i.shared) for i in history.record(customer).identifiers}
        assert (ADA_PHONE.value, True) in shown


def test_an_unmerge_takes_back_the_identifiers_it_names_with_when_they_were_seen() -> None:
    history = History()
    history.link("c1", ADA, at(1))
    history.link("c2", BOB, at(2))
    history.merge("c1", "c2", at(3))
    assert [i.value for i in history.record("c1").identifiers] == [ADA.value, BOB.value]
    history.unmerge("c1", "c2", BOB)
    assert [i.value for i in history.record("c1").identifiers] == [ADA.value]
    (bob,) = history.record("c2").identifiers
    assert (bob.value, bob.first_seen) == (BOB.value, at(2))


# --- merges and moves --------------------------------------------------------------------------


def test_a_merged_away_id_answers_with_a_pointer_to_its_live_survivor() -> None:
    history = History()
    history.merge("c2", "c3")
    history.merge("c1", "c2")
    assert record_of("c3", history.facts) == Redirect("c3", "c1")
    assert history.record("c1").merged_ids == ("c2", "c3")
    assert Redirect("c3", "c1").to_json() == {"customer_id": "c3", "merged_into": "c1"}


def test_a_merge_that_would_close_a_cycle_changes_nothing() -> None:
    history = History()
    history.merge("c1", "c2")
    history.merge("c2", "c1")
    assert history.record("c1").merged_ids == ("c2",)


def test_a_touchpoint_attributed_again_elsewhere_leaves_the_first_record() -> None:
    history = History()
    moved = history.touchpoint("c1", at(1), event_id="tp-x")
    history.touchpoint("c2", at(1), event_id="tp-x")  # no unattribution was published
    assert history.record("c1").channels == ()
    assert [e.touchpoint.event_id for e in timeline("c2", history.facts)] == [moved.event_id]


def test_the_survivor_unattributing_a_touchpoint_of_a_merged_profile_takes_it_out() -> None:
    history = History()
    wrong = history.touchpoint("c2", at(1))
    history.merge("c1", "c2")
    history.unattribute("c1", wrong)  # the profile service now holds it under the survivor
    assert history.record("c1").channels == ()


def test_an_unattribution_by_someone_else_changes_nothing() -> None:
    history = History()
    kept = history.touchpoint("c1", at(1))
    history.unattribute("c2", kept)
    assert [c.interactions for c in history.record("c1").channels] == [1]


def test_a_restored_profile_holds_exactly_the_identifiers_the_unmerge_names() -> None:
    history = History()
    history.link("c2", ADA)
    history.unmerge("c1", "c2", BOB)  # as the profile service rebuilds it: these, no others
    assert [i.value for i in history.record("c2").identifiers] == [BOB.value]


def test_an_id_no_fact_names_gets_an_empty_record() -> None:
    record = History().record("nobody")
    assert record.freshness.version == 0 and record.freshness.last_event_at is None
    assert record.identifiers == () and record.rfm is None and record.clv is None


def test_freshness_counts_the_facts_folded_and_their_latest_time() -> None:
    history = History()
    history.touchpoint("c1", at(1))
    history.trait("c1", "city", "Lyon", at(7))
    history.touchpoint("c1", at(3))
    assert (history.record().freshness.version, history.record().freshness.last_event_at) == (
        3, at(7))


# --- timeline ----------------------------------------------------------------------------------


def test_the_timeline_is_newest_first_with_the_event_id_breaking_ties() -> None:
    history = History()
    history.touchpoint("c1", at(1), event_id="tp-a")
    history.touchpoint("c1", at(5), event_id="tp-b")
    history.touchpoint("c1", at(5), event_id="tp-c")
    history.touchpoint("c1", at(3), event_id="tp-d")
    for seed in range(5):
        entries = timeline("c1", history.shuffled(seed))
        assert [e.touchpoint.event_id for e in entries] == ["tp-c", "tp-b", "tp-d", "tp-a"]
        assert [e.position for e in entries] == sorted((e.position for e in entries),
                                                       reverse=True)


def test_the_timeline_filters_by_channel_and_by_type() -> None:
    history = History()
    history.touchpoint("c1", at(1), "call", "call_center")
    history.touchpoint("c1", at(2), "page_view", "web")
    history.touchpoint("c1", at(3), "login", "web")
    assert [e.touchpoint.type for e in timeline("c1", history.facts, channel="web")] == [
        "login", "page_view"]
    assert [e.touchpoint.type for e in timeline("c1", history.facts, type="call")] == ["call"]
    assert timeline("c1", history.facts, channel="web", type="call") == []


def test_the_timeline_of_a_merged_away_id_is_its_survivors_and_says_where_each_came_from() -> None:
    history = History()
    history.touchpoint("c1", at(1))
    history.touchpoint("c2", at(2))
    history.merge("c1", "c2")
    assert [e.attributed_to for e in timeline("c2", history.facts)] == ["c2", "c1"]


# --- masking and JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize(("masked", "expected"), [
    (mask_email("ada@example.com"), "a***@example.com"),
    (mask_email("not-an-email"), "n***"),
    (mask_phone("+12125552671"), "+1******2671"),
    (mask_phone("+4420"), "*****"),
    (mask_name("Ada"), "A***"),
    (mask_name(""), ""),
])
def test_masked_forms_keep_enough_to_recognise_never_enough_to_learn(
    masked: str, expected: str
) -> None:
    assert masked == expected


def a_known_customer() -> History:
    history = History()
    history.link("c1", ADA)
    history.link("c1", ADA_PHONE)
    history.link("c1", Identifier("customer_number", "K-1001"))
    history.touchpoint("c1", at(1), "survey_response", "email", identifiers=(ADA, ADA_PHONE),
                       traits=(("first_name", "Ada"), ("last_name", "Lovelace"),
                               ("city", "London")),
                       properties=SurveyResponseProperties(9, 5, "lovely"))
    history.touchpoint("c1", at(2), "order", identifiers=(ADA,),
                       properties=OrderProperties("o-1", Money("19.99", "EUR")))
    history.consent("c1", "granted", at(1))
    return history


def test_masking_hides_names_emails_and_phones_in_the_record_and_the_timeline() -> None:
    history = a_known_customer()
    shown = json.dumps([history.record().to_json(mask_pii=True),
                        [e.to_json(mask_pii=True) for e in timeline("c1", history.facts)]])
    for secret in ("ada@example.com", "+12125552671", "Ada", "Lovelace"):
        assert secret not in shown
    for masked in ("a***@example.com", "+1******2671", "A***", "L***", "K-1001", "London"):
        assert masked in shown


def test_the_record_holds_every_field_of_the_unified_record() -> None:
    shown: Any = a_known_customer().record().to_json(mask_pii=False)  # JSON: read by path
    assert list(shown) == [
        "customer_id", "merged_ids", "erased", "identifiers", "traits", "consent", "channels",
        "orders", "rfm", "clv", "satisfaction", "open_complaints", "segments",
        "recent_campaign_contacts", "freshness"]
    assert shown["identifiers"]["email"][0]["value"] == "ada@example.com"
    assert shown["traits"]["city"]["source"] == "email"
    assert shown["consent"]["email"]["marketing"]["state"] == "granted"
    assert shown["orders"]["lifetime_revenue"] == "19.99"
    assert shown["satisfaction"]["nps"] == {"latest": 9, "average": "9.00", "responses": 1}
    assert shown["segments"] == [] and shown["recent_campaign_contacts"] == []
    assert json.loads(json.dumps(shown)) == shown


def test_the_digest_is_the_same_for_equal_records_and_changes_with_any_field() -> None:
    history = a_known_customer()
    first = digest(history.record())
    assert digest(record_of_shuffled(history, 3)) == first
    history.trait("c1", "city", "Paris", at(9))
    assert digest(history.record()) != first


def record_of_shuffled(history: History, seed: int) -> CustomerRecord:
    record = record_of("c1", history.shuffled(seed))
    assert isinstance(record, CustomerRecord)
    return record


# --- erasure -----------------------------------------------------------------------------------


def test_an_erased_record_says_so_and_keeps_only_what_is_not_about_the_person() -> None:
    history = a_known_customer()
    history.erase("c1")
    record = history.record()
    assert record.erased and record.identifiers == () and record.traits == ()
    assert record.orders.lifetime_revenue == Decimal("19.99")
    assert record.satisfaction.nps.latest == 9 and consent_of(record).state == "granted"
    shown = json.dumps([record.to_json(mask_pii=False),
                        [e.to_json(mask_pii=False) for e in timeline("c1", history.facts)]])
    for secret in ("ada@", "+12125552671", "Ada", "Lovelace", "London", "K-1001", "lovely"):
        assert secret not in shown


def test_an_id_merged_into_the_erased_profile_afterwards_keeps_its_data() -> None:
    history = History()
    history.link("c1", ADA)
    history.erase("c1")
    history.link("c2", BOB)
    history.merge("c1", "c2")
    assert [i.value for i in history.record("c1").identifiers] == [BOB.value]


def test_everything_merged_into_the_erased_profile_before_is_erased_with_it() -> None:
    history = History()
    history.link("c2", BOB)
    history.trait("c2", "first_name", "Bob", at(1))
    history.merge("c1", "c2")
    history.erase("c1")
    history.unmerge("c1", "c2", BOB)  # even restored later, it was the person's
    assert history.record("c2").identifiers == () and history.record("c2").traits == ()


def test_a_shared_identifier_stays_with_the_others_who_share_it() -> None:
    history = History()
    history.share(ADA_PHONE, "c1", "c2")
    history.erase("c1")
    assert history.record("c1").identifiers == ()
    assert [i.value for i in history.record("c2").identifiers] == [ADA_PHONE.value]


def test_every_stored_copy_of_a_touchpoint_the_erased_person_owns_is_scrubbed() -> None:
    history = History()
    history.touchpoint("c2", at(1), event_id="tp-x", identifiers=(ADA,),
                       traits=(("first_name", "Ada"),))
    history.touchpoint("c1", at(1), event_id="tp-x", identifiers=(ADA,),
                       traits=(("first_name", "Ada"),))  # attributed again, to c1
    history.erase("c1")
    scrubbed = without_pii(history.facts)
    assert "Ada" not in repr(scrubbed) and ADA.value not in repr(scrubbed)
    assert record_of("c2", scrubbed) == record_of("c2", history.facts)


def test_the_stored_facts_lose_what_an_unmerge_handed_back_to_the_erased_person() -> None:
    history = History()
    history.merge("c1", "c2")
    history.link("c1", BOB)  # linked to the survivor while c2 was merged into it
    history.unmerge("c1", "c2", BOB)
    history.erase("c2")
    scrubbed = without_pii(history.facts)
    assert BOB.value not in repr(scrubbed)
    assert history.record("c1").identifiers == ()
    for customer in ("c1", "c2"):
        assert record_of(customer, scrubbed) == record_of(customer, history.facts)
