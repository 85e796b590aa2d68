"""The extension's shortcut: a known customer's new identifiers join their profile
without resolving (its property: test_identity_properties)."""

import itertools
from datetime import UTC, datetime, timedelta

from crm_profile.domain.identity import (
    CurrentIdentity,
    Evidence,
    IdentifierLinked,
    IdentityRules,
    NeverMerge,
    TouchpointAttributed,
    apply,
    holding,
    restrict,
)
from crm_profile.domain.identity.extension import extension_decisions
from crm_profile.domain.identity.incremental import decide_by_component, shortcut_decisions

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RULES = IdentityRules()


def _seen(touchpoint_id: str, minute: int, *identifiers: str,
          assurance: str = "self_asserted") -> Evidence:
    return Evidence(touchpoint_id, T0 + timedelta(minutes=minute), frozenset(identifiers),
                    assurance)


def _known(*evidence: Evidence, rules: IdentityRules = RULES) -> CurrentIdentity:
    """The state after ``evidence`` (profiles c1, c2, ... in order of creation)."""
    state, ids = CurrentIdentity(), itertools.count(1)
    for n, item in enumerate(evidence):
        state = apply(state, decide_by_component(state, item, evidence[:n], rules,
                                                 lambda: f"c{next(ids)}"))
    return state


SIGNUP = _seen("signup", 0, "customer_number:C1", "email:ada@x.test")


def test_a_known_customer_calling_from_a_new_phone_adds_it_to_their_profile() -> None:
    state = _known(SIGNUP)
    call = _seen("call", 5, "customer_number:C1", "phone:+15550100", assurance="verified")

    decided = extension_decisions(state, call, [SIGNUP], RULES)

    assert decided == (
        IdentifierLinked("c1", "phone:+15550100", "call", "seen_together", "verified"),
        TouchpointAttributed("c1", "call"),
    )
    assert decided == decide_by_component(state, call, [SIGNUP], RULES, lambda: "c2")


def test_a_late_touchpoint_extends_the_profile_as_well() -> None:
    state = _known(SIGNUP)
    earlier = _seen("earlier", -60, "email:ada@x.test", "anonymous_id:w1")

    decided = extension_decisions(state, earlier, [SIGNUP], RULES)

    assert decided == decide_by_component(state, earlier, [SIGNUP], RULES, lambda: "c2")


def test_identifiers_of_one_profile_never_seen_together_are_attributed_to_it() -> None:
    web = _seen("web", 1, "email:ada@x.test", "anonymous_id:w1")
    state = _known(SIGNUP, web)
    number_and_web = _seen("app", 2, "customer_number:C1", "anonymous_id:w1")

    decided = extension_decisions(state, number_and_web, [SIGNUP, web], RULES)

    assert decided == (TouchpointAttributed("c1", "app"),)
    assert decided == decide_by_component(state, number_and_web, [SIGNUP, web], RULES,
                                          lambda: "c2")


def test_only_unseen_identifiers_are_not_an_extension() -> None:
    state = _known(SIGNUP)

    assert extension_decisions(state, _seen("other", 1, "email:bob@x.test"), [SIGNUP],
                               RULES) is None


def test_a_touchpoint_joining_two_profiles_takes_the_general_way() -> None:
    other = _seen("other", 1, "customer_number:C2", "email:bob@x.test")
    state = _known(SIGNUP, other)
    bridge = _seen("bridge", 2, "email:ada@x.test", "email:bob@x.test", "phone:+15550100")

    assert extension_decisions(state, bridge, [SIGNUP, other], RULES) is None


def test_what_the_rules_may_refuse_takes_the_general_way() -> None:
    state = _known(SIGNUP)
    second_number = _seen("b", 1, "email:ada@x.test", "customer_number:C9")
    blocked = _seen("c", 1, "email:ada@x.test", "phone:+18005550000")
    split_apart = _seen("d", 1, "email:ada@x.test", "email:ada.old@x.test")
    rules = IdentityRules(
        blocked=frozenset({"phone:+18005550000"}),
        never_merge=(NeverMerge(frozenset({"email:ada.old@x.test"}),
                                frozenset({"customer_number:C7"}), "split"),))

    for refused in (second_number, blocked, split_apart):
        assert extension_decisions(state, refused, [SIGNUP], rules) is None, refused


def test_a_landline_seen_with_one_email_too_many_takes_the_general_way() -> None:
    # Seen with three emails (the limit), the landline's profile holds them all; a fourth
    # would exceed the limit and make the landline shared. (Sharing alone, within the
    # limits, is the property test's: the check is needed there.)
    landline = "phone:+15550199"
    seen = [_seen(f"t{n}", n, landline, f"email:m{n}@x.test") for n in range(3)]
    rules = IdentityRules(limits={"email": 3, "phone": 3, "customer_number": 1})
    state = _known(*seen, rules=rules)
    fourth = _seen("t3", 3, landline, "email:m3@x.test")

    assert extension_decisions(state, fourth, seen, rules) is None
    assert any(type(d).__name__ == "IdentifierMarkedShared"
               for d in decide_by_component(state, fourth, seen, rules, lambda: "c9"))


def test_a_profile_in_a_refused_merge_takes_the_general_way() -> None:
    # Found by the property test: the landline's touchpoint could not join the two
    # profiles (one phone each, at most one allowed). A customer number new to the second
    # profile changes why (two customer numbers, the stronger type): the general way
    # records the refusal again with that reason.
    rules = IdentityRules(limits={"customer_number": 1, "phone": 1})
    home = _seen("home", 0, "customer_number:C0", "phone:+18005550000")
    bridge = _seen("bridge", 1, "phone:+18005550000", "phone:+15553010")
    state = _known(home, bridge, rules=rules)
    assert set(state.profiles) == {"c1", "c2"} and state.blocked
    call = _seen("call", 0, "customer_number:C3", "phone:+15553010")

    assert extension_decisions(state, call, [home, bridge], rules) is None
    assert any(type(d).__name__ == "MergeBlocked"
               for d in decide_by_component(state, call, [home, bridge], rules, lambda: "c9"))


def test_a_refusal_made_further_away_in_the_profile_still_counts() -> None:
    # As above, but the refusal was made by a touchpoint that carries none of the new
    # one's identifiers: told only the evidence carrying those (as a consumer chunk
    # first tries the shortcuts), the extension must still hear of every refusal.
    rules = IdentityRules(limits={"customer_number": 1, "phone": 1})
    home = _seen("home", 0, "customer_number:C0", "phone:+18005550000")
    email = _seen("email", 0, "phone:+15553010", "email:lin@x.test")
    bridge = _seen("bridge", 2, "phone:+18005550000", "phone:+15553010")
    everything = [home, email, bridge]
    state = _known(*everything, rules=rules)
    call = _seen("call", 1, "customer_number:C3", "email:lin@x.test")  # arrives late
    carrying = [email]
    near = restrict(state, [*carrying, call])
    assert not near.blocked  # the refusal is not among what the call's identifiers reach

    # What the consumer tells the shortcuts: the profiles holding those identifiers, and
    # the rest of the state (every refusal) whole.
    assert shortcut_decisions(holding(state, [*carrying, call]), call, carrying, rules,
                              lambda: "c9") is None
    assert any(type(d).__name__ == "MergeBlocked"
               for d in decide_by_component(state, call, everything, rules, lambda: "c9"))


def test_an_identifier_the_touchpoint_would_make_shared_takes_the_general_way() -> None:
    # Found by the property test: the landline, seen with two customer numbers, is shared
    # and in no profile; C0's profile may take one phone. But C0 has been seen with the
    # landline already: seen with a second phone, C0 itself is shared (at most one phone
    # is a person's) and leaves its profile.
    rules = IdentityRules(limits={"customer_number": 1, "phone": 1})
    landline = "phone:+15550199"
    home = _seen("home", 0, "customer_number:C0", landline)
    neighbour = _seen("neighbour", 1, "customer_number:C3", landline)
    state = _known(home, neighbour, rules=rules)
    assert landline in state.shared
    call = _seen("call", 2, "customer_number:C0", "phone:+15550100")

    assert extension_decisions(state, call, [home, neighbour], rules) is None
    assert any(getattr(d, "reason", "") == "shared_identifier:customer_number:C0"
               for d in decide_by_component(state, call, [home, neighbour], rules,
                                            lambda: "c9"))
