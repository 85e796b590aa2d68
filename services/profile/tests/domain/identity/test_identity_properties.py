"""Properties of identity resolution over generated small worlds.

A world: 2-5 true persons, each with a customer number, 1-3 emails, 1-2 phones and some
anonymous ids; households share a phone between persons; a call center's number turns
up on some touchpoints (blocked or not); sometimes a never-merge pair from a split and
tight limits. Touchpoints carry random subsets of one person's identifiers and arrive in
any order, with duplicates.
"""

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_profile.domain.identity import (
    DEFAULT_LIMITS,
    CurrentIdentity,
    Decision,
    Evidence,
    EvolvingIdentity,
    IdentifierMarkedShared,
    IdentifierUnlinked,
    IdentityRules,
    NeverMerge,
    ProfileUnmerged,
    Resolution,
    StateIndex,
    affected_component,
    apply,
    decide,
    holding,
    identifier_type,
    identifiers_to_load,
    reconcile,
    resolve,
    restrict,
)
from crm_profile.domain.identity.extension import extension_decisions
from crm_profile.domain.identity.incremental import decide_by_component, shortcut_decisions
from crm_profile.domain.identity.newcomer import newcomer_decisions
from crm_profile.domain.identity.returning import returning_attribution

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
CALL_CENTER = "phone:+18005550000"
TIGHT_LIMITS = {"customer_number": 1, "loyalty_id": 2, "email": 2, "phone": 1, "anonymous_id": 2}
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class World:
    evidence: tuple[Evidence, ...]  # one per touchpoint
    arrivals: tuple[Evidence, ...]  # the same, in arrival order, with duplicates
    rules: IdentityRules


def person(draw: st.DrawFn, k: int) -> list[str]:
    emails = [f"email:p{k}.{j}@example.test" for j in range(draw(st.integers(1, 3)))]
    phones = [f"phone:+1555{k}0{j}" for j in range(draw(st.integers(1, 2)))]
    anonymous = [f"anonymous_id:p{k}-{j}" for j in range(draw(st.integers(0, 3)))]
    return [f"customer_number:C{k}", *emails, *phones, *anonymous]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    people = [person(draw, k) for k in range(draw(st.integers(2, 5)))]
    pairs = st.tuples(st.integers(0, len(people) - 1), st.integers(0, len(people) - 1))
    for h, (a, b) in enumerate(draw(st.lists(pairs, max_size=2))):
        people[a].append(f"phone:+1999{h}")
        people[b].append(f"phone:+1999{h}")
    evidence = tuple(draw(touchpoint(people, n)) for n in range(draw(st.integers(1, 14))))
    return World(evidence, draw(arrivals(evidence)), draw(rules_for(people)))


def touchpoint(people: list[list[str]], n: int) -> st.SearchStrategy[Evidence]:
    return st.builds(
        lambda ids, extra, minute, assurance: Evidence(
            f"tp{n:02d}", T0 + timedelta(minutes=minute), frozenset(ids) | extra, assurance),
        st.sampled_from(people).flatmap(
            lambda own: st.sets(st.sampled_from(own), min_size=1, max_size=4)),
        st.sampled_from([frozenset(), frozenset(), frozenset(), frozenset({CALL_CENTER})]),
        st.integers(0, 20),
        st.sampled_from(["self_asserted", "verified"]),
    )


def arrivals(evidence: tuple[Evidence, ...]) -> st.SearchStrategy[tuple[Evidence, ...]]:
    repeated = st.lists(st.sampled_from(evidence), max_size=3)
    return st.tuples(st.permutations(evidence), repeated).flatmap(
        lambda both: st.permutations([*both[0], *both[1]]).map(tuple))


@st.composite
def rules_for(draw: st.DrawFn, people: list[list[str]]) -> IdentityRules:
    emails = [[i for i in p if identifier_type(i) == "email"] for p in people]
    splits = [NeverMerge(frozenset(e[:1]), frozenset(e[1:2]), "split")
              for e in emails if len(e) > 1]
    return IdentityRules(
        limits=draw(st.sampled_from([DEFAULT_LIMITS, TIGHT_LIMITS])),
        blocked=draw(st.sampled_from([frozenset(), frozenset({CALL_CENTER})])),
        never_merge=tuple(draw(st.lists(st.sampled_from(splits), max_size=1, unique=True)))
        if splits else (),
    )


def fold(
    arrivals: Iterable[Evidence], rules: IdentityRules
) -> Iterator[tuple[Evidence, tuple[Decision, ...], CurrentIdentity, CurrentIdentity]]:
    """Resolve one touchpoint at a time: (evidence, decisions, state before, state after)."""
    state, known, ids = CurrentIdentity(), list[Evidence](), itertools.count()
    for item in arrivals:
        decisions = decide(state, item, known, rules, lambda: f"cust-{next(ids)}")
        before, state = state, apply(state, decisions)
        known.append(item)
        yield item, decisions, before, state


def final_state(arrivals: Iterable[Evidence], rules: IdentityRules) -> CurrentIdentity:
    state = CurrentIdentity()
    for _, _, _, state in fold(arrivals, rules):  # noqa: B007 - the last state is the result
        pass
    return state


def assert_state_matches(state: CurrentIdentity, batch: Resolution) -> None:
    """Same partition of non-shared identifiers and of touchpoints, same shared identifiers."""
    held = {p.identifiers for p in state.profiles.values() if p.identifiers}
    assert held == set(batch.clusters)
    assert set(state.attribution) == set(batch.attribution)
    for touchpoint_id, cluster in batch.attribution.items():
        customer = state.attribution[touchpoint_id]
        assert state.profiles[customer].identifiers == batch.clusters[cluster], touchpoint_id
    assert set(state.shared) == set(batch.shared)


def clustered_as(resolution: Resolution) -> set[frozenset[str]]:
    return set(resolution.clusters)


@PROPERTY
@given(worlds())
def test_resolve_is_independent_of_arrival_order_and_duplicates(world: World) -> None:
    assert resolve(world.arrivals, world.rules) == resolve(world.evidence, world.rules)


@PROPERTY
@given(worlds())
def test_resolving_one_touchpoint_at_a_time_equals_resolving_all_at_once(world: World) -> None:
    state = final_state(world.arrivals, world.rules)

    assert_state_matches(state, resolve(world.evidence, world.rules))


@settings(max_examples=100, deadline=None)
@given(worlds())
def test_the_explicit_incremental_steps_equal_batch_resolution(world: World) -> None:
    state, known, ids = CurrentIdentity(), list[Evidence](), itertools.count()
    for item in world.arrivals:
        component_ids = affected_component(item, known, world.rules, frozenset(state.shared))
        known.append(item)
        component = [e for e in known if e.touchpoint_id in component_ids]
        target = resolve(component, world.rules, shared=frozenset(state.shared))
        state = apply(state, reconcile(state, target, component, lambda: f"c{next(ids)}"))

    assert_state_matches(state, resolve(world.evidence, world.rules))


def load_what_is_asked(
    item: Evidence, stored: list[Evidence], state: CurrentIdentity, rules: IdentityRules
) -> list[Evidence]:
    """What a service holding only a database of evidence loads for ``item``."""
    known: list[Evidence] = []
    loaded: frozenset[str] = frozenset()
    shared = frozenset(restrict(state, [item]).shared)
    while need := identifiers_to_load(item, known, rules, shared, loaded):
        loaded |= need
        known = [e for e in stored if not e.identifiers.isdisjoint(loaded)]
        shared = frozenset(restrict(state, [*known, item]).shared)
    return known


@settings(max_examples=100, deadline=None)
@given(worlds())
def test_loading_only_what_is_asked_for_decides_as_with_all_evidence(world: World) -> None:
    state, stored = CurrentIdentity(), list[Evidence]()
    for step, item in enumerate(world.arrivals):
        known = load_what_is_asked(item, stored, state, world.rules)
        around = restrict(state, [*known, item])

        def ids(step: int = step) -> Iterator[str]:
            return (f"c{step}-{n}" for n in itertools.count())

        partial = decide(around, item, known, world.rules, ids().__next__)
        decisions = decide(state, item, stored, world.rules, ids().__next__)
        assert partial == decisions
        state = apply(state, decisions)
        stored.append(item)


@PROPERTY
@given(worlds())
def test_evidence_seen_before_yields_no_decisions(world: World) -> None:
    state = final_state(world.arrivals, world.rules)

    for item in world.evidence:
        assert decide(state, item, world.evidence, world.rules, lambda: "never") == ()


@PROPERTY
@given(worlds())
def test_blocked_values_never_bridge_and_are_never_held(world: World) -> None:
    stripped = [Evidence(e.touchpoint_id, e.occurred_at, e.identifiers - world.rules.blocked,
                         e.assurance) for e in world.evidence]
    resolution = resolve(world.evidence, world.rules)

    assert resolution == resolve(stripped, world.rules)
    for blocked in world.rules.blocked:
        assert resolution.cluster_of(blocked) is None
        assert blocked not in resolution.shared


@PROPERTY
@given(worlds())
def test_every_cluster_holds_the_per_type_limits_and_no_never_merge_pair(world: World) -> None:
    for cluster in resolve(world.evidence, world.rules).clusters:
        for type_, limit in world.rules.limits.items():
            assert sum(identifier_type(i) == type_ for i in cluster) <= limit
        for pair in world.rules.never_merge:
            assert cluster.isdisjoint(pair.left) or cluster.isdisjoint(pair.right)


@PROPERTY
@given(worlds())
def test_shared_identifiers_are_in_no_cluster(world: World) -> None:
    resolution = resolve(world.evidence, world.rules)

    for identifier in resolution.shared:
        assert resolution.cluster_of(identifier) is None


@PROPERTY
@given(worlds())
def test_a_touchpoint_goes_to_its_strongest_non_shared_identifiers_cluster(world: World) -> None:
    resolution = resolve(world.evidence, world.rules)
    rank = {type_: n for n, type_ in enumerate(world.rules.priority)}

    for item in world.evidence:
        own = [i for i in item.identifiers - world.rules.blocked if i not in resolution.shared]
        if own:
            strongest = min(own, key=lambda i: (rank[identifier_type(i)], i))
            assert resolution.attribution[item.touchpoint_id] == resolution.cluster_of(strongest)


@PROPERTY
@given(worlds())
def test_an_identifier_that_becomes_shared_leaves_its_profile_with_a_reason_naming_it(
    world: World,
) -> None:
    for _, decisions, before, _ in fold(world.arrivals, world.rules):
        marked = {d.identifier for d in decisions if isinstance(d, IdentifierMarkedShared)}
        held = {i for p in before.profiles.values() for i in p.identifiers}
        unlinked = {(d.identifier, d.reason)
                    for d in decisions if isinstance(d, IdentifierUnlinked)}
        newly_shared = marked - set(before.shared)
        for identifier in newly_shared & held:
            assert (identifier, f"shared_identifier:{identifier}") in unlinked


# The late-shared case, always: a household phone joins two people before the evidence
# that it is shared (it is seen with the second customer number) arrives.

@st.composite
def late_shared_worlds(draw: st.DrawFn) -> tuple[list[Evidence], str]:
    phone = "phone:+15550100"

    def at(name: str, *identifiers: str) -> Evidence:
        minute = draw(st.integers(0, 20))
        return Evidence(name, T0 + timedelta(minutes=minute), frozenset(identifiers))

    wrong_merge = [
        at("ada-calls", "customer_number:ada", phone),
        at("grace-browses", "email:grace@example.test", "anonymous_id:g-1"),
        at("grace-calls-from-home", "email:grace@example.test", phone),
    ]
    noise = [at(f"noise-{n}", *draw(st.sets(st.sampled_from([
        "customer_number:ada", "email:ada@example.test", "email:grace@example.test",
        "anonymous_id:g-1", "anonymous_id:a-1", phone]), min_size=1, max_size=3)))
        for n in range(draw(st.integers(0, 4)))]
    proof = at("grace-signs-up-by-phone", "customer_number:grace", phone)
    return [*draw(st.permutations(wrong_merge)), *draw(st.permutations([*noise, proof]))], phone


@settings(max_examples=150, deadline=None)
@given(late_shared_worlds())
def test_late_evidence_of_a_shared_phone_always_undoes_the_wrong_merge(
    case: tuple[list[Evidence], str],
) -> None:
    arrivals, phone = case
    rules = IdentityRules()
    steps = list(fold(arrivals, rules))
    undo = [d for _, decisions, _, _ in steps for d in decisions
            if isinstance(d, IdentifierUnlinked | ProfileUnmerged)]

    assert_state_matches(steps[-1][3], resolve(arrivals, rules))
    assert any(d.reason == f"shared_identifier:{phone}" for d in undo)
    assert all(d.reason.startswith("shared_identifier:") for d in undo)


Shortcut = Callable[[CurrentIdentity, Evidence, list[Evidence], IdentityRules],
                    tuple[Decision, ...] | None]


def assert_decides_as_the_general_way(world: World, shortcut: Shortcut) -> None:
    """Whenever ``shortcut`` decides a touchpoint of ``world`` (arriving in order), it
    decides what :func:`decide_by_component` decides (a new profile is "new" in both)."""
    state, known, ids = CurrentIdentity(), list[Evidence](), itertools.count()
    for item in world.arrivals:
        decided = shortcut(state, item, known, world.rules)
        if decided is not None:
            assert decided == decide_by_component(state, item, known, world.rules,
                                                  lambda: "new")
        state = apply(state, decide_by_component(state, item, known, world.rules,
                                                 lambda: f"c{next(ids)}"))
        known.append(item)


@PROPERTY
@given(worlds())
def test_whenever_the_shortcut_applies_it_decides_what_the_general_way_decides(
    world: World,
) -> None:
    assert_decides_as_the_general_way(world, returning_attribution)


@PROPERTY
@given(worlds())
def test_whenever_the_newcomer_shortcut_applies_it_decides_what_the_general_way_decides(
    world: World,
) -> None:
    assert_decides_as_the_general_way(
        world, lambda state, item, known, rules: newcomer_decisions(state, item, known, rules,
                                                                    lambda: "new"))


@PROPERTY
@given(worlds())
def test_whenever_the_extension_shortcut_applies_it_decides_what_the_general_way_decides(
    world: World,
) -> None:
    assert_decides_as_the_general_way(world, extension_decisions)


def shortcuts_from_carrying(state: CurrentIdentity, item: Evidence, known: list[Evidence],
                            rules: IdentityRules) -> tuple[Decision, ...] | None:
    """The shortcuts as a consumer chunk tries them first (app.resolution): told only the
    evidence carrying one of the touchpoint's identifiers and the profiles holding those
    (the rest of the state whole, every refusal there is included)."""
    carrying = [e for e in known if not e.identifiers.isdisjoint(item.identifiers)]
    return shortcut_decisions(holding(state, [*carrying, item]), item, carrying, rules,
                              lambda: "new")


@PROPERTY
@given(worlds())
def test_the_shortcuts_told_only_the_evidence_carrying_its_identifiers_decide_as_the_general_way(
    world: World,
) -> None:
    assert_decides_as_the_general_way(world, shortcuts_from_carrying)


@PROPERTY
@given(worlds(), st.data())
def test_the_index_finds_what_restrict_and_holding_find_in_every_state_it_followed(
        world: World, data: st.DataObject) -> None:
    index = StateIndex(CurrentIdentity())
    for _, decisions, _, after in fold(world.arrivals, world.rules):
        state = index.apply(decisions)
        assert state == after
        component = data.draw(st.lists(st.sampled_from(world.evidence), max_size=4))
        assert index.restrict(component) == restrict(state, component)
        assert index.restrict(world.evidence) == restrict(state, world.evidence)
        assert index.holding(component) == holding(state, component)


@PROPERTY
@given(worlds())
def test_deciding_on_the_part_the_index_finds_decides_as_on_the_whole_state(
        world: World) -> None:
    whole = CurrentIdentity()
    index = StateIndex(whole)
    known: list[Evidence] = []
    ids_whole, ids_indexed = itertools.count(), itertools.count()
    for item in world.arrivals:
        on_whole = decide(whole, item, known, world.rules, lambda: f"c-{next(ids_whole)}")
        on_part = decide(index.restrict([*known, item]), item, known, world.rules,
                         lambda: f"c-{next(ids_indexed)}")
        assert on_part == on_whole
        whole, indexed = apply(whole, on_whole), index.apply(on_part)
        known.append(item)
    assert indexed == whole


def assert_evolves_in_place_as_apply(steps: list[tuple[Evidence, tuple[Decision, ...],
                                                       CurrentIdentity, CurrentIdentity]],
                                     start_at: int) -> None:
    start = steps[start_at][2] if steps else CurrentIdentity()
    untouched = CurrentIdentity(dict(start.profiles), dict(start.attribution),
                                dict(start.shared), dict(start.merged_away), start.blocked)
    evolving = EvolvingIdentity(start)
    for _, decisions, _, after in steps[start_at:]:
        assert evolving.apply(decisions) == after
    assert start == untouched  # evolved from a copy


@PROPERTY
@given(worlds(), st.data())
def test_evolving_in_place_gives_the_state_apply_gives_after_every_touchpoint(
        world: World, data: st.DataObject) -> None:
    steps = list(fold(world.arrivals, world.rules))
    assert_evolves_in_place_as_apply(steps, data.draw(st.integers(0, max(len(steps) - 1, 0))))


@settings(max_examples=100, deadline=None)
@given(late_shared_worlds(), st.data())
def test_evolving_in_place_follows_the_undoing_of_a_wrong_merge(
        case: tuple[list[Evidence], str], data: st.DataObject) -> None:
    steps = list(fold(case[0], IdentityRules()))
    assert_evolves_in_place_as_apply(steps, data.draw(st.integers(0, len(steps) - 1)))
    assert any(isinstance(d, ProfileUnmerged | IdentifierUnlinked)
               for _, decisions, _, _ in steps for d in decisions)
