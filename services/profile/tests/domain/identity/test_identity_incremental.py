"""Incremental resolution: the decisions one new touchpoint leads to, and how they apply."""

import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from crm_profile.domain.identity import (
    CurrentIdentity,
    Decision,
    Evidence,
    IdentifierLinked,
    IdentifierMarkedShared,
    IdentifierUnlinked,
    IdentityRules,
    MergeBlocked,
    MergedAway,
    Profile,
    ProfileCreated,
    ProfilesMerged,
    ProfileUnmerged,
    TouchpointAttributed,
    TouchpointUnattributed,
    affected_component,
    apply,
    decide,
    identifiers_to_load,
    reconcile,
    resolve,
    restrict,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RULES = IdentityRules()
ADA, GRACE = "customer_number:C-ada", "customer_number:C-grace"
ADA_MAIL, GRACE_MAIL = "email:ada@example.com", "email:grace@example.com"
GRACE_BROWSER = "anonymous_id:g-1"
HOME_PHONE = "phone:+15550100"


def seen(touchpoint_id: str, minute: int, *identifiers: str, verified: bool = False) -> Evidence:
    assurance = "verified" if verified else "self_asserted"
    return Evidence(touchpoint_id, T0 + timedelta(minutes=minute), frozenset(identifiers),
                    assurance)


def numbered() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"cust-{next(counter)}"


class Service:
    """The service's loop in miniature: state, known evidence, decisions per touchpoint."""

    def __init__(self, rules: IdentityRules = RULES) -> None:
        self.rules, self.state, self.known = rules, CurrentIdentity(), list[Evidence]()
        self.new_customer_id = numbered()

    def receive(self, *evidence: Evidence) -> tuple[Decision, ...]:
        """Decide and apply each piece of evidence; the decisions of the last one."""
        decisions: tuple[Decision, ...] = ()
        for item in evidence:
            decisions = decide(self.state, item, self.known, self.rules, self.new_customer_id)
            self.state = apply(self.state, decisions)
            self.known.append(item)
        return decisions

    def customer_of(self, identifier: str) -> str:
        [customer] = [p.customer_id for p in self.state.profiles.values()
                      if identifier in p.identifiers]
        return customer


def of_type(decisions: Iterable[Decision], kind: type) -> list[Decision]:
    return [d for d in decisions if isinstance(d, kind)]


def test_a_new_person_gets_a_profile_with_each_identifier_linked_with_provenance() -> None:
    decisions = Service().receive(seen("store", 1, ADA, ADA_MAIL, verified=True))

    assert decisions == (
        ProfileCreated("cust-1", frozenset({ADA, ADA_MAIL})),
        IdentifierLinked("cust-1", ADA, "store", "new_profile", "verified"),
        IdentifierLinked("cust-1", ADA_MAIL, "store", "new_profile", "verified"),
        TouchpointAttributed("cust-1", "store"),
    )


def test_a_touchpoint_seen_with_a_profile_links_its_new_identifiers_to_it() -> None:
    service = Service()
    service.receive(seen("store", 1, ADA, ADA_MAIL))

    decisions = service.receive(seen("web", 2, ADA_MAIL, "anonymous_id:a-1"))

    assert decisions == (
        IdentifierLinked("cust-1", "anonymous_id:a-1", "web", "seen_together", "self_asserted"),
        TouchpointAttributed("cust-1", "web"),
    )


def test_a_touchpoint_bridging_two_profiles_merges_them_and_the_older_survives() -> None:
    service = Service()
    service.receive(seen("web", 1, GRACE_BROWSER, GRACE_MAIL), seen("store", 2, GRACE))

    decisions = service.receive(seen("login", 3, GRACE, GRACE_BROWSER))

    assert decisions == (
        ProfilesMerged("cust-1", "cust-2", "login", frozenset({GRACE, GRACE_BROWSER}),
                       "bridging_touchpoint"),
        TouchpointAttributed("cust-1", "login"),
    )
    assert service.state.attribution == {"web": "cust-1", "store": "cust-1", "login": "cust-1"}
    assert set(service.state.profiles) == {"cust-1"}
    assert service.state.merged_away["cust-2"].into == "cust-1"


def test_a_blocked_merge_is_recorded_once_and_the_touchpoint_goes_to_its_strongest_identifier(
) -> None:
    service = Service()
    service.receive(seen("ada", 1, ADA, ADA_MAIL), seen("grace", 2, GRACE, GRACE_BROWSER))
    bridge = seen("shared-laptop", 3, GRACE_BROWSER, ADA_MAIL)

    decisions = service.receive(bridge)

    assert decisions == (
        TouchpointAttributed("cust-1", "shared-laptop"),
        MergeBlocked(("cust-1", "cust-2"), "shared-laptop", "limit:customer_number"),
    )
    assert service.receive(bridge) == ()


def test_a_household_phone_seen_with_two_customer_numbers_is_marked_shared() -> None:
    service = Service()
    service.receive(seen("ada-calls", 1, ADA, HOME_PHONE))

    decisions = service.receive(seen("grace-calls", 2, GRACE, HOME_PHONE))

    assert of_type(decisions, IdentifierMarkedShared) == [IdentifierMarkedShared(
        HOME_PHONE, ("cust-1", "cust-2"), "seen_with_many:customer_number")]
    assert service.state.profiles["cust-1"].identifiers == {ADA}
    assert service.state.shared == {HOME_PHONE: frozenset({"cust-1", "cust-2"})}


def test_late_evidence_of_a_shared_phone_undoes_the_wrong_merge_with_a_reason() -> None:
    service = Service()
    service.receive(
        seen("ada-calls", 1, ADA, HOME_PHONE),
        seen("grace-browses", 2, GRACE_MAIL, GRACE_BROWSER),
        seen("grace-calls-from-home", 3, GRACE_MAIL, HOME_PHONE),  # the wrong merge
    )
    assert service.state.profiles["cust-1"].identifiers == {
        ADA, HOME_PHONE, GRACE_MAIL, GRACE_BROWSER}

    decisions = service.receive(seen("grace-signs-up", 4, GRACE, GRACE_MAIL, HOME_PHONE))

    why = f"shared_identifier:{HOME_PHONE}"
    assert decisions == (
        IdentifierUnlinked("cust-1", HOME_PHONE, why),
        ProfileUnmerged("cust-1", "cust-2", frozenset({GRACE_MAIL, GRACE_BROWSER}), why),
        IdentifierLinked("cust-2", GRACE, "grace-signs-up", "seen_together", "self_asserted"),
        TouchpointAttributed("cust-2", "grace-browses"),
        TouchpointAttributed("cust-2", "grace-calls-from-home"),
        TouchpointAttributed("cust-2", "grace-signs-up"),
        IdentifierMarkedShared(HOME_PHONE, ("cust-1", "cust-2"), "seen_with_many:customer_number"),
    )
    assert service.state.profiles == {
        "cust-1": Profile("cust-1", frozenset({ADA}), 0),
        "cust-2": Profile("cust-2", frozenset({GRACE, GRACE_MAIL, GRACE_BROWSER}), 1),
    }
    assert service.state.merged_away == {}


def test_a_wrongly_linked_identifier_moves_to_the_profile_it_belongs_with() -> None:
    service = Service()
    service.receive(
        seen("ada-calls", 1, ADA, HOME_PHONE),
        seen("grace-mails-from-home", 2, GRACE_MAIL, HOME_PHONE),  # the wrong link
        seen("grace-signs-up", 3, GRACE, GRACE_MAIL),  # blocked: two customer numbers
    )

    decisions = service.receive(seen("grace-calls", 4, GRACE, HOME_PHONE))

    why = f"shared_identifier:{HOME_PHONE}"
    assert of_type(decisions, IdentifierUnlinked) == [
        IdentifierUnlinked("cust-1", GRACE_MAIL, why),
        IdentifierUnlinked("cust-1", HOME_PHONE, why),
    ]
    assert IdentifierLinked("cust-2", GRACE_MAIL, "grace-mails-from-home", "reresolved",
                            "self_asserted") in decisions
    assert service.customer_of(GRACE_MAIL) == service.customer_of(GRACE) == "cust-2"


def test_a_part_split_off_that_never_had_a_profile_of_its_own_gets_a_new_one() -> None:
    service = Service()
    service.receive(seen("ada-calls", 1, ADA, HOME_PHONE),
                    seen("grace-mails-from-home", 2, GRACE_MAIL, HOME_PHONE))

    decisions = service.receive(seen("grace-calls", 3, GRACE, HOME_PHONE))

    assert ProfileCreated("cust-2", frozenset({GRACE_MAIL})) in decisions
    assert IdentifierLinked("cust-2", GRACE_MAIL, "grace-mails-from-home", "reresolved",
                            "self_asserted") in decisions
    assert TouchpointAttributed("cust-2", "grace-mails-from-home") in decisions


def test_a_touchpoint_with_only_a_shared_phone_moves_when_an_earlier_sighting_arrives() -> None:
    service = Service()
    service.receive(seen("ada-calls", 5, ADA, HOME_PHONE),
                    seen("grace-calls", 6, GRACE, HOME_PHONE),
                    seen("someone-calls", 7, HOME_PHONE))
    assert service.state.attribution["someone-calls"] == service.customer_of(ADA)

    decisions = service.receive(seen("old-call-of-lin", 1, "customer_number:C-lin", HOME_PHONE))

    lin = service.customer_of("customer_number:C-lin")
    assert TouchpointAttributed(lin, "someone-calls") in decisions


def test_a_touchpoint_whose_identifiers_all_became_shared_loses_its_attribution() -> None:
    service = Service(IdentityRules(limits={"phone": 1}))
    service.receive(seen("call", 1, HOME_PHONE))

    decisions = service.receive(seen("two-phones", 2, HOME_PHONE, "phone:+15550101",
                                     "phone:+15550102"))

    assert TouchpointUnattributed("cust-1", "call", "no_profile_seen") in decisions
    assert "call" not in service.state.attribution


def test_evidence_seen_before_yields_no_decisions() -> None:
    service = Service()
    evidence = [seen("ada-calls", 1, ADA, HOME_PHONE), seen("grace-calls", 2, GRACE, HOME_PHONE),
                seen("someone-calls", 3, HOME_PHONE)]
    service.receive(*evidence)

    for item in evidence:
        assert service.receive(item) == ()


def test_the_component_does_not_follow_an_identifier_shared_before_and_after() -> None:
    known = [seen("ada-calls", 1, ADA, HOME_PHONE), seen("grace-calls", 2, GRACE, HOME_PHONE),
             seen("ada-shops", 3, ADA, ADA_MAIL)]

    component = affected_component(seen("lin-calls", 4, "customer_number:C-lin", HOME_PHONE),
                                   known, RULES, frozenset({HOME_PHONE}))

    assert component == {"lin-calls"}


def test_the_component_follows_an_identifier_that_just_became_shared() -> None:
    known = [seen("ada-calls", 1, ADA, HOME_PHONE), seen("ada-shops", 2, ADA, ADA_MAIL),
             seen("other", 3, GRACE_MAIL)]

    component = affected_component(seen("grace-calls", 4, GRACE, HOME_PHONE), known, RULES,
                                   frozenset())

    assert component == {"grace-calls", "ada-calls", "ada-shops"}


def test_a_service_holding_part_of_the_evidence_is_told_what_to_load_next() -> None:
    new = seen("grace-calls", 4, GRACE, HOME_PHONE)
    stored = [seen("ada-calls", 1, ADA, HOME_PHONE), seen("ada-shops", 2, ADA, ADA_MAIL)]

    asked, loaded = [], frozenset[str]()
    while need := identifiers_to_load(new, [e for e in stored if e.identifiers & loaded], RULES,
                                      frozenset(), loaded):
        asked.append(need)
        loaded |= need

    assert asked == [{GRACE, HOME_PHONE}, {ADA}, {ADA_MAIL}]
    assert affected_component(new, stored, RULES, frozenset()) == {
        "grace-calls", "ada-calls", "ada-shops"}


def test_reconcile_leaves_profiles_outside_the_component_alone() -> None:
    service = Service()
    service.receive(seen("ada", 1, ADA, ADA_MAIL), seen("grace", 2, GRACE, GRACE_MAIL))
    component = [seen("grace-web", 3, GRACE_MAIL, GRACE_BROWSER),
                 seen("grace", 2, GRACE, GRACE_MAIL)]

    decisions = reconcile(service.state, resolve(component, RULES), component, numbered())

    assert {getattr(d, "customer_id", None) for d in decisions} == {"cust-2"}


def test_the_state_around_a_component_holds_only_what_it_touches() -> None:
    service = Service()
    service.receive(seen("ada", 1, ADA, ADA_MAIL), seen("grace", 2, GRACE, GRACE_MAIL))

    around = restrict(service.state, [seen("grace-web", 3, GRACE_MAIL, GRACE_BROWSER)])

    assert set(around.profiles) == {"cust-2"}
    assert around.attribution == {}


def test_merging_hands_the_merged_away_profiles_touchpoints_and_sightings_to_the_survivor(
) -> None:
    state = CurrentIdentity(
        profiles={"a": Profile("a", frozenset({ADA}), 0), "b": Profile("b", frozenset({GRACE}), 1)},
        attribution={"t1": "a", "t2": "b"},
        shared={HOME_PHONE: frozenset({"b"})},
    )

    merged = apply(state, [ProfilesMerged("a", "b", "t3", frozenset({ADA, GRACE}), "rule")])

    assert merged.profiles == {"a": Profile("a", frozenset({ADA, GRACE}), 0)}
    assert merged.attribution == {"t1": "a", "t2": "a"}
    assert merged.shared == {HOME_PHONE: frozenset({"a"})}
    assert merged.merged_away == {"b": MergedAway(Profile("b", frozenset({GRACE}), 1), "a")}


def test_an_unmerge_restores_the_profile_with_its_old_creation_order() -> None:
    state = apply(CurrentIdentity(), [
        ProfileCreated("a", frozenset({ADA})), ProfileCreated("b", frozenset({GRACE})),
        ProfilesMerged("a", "b", "t", frozenset(), "rule"), ProfileCreated("c", frozenset()),
    ])

    restored = apply(state, [ProfileUnmerged("a", "b", frozenset({GRACE}), "why")])

    assert restored.profiles["b"] == Profile("b", frozenset({GRACE}), 1)
    assert restored.profiles["a"].identifiers == {ADA}
    assert restored.profiles["c"].created_order == 2
    assert restored.merged_away == {}
