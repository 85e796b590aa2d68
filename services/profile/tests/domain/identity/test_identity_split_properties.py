"""Properties of splits over generated small worlds: a split is what batch resolution
gives under its never-merge fact, and incremental resolution goes on from there.

A world: 2-4 true persons (customer number, emails, phones, anonymous ids), household
phones, a call center's number (blocked or not), default or tight limits; touchpoints
carry a few identifiers of one person, or (a wrong merge waiting to happen) of two.
A split happens after some arrivals, on some profile, moving some of its identifiers.
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crm_profile.domain.identity import (
    DEFAULT_LIMITS,
    CurrentIdentity,
    Evidence,
    IdentityRules,
    MergeBlocked,
    NeverMerge,
    NotSeparable,
    Resolution,
    Split,
    affected_component,
    apply,
    decide,
    identifier_type,
    resolve,
    restrict,
    split,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
CALL_CENTER = "phone:+18005550000"
TIGHT_LIMITS = {"customer_number": 1, "loyalty_id": 2, "email": 2, "phone": 1, "anonymous_id": 2}
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class World:
    people: tuple[tuple[str, ...], ...]
    arrivals: tuple[Evidence, ...]  # in arrival order, with duplicates
    rules: IdentityRules


def person(draw: st.DrawFn, k: int) -> list[str]:
    emails = [f"email:p{k}.{j}@example.test" for j in range(draw(st.integers(1, 2)))]
    phones = [f"phone:+1555{k}0{j}" for j in range(draw(st.integers(0, 2)))]
    anonymous = [f"anonymous_id:p{k}-{j}" for j in range(draw(st.integers(0, 2)))]
    return [f"customer_number:C{k}", *emails, *phones, *anonymous]


@st.composite
def touchpoint(draw: st.DrawFn, people: list[list[str]], n: int) -> Evidence:
    one = draw(st.sampled_from(people))
    identifiers = draw(st.sets(st.sampled_from(one), min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:  # a wrong merge: someone else's identifier too
        identifiers.add(draw(st.sampled_from(draw(st.sampled_from(people)))))
    if draw(st.integers(0, 5)) == 0:
        identifiers.add(CALL_CENTER)
    return Evidence(f"tp{n:02d}", T0 + timedelta(minutes=draw(st.integers(0, 30))),
                    frozenset(identifiers), draw(st.sampled_from(["self_asserted", "verified"])))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    people = [person(draw, k) for k in range(draw(st.integers(2, 4)))]
    if draw(st.booleans()):  # a household phone
        a, b = draw(st.permutations(range(len(people))))[:2]
        people[a].append("phone:+19990")
        people[b].append("phone:+19990")
    evidence = [draw(touchpoint(people, n)) for n in range(draw(st.integers(2, 16)))]
    repeated = draw(st.lists(st.sampled_from(evidence), max_size=2))
    rules = IdentityRules(
        limits=draw(st.sampled_from([DEFAULT_LIMITS, TIGHT_LIMITS])),
        blocked=draw(st.sampled_from([frozenset(), frozenset({CALL_CENTER})])))
    return World(tuple(map(tuple, people)),
                 tuple(draw(st.permutations([*evidence, *repeated]))), rules)


class Service:
    """Incremental resolution, one touchpoint at a time, with splits between them."""

    def __init__(self, rules: IdentityRules) -> None:
        self.rules, self.state, self.known = rules, CurrentIdentity(), list[Evidence]()
        self._ids, self._splits = itertools.count(), itertools.count(1)

    def receive(self, arrivals: Iterable[Evidence]) -> None:
        for item in arrivals:
            decisions = decide(self.state, item, self.known, self.rules,
                               lambda: f"cust-{next(self._ids)}")
            self.state = apply(self.state, decisions)
            self.known.append(item)

    def split(self, customer_id: str, identifiers: Iterable[str]) -> Split:
        done = split(self.state, self.known, self.rules, customer_id=customer_id,
                     identifiers=identifiers, new_customer_id=f"split-{next(self._splits)}",
                     reason="test")
        self.state = apply(self.state, done.decisions)
        self.rules = replace(self.rules, never_merge=(*self.rules.never_merge, done.fact))
        return done


def assert_state_matches(state: CurrentIdentity, batch: Resolution) -> None:
    """Same partition of non-shared identifiers and of touchpoints, same shared identifiers."""
    held = {p.identifiers for p in state.profiles.values() if p.identifiers}
    assert held == set(batch.clusters)
    assert set(state.attribution) == set(batch.attribution)
    for touchpoint_id, cluster in batch.attribution.items():
        customer = state.attribution[touchpoint_id]
        assert state.profiles[customer].identifiers == batch.clusters[cluster], touchpoint_id
    assert set(state.shared) == set(batch.shared)


def assert_consistent(service: Service) -> None:
    """Evidence seen before yields no decisions: nothing is left for later touchpoints."""
    for item in service.known:
        assert decide(service.state, item, service.known, service.rules, lambda: "never") == ()


@st.composite
def split_requests(draw: st.DrawFn, state: CurrentIdentity) -> tuple[str, frozenset[str]]:
    """A live profile with two identifiers or more, and some (not all) of them."""
    splittable = sorted(cid for cid, p in state.profiles.items() if len(p.identifiers) > 1)
    customer_id = draw(st.sampled_from(splittable))
    held = sorted(state.profiles[customer_id].identifiers)
    moved = draw(st.sets(st.sampled_from(held), min_size=1, max_size=len(held) - 1))
    return customer_id, frozenset(moved)


def try_split(service: Service, data: st.DataObject) -> Split | None:
    """Split some profile if one can be split; a refusal must be what resolve says."""
    if not any(len(p.identifiers) > 1 for p in service.state.profiles.values()):
        event("no profile to split")
        return None
    customer_id, moved = data.draw(split_requests(service.state), label="split")
    try:
        done = service.split(customer_id, moved)
    except NotSeparable:
        event("refused: not separable")
        kept = service.state.profiles[customer_id].identifiers - moved
        fact = NeverMerge(moved, kept, "test")
        with_fact = replace(service.rules, never_merge=(*service.rules.never_merge, fact))
        assert not {moved, kept} <= set(resolve(service.known, with_fact).clusters)
        return None
    event("split")
    return done


def split_somewhere(world: World, data: st.DataObject) -> tuple[Service, Split | None]:
    """Resolve some arrivals, then split some profile if one can be split."""
    service = Service(world.rules)
    service.receive(world.arrivals[:data.draw(st.integers(1, len(world.arrivals)))])
    return service, try_split(service, data)


@PROPERTY
@given(worlds(), st.data())
def test_a_split_leaves_the_state_that_resolve_gives_under_its_never_merge_fact(
    world: World, data: st.DataObject,
) -> None:
    service, done = split_somewhere(world, data)

    if done is not None:
        assert_state_matches(service.state, resolve(service.known, service.rules))
        assert service.state.profiles[done.new_customer_id].identifiers == done.identifiers
        assert_consistent(service)


@PROPERTY
@given(worlds(), st.data())
def test_after_splits_incremental_resolution_equals_batch_resolution_with_their_facts(
    world: World, data: st.DataObject,
) -> None:
    service, resolved = Service(world.rules), 0
    cuts = data.draw(st.lists(st.integers(1, len(world.arrivals)), min_size=1, max_size=2))
    for cut in sorted(cuts):
        service.receive(world.arrivals[resolved:cut])
        resolved = cut
        try_split(service, data)

    service.receive(world.arrivals[resolved:])

    batch = resolve(world.arrivals, service.rules)
    assert_state_matches(service.state, batch)
    for fact in service.rules.never_merge:
        for cluster in batch.clusters:
            assert cluster.isdisjoint(fact.left) or cluster.isdisjoint(fact.right)


@PROPERTY
@given(worlds(), st.data())
def test_a_later_touchpoint_bridging_the_sides_is_refused_as_never_merge(
    world: World, data: st.DataObject,
) -> None:
    service, done = split_somewhere(world, data)
    if done is None:
        return
    left, right = sorted(done.fact.left), sorted(done.fact.right)
    bridge = Evidence("bridge", T0 + timedelta(minutes=data.draw(st.integers(0, 40))),
                      frozenset({data.draw(st.sampled_from(left)),
                                 data.draw(st.sampled_from(right))}))

    decisions = decide(service.state, bridge, service.known, service.rules, lambda: "new")

    if not bridge.identifiers.isdisjoint(resolve([*service.known, bridge], service.rules).shared):
        event("the bridge made an identifier shared: no reason to merge at all")
        return
    assert any(isinstance(d, MergeBlocked) and d.reason == "never_merge"
               and d.touchpoint_id == "bridge" for d in decisions)
    after = apply(service.state, decisions)
    rank = {type_: n for n, type_ in enumerate(service.rules.priority)}
    strongest = min(bridge.identifiers, key=lambda i: (rank[identifier_type(i)], i))
    assert strongest in after.profiles[after.attribution["bridge"]].identifiers


@PROPERTY
@given(worlds(), st.data())
def test_splitting_with_only_the_profiles_component_decides_as_with_all_evidence(
    world: World, data: st.DataObject,
) -> None:
    """What the service does: load the affected component of one of the profile's
    touchpoints, and the state around it."""
    service = Service(world.rules)
    service.receive(world.arrivals)
    if not any(len(p.identifiers) > 1 for p in service.state.profiles.values()):
        return
    customer_id, moved = data.draw(split_requests(service.state))
    held = service.state.profiles[customer_id].identifiers
    seed = next(e for e in service.known if not e.identifiers.isdisjoint(held))
    ids = affected_component(seed, service.known, world.rules, frozenset(service.state.shared))
    component = [e for e in service.known if e.touchpoint_id in ids]

    def attempt(state: CurrentIdentity, evidence: list[Evidence]) -> CurrentIdentity | str:
        try:
            done = split(state, evidence, world.rules, customer_id=customer_id,
                         identifiers=moved, new_customer_id="split-1", reason="test")
        except NotSeparable as refused:
            return str(refused)
        return apply(service.state, done.decisions)

    assert attempt(restrict(service.state, component), component) == attempt(
        service.state, service.known)
