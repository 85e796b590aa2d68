"""Traits and consent folded from events: latest wins, order never matters, merges restrict."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crm_profile.domain.profile import ConsentFact, TraitFact, fold

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def trait(name: str, value: str, minutes: int, event: str, source: str = "web") -> TraitFact:
    return TraitFact(name, value, source, T0 + timedelta(minutes=minutes), event)


def consent(granted: bool, minutes: int, side: str = "A", event: str = "e") -> ConsentFact:
    return ConsentFact("email", "marketing", granted, event, T0 + timedelta(minutes=minutes), side)


def test_a_late_call_center_event_does_not_overwrite_a_newer_web_update() -> None:
    web = trait("city", "Paris", 10, "e-web")
    late_call = trait("city", "Lyon", 5, "e-call", source="call_center")

    view = fold([web, late_call], [])

    assert view.traits["city"].value == "Paris"
    assert view.traits["city"].source == "web"


def test_equal_times_are_broken_by_event_id_whatever_the_order() -> None:
    a, b = trait("city", "Paris", 1, "e-1"), trait("city", "Lyon", 1, "e-2")

    assert fold([a, b], []).traits == fold([b, a], []).traits
    assert fold([a, b], []).traits["city"].value == "Lyon"


def test_within_one_profile_the_latest_consent_wins_and_keeps_its_evidence() -> None:
    view = fold([], [consent(True, 1, event="opt-in"), consent(False, 2, event="unsub")])

    state = view.consent[("email", "marketing")]
    assert (state.granted, state.evidence_event_id) == (False, "unsub")


def test_on_a_merge_the_most_restrictive_consent_wins() -> None:
    denied_long_ago = consent(False, 1, side="B", event="old-unsub")
    granted_recently = consent(True, 5, side="A", event="opt-in")

    view = fold([], [granted_recently, denied_long_ago], merged_at={"B": T0 + timedelta(hours=1)})

    assert view.consent[("email", "marketing")].granted is False


def test_a_consent_given_after_the_merge_applies() -> None:
    view = fold([], [consent(False, 1, side="B"), consent(True, 120, side="A", event="again")],
                merged_at={"B": T0 + timedelta(hours=1)})

    assert view.consent[("email", "marketing")].granted is True


# An event id names one fact: equal ids carry equal content, as in the event store.
traits = st.builds(
    lambda name, value, minutes: trait(name, value, minutes, f"{name}-{value}-{minutes}"),
    st.sampled_from(["city", "first_name"]), st.sampled_from(["x", "y", "z"]),
    st.integers(0, 5))
consents = st.builds(
    lambda granted, minutes, side: consent(granted, minutes, side, f"{granted}-{minutes}-{side}"),
    st.booleans(), st.integers(0, 5), st.sampled_from(["A", "B"]))


@given(st.lists(traits, max_size=8), st.lists(consents, max_size=8), st.randoms())
def test_the_profile_is_a_function_of_the_set_of_events(t, c, random) -> None:  # type: ignore[no-untyped-def]
    shuffled_t, shuffled_c = list(t), list(c)
    random.shuffle(shuffled_t)
    random.shuffle(shuffled_c)
    merged = {"B": T0 + timedelta(minutes=3)}

    assert fold(t, c, merged) == fold(shuffled_t + t[:1], shuffled_c + c[:1], merged)
