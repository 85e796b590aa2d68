"""The returning customer's shortcut decides exactly what resolving the component decides."""

import itertools
from datetime import UTC, datetime, timedelta

from crm_profile.domain.identity import CurrentIdentity, Evidence, IdentityRules, apply
from crm_profile.domain.identity.incremental import decide_by_component
from crm_profile.domain.identity.returning import returning_attribution

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RULES = IdentityRules()


def _seen(touchpoint_id: str, minute: int, *identifiers: str) -> Evidence:
    return Evidence(touchpoint_id, T0 + timedelta(minutes=minute), frozenset(identifiers))


def _state_after(*evidence: Evidence) -> tuple[CurrentIdentity, list[Evidence]]:
    state, known, ids = CurrentIdentity(), list[Evidence](), itertools.count()
    for item in evidence:
        state = apply(state, decide_by_component(state, item, known, RULES,
                                                 lambda: f"c{next(ids)}"))
        known.append(item)
    return state, known


def test_a_page_view_with_identifiers_seen_together_before_is_only_attributed() -> None:
    state, known = _state_after(_seen("signup", 0, "email:a@x.test", "anonymous_id:w1"))

    decided = returning_attribution(state, _seen("view", 5, "anonymous_id:w1"), known, RULES)

    assert decided is not None and [type(d).__name__ for d in decided] == [
        "TouchpointAttributed"]
    assert decided[0].customer_id == state.attribution["signup"]


def test_identifiers_never_seen_together_take_the_general_way() -> None:
    state, known = _state_after(_seen("a", 0, "email:a@x.test", "anonymous_id:w1"),
                                _seen("b", 1, "email:a@x.test", "phone:+15550001"))
    together_never = _seen("c", 2, "anonymous_id:w1", "phone:+15550001")

    assert returning_attribution(state, together_never, known, RULES) is None
    assert returning_attribution(state, _seen("a", 3, "email:a@x.test"), known, RULES) is None
