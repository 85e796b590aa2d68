"""The newcomer's shortcut: a first touchpoint gets a new profile without resolving."""

from datetime import UTC, datetime, timedelta

from crm_profile.domain.identity import (
    CurrentIdentity,
    Evidence,
    IdentifierLinked,
    IdentityRules,
    NeverMerge,
    ProfileCreated,
    TouchpointAttributed,
    apply,
)
from crm_profile.domain.identity.incremental import decide_by_component
from crm_profile.domain.identity.newcomer import newcomer_decisions

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RULES = IdentityRules()


def _seen(touchpoint_id: str, minute: int, *identifiers: str) -> Evidence:
    return Evidence(touchpoint_id, T0 + timedelta(minutes=minute), frozenset(identifiers),
                    "verified")


def test_a_first_visit_creates_a_profile_holding_its_identifiers() -> None:
    first = _seen("signup", 0, "email:a@x.test", "anonymous_id:w1")

    decided = newcomer_decisions(CurrentIdentity(), first, [], RULES, lambda: "c1")

    assert decided == (
        ProfileCreated("c1", first.identifiers),
        IdentifierLinked("c1", "anonymous_id:w1", "signup", "new_profile", "verified"),
        IdentifierLinked("c1", "email:a@x.test", "signup", "new_profile", "verified"),
        TouchpointAttributed("c1", "signup"),
    )
    assert decided == decide_by_component(CurrentIdentity(), first, [], RULES, lambda: "c1")


def test_an_identifier_seen_before_takes_another_way() -> None:
    known = _seen("a", 0, "email:a@x.test")
    state = apply(CurrentIdentity(), decide_by_component(
        CurrentIdentity(), known, [], RULES, lambda: "c1"))

    assert newcomer_decisions(state, _seen("b", 1, "email:a@x.test", "phone:+15550001"),
                              [known], RULES, lambda: "c2") is None
    assert newcomer_decisions(state, known, [known], RULES, lambda: "c2") is None


def test_what_the_rules_may_refuse_takes_the_general_way() -> None:
    two_numbers = _seen("a", 0, "customer_number:C1", "customer_number:C2")
    call_center = _seen("b", 0, "phone:+18005550000", "email:b@x.test")
    split_apart = _seen("c", 0, "email:c@x.test", "email:d@x.test")
    rules = IdentityRules(
        blocked=frozenset({"phone:+18005550000"}),
        never_merge=(NeverMerge(frozenset({"email:c@x.test"}), frozenset({"email:d@x.test"}),
                                "split"),))

    for refused in (two_numbers, call_center, split_apart):
        assert newcomer_decisions(CurrentIdentity(), refused, [], rules, lambda: "c1") is None
