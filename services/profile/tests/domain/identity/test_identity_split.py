"""Splitting a profile: what moves, the never-merge fact it records, and what it refuses."""

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crm_profile.domain.identity import (
    CurrentIdentity,
    Decision,
    Evidence,
    IdentifierLinked,
    IdentifierMarkedShared,
    IdentifiersNotInProfile,
    IdentifiersShared,
    IdentifierUnlinked,
    IdentityRules,
    MergeBlocked,
    NeverMerge,
    NothingToMove,
    NothingWouldRemain,
    NotSeparable,
    ProfileCreated,
    ProfileMergedAway,
    Split,
    TouchpointAttributed,
    UnknownProfile,
    apply,
    decide,
    resolve,
    split,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ADA, GRACE, LIN = "customer_number:C-ada", "customer_number:C-grace", "customer_number:C-lin"
ADA_MAIL, GRACE_MAIL = "email:ada@example.com", "email:grace@example.com"
GRACE_BROWSER = "anonymous_id:g-1"
HOME_PHONE = "phone:+15550100"


def seen(touchpoint_id: str, minute: int, *identifiers: str) -> Evidence:
    return Evidence(touchpoint_id, T0 + timedelta(minutes=minute), frozenset(identifiers))


class Service:
    """Identity resolution in miniature, with splits that add never-merge facts."""

    def __init__(self) -> None:
        self.rules, self.state, self.known = IdentityRules(), CurrentIdentity(), list[Evidence]()
        counter = itertools.count(1)
        self.new_customer_id = lambda: f"cust-{next(counter)}"

    def receive(self, *evidence: Evidence) -> tuple[Decision, ...]:
        decisions: tuple[Decision, ...] = ()
        for item in evidence:
            decisions = decide(self.state, item, self.known, self.rules, self.new_customer_id)
            self.state = apply(self.state, decisions)
            self.known.append(item)
        return decisions

    def split(self, customer_id: str, *identifiers: str) -> Split:
        done = split(self.state, self.known, self.rules, customer_id=customer_id,
                     identifiers=identifiers, new_customer_id="split-1", reason="two people")
        self.state = apply(self.state, done.decisions)
        self.rules = replace(self.rules, never_merge=(*self.rules.never_merge, done.fact))
        return done

    def customer_of(self, identifier: str) -> str:
        [customer] = [p.customer_id for p in self.state.profiles.values()
                      if identifier in p.identifiers]
        return customer


def wrongly_merged() -> Service:
    """Ada's profile took Grace's browser (a shared laptop), then Grace's email with it."""
    service = Service()
    service.receive(seen("ada-shops", 1, ADA, ADA_MAIL),
                    seen("shared-laptop", 2, ADA_MAIL, GRACE_BROWSER),
                    seen("grace-browses", 3, GRACE_MAIL, GRACE_BROWSER))
    assert service.state.profiles["cust-1"].identifiers == {
        ADA, ADA_MAIL, GRACE_BROWSER, GRACE_MAIL}
    return service


def test_a_split_moves_the_chosen_identifiers_and_their_touchpoints_to_a_new_profile() -> None:
    service = wrongly_merged()

    done = service.split("cust-1", GRACE_MAIL, GRACE_BROWSER)

    assert done.decisions == (
        IdentifierUnlinked("cust-1", GRACE_BROWSER, "split"),
        IdentifierUnlinked("cust-1", GRACE_MAIL, "split"),
        ProfileCreated("split-1", frozenset({GRACE_BROWSER, GRACE_MAIL})),
        IdentifierLinked("split-1", GRACE_BROWSER, "shared-laptop", "split", "self_asserted"),
        IdentifierLinked("split-1", GRACE_MAIL, "grace-browses", "split", "self_asserted"),
        TouchpointAttributed("split-1", "grace-browses"),
        MergeBlocked(("cust-1", "split-1"), "shared-laptop", "never_merge"),
    )
    assert done.fact == NeverMerge(frozenset({GRACE_MAIL, GRACE_BROWSER}),
                                   frozenset({ADA, ADA_MAIL}), "two people")
    assert done.touchpoints == ("grace-browses",)
    assert service.state.profiles["cust-1"].identifiers == {ADA, ADA_MAIL}
    assert service.state.attribution == {
        "ada-shops": "cust-1", "shared-laptop": "cust-1", "grace-browses": "split-1"}


def test_the_state_after_a_split_is_what_resolve_gives_under_the_never_merge_fact() -> None:
    service = wrongly_merged()

    service.split("cust-1", GRACE_MAIL, GRACE_BROWSER)

    batch = resolve(service.known, service.rules)
    assert {p.identifiers for p in service.state.profiles.values()} == set(batch.clusters)
    for item in service.known:
        assert decide(service.state, item, service.known, service.rules, lambda: "never") == (
        ), "a consistent state: evidence seen before adds nothing"


def test_a_later_touchpoint_bridging_both_sides_is_refused_and_goes_to_its_strongest_identifier(
) -> None:
    service = wrongly_merged()
    service.split("cust-1", GRACE_MAIL, GRACE_BROWSER)

    decisions = service.receive(seen("bridge", 9, GRACE_MAIL, ADA_MAIL, "phone:+15550199"))

    assert MergeBlocked(("cust-1", "split-1"), "bridge", "never_merge") in decisions
    assert TouchpointAttributed("cust-1", "bridge") in decisions, "email:ada sorts first"
    assert service.customer_of(GRACE_MAIL) == "split-1"
    assert service.customer_of("phone:+15550199") == "cust-1"


def test_an_identifier_new_on_one_side_keeps_the_never_merge_fact() -> None:
    service = wrongly_merged()
    service.split("cust-1", GRACE_MAIL, GRACE_BROWSER)
    service.receive(seen("grace-calls", 9, GRACE_MAIL, "phone:+15550123"))

    decisions = service.receive(seen("ada-calls", 10, ADA, "phone:+15550123"))

    assert MergeBlocked(("cust-1", "split-1"), "ada-calls", "never_merge") in decisions
    assert service.customer_of("phone:+15550123") == "split-1"


def test_a_touchpoint_with_only_a_shared_identifier_follows_its_anchor_to_the_new_profile(
) -> None:
    service = Service()
    service.receive(seen("grace-calls", 1, GRACE_MAIL, HOME_PHONE),
                    seen("ada-calls", 2, ADA, HOME_PHONE),
                    seen("lin-calls", 3, LIN, HOME_PHONE),  # now the phone is shared
                    seen("someone-calls", 4, HOME_PHONE),
                    seen("typo", 5, ADA, GRACE_MAIL))  # the wrong merge
    ada = service.customer_of(ADA)
    assert service.state.attribution["someone-calls"] == ada

    done = service.split(ada, GRACE_MAIL)

    assert set(done.touchpoints) == {"grace-calls", "someone-calls"}
    marked = [d for d in done.decisions if isinstance(d, IdentifierMarkedShared)]
    assert [set(d.customer_ids) for d in marked] == [{ada, service.customer_of(LIN), "split-1"}]


def test_a_split_that_would_strand_identifiers_is_refused_with_the_groups_it_would_make() -> None:
    service = Service()
    service.receive(seen("a", 1, "email:a@example.com", HOME_PHONE),
                    seen("b", 2, "email:b@example.com", HOME_PHONE))

    with pytest.raises(NotSeparable) as refused:
        service.split("cust-1", HOME_PHONE)

    assert set(refused.value.groups) == {
        frozenset({"email:a@example.com"}), frozenset({"email:b@example.com"}),
        frozenset({HOME_PHONE})}


def test_a_split_whose_moved_part_would_join_another_profile_is_refused() -> None:
    service = Service()
    service.receive(seen("ada-shops", 1, ADA, ADA_MAIL),
                    seen("ada-browses", 2, ADA_MAIL, GRACE_BROWSER),
                    seen("grace-shops", 3, GRACE, GRACE_MAIL),
                    seen("grace-browses", 4, GRACE_MAIL, GRACE_BROWSER))  # refused: limit
    assert service.customer_of(GRACE_BROWSER) == service.customer_of(ADA)

    with pytest.raises(NotSeparable) as refused:
        service.split(service.customer_of(ADA), GRACE_BROWSER)

    assert frozenset({GRACE, GRACE_MAIL, GRACE_BROWSER}) in refused.value.groups


@pytest.mark.parametrize(("customer_id", "identifiers", "refusal"), [
    ("nobody", [GRACE_MAIL], UnknownProfile),
    ("cust-1", [], NothingToMove),
    ("cust-1", ["email:lin@example.com"], IdentifiersNotInProfile),
    ("cust-1", [ADA, ADA_MAIL, GRACE_MAIL, GRACE_BROWSER], NothingWouldRemain),
])
def test_a_split_is_refused_when_the_request_makes_no_sense(
    customer_id: str, identifiers: list[str], refusal: type[Exception],
) -> None:
    service = wrongly_merged()

    with pytest.raises(refusal):
        service.split(customer_id, *identifiers)


def test_a_shared_identifier_cannot_move() -> None:
    service = Service()
    service.receive(seen("ada-calls", 1, ADA, ADA_MAIL, HOME_PHONE),
                    seen("grace-calls", 2, GRACE, HOME_PHONE))

    with pytest.raises(IdentifiersShared) as refused:
        service.split(service.customer_of(ADA), HOME_PHONE)

    assert refused.value.identifiers == {HOME_PHONE}


def test_a_merged_away_profile_points_to_its_survivor() -> None:
    service = Service()
    service.receive(seen("web", 1, GRACE_BROWSER, GRACE_MAIL), seen("store", 2, GRACE),
                    seen("login", 3, GRACE, GRACE_BROWSER))

    with pytest.raises(ProfileMergedAway) as refused:
        service.split("cust-2", GRACE)

    assert refused.value.survivor_id == "cust-1"
