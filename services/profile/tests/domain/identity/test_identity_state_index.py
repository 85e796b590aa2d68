"""The state index on a worked example (its properties: test_identity_properties)."""

import itertools
from datetime import UTC, datetime, timedelta

from crm_profile.domain.identity import (
    CurrentIdentity,
    Evidence,
    IdentityRules,
    StateIndex,
    decide,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_after_a_merge_the_index_finds_the_survivor_and_what_merged_into_it() -> None:
    first = Evidence("tp1", T0, frozenset({"email:a@x.test", "phone:+1555"}))
    second = Evidence("tp2", T0 + timedelta(minutes=1),
                      frozenset({"customer_number:C1", "anonymous_id:w1"}))
    bridge = Evidence("tp3", T0 + timedelta(minutes=2),
                      frozenset({"email:a@x.test", "customer_number:C1"}))
    known = list[Evidence]()
    index = StateIndex(CurrentIdentity())
    ids = itertools.count()
    for item in (first, second, bridge):
        decisions = decide(index.restrict([*known, item]), item, known,
                           IdentityRules(), lambda: f"c-{next(ids)}")
        state = index.apply(decisions)
        known.append(item)
    assert len(state.profiles) == 1 and len(state.merged_away) == 1
    survivor = next(iter(state.profiles))
    part = index.restrict([second])
    assert set(part.profiles) == {survivor}
    assert set(part.merged_away) == set(state.merged_away)  # whose root is the survivor

