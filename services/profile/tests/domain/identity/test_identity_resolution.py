"""Batch resolution: the rules of docs/identity.md, one specification per test."""

import random
from datetime import UTC, datetime, timedelta

from crm_profile.domain.identity import (
    BlockedMerge,
    Evidence,
    IdentityRules,
    NeverMerge,
    Resolution,
    resolve,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RULES = IdentityRules()
ADA, GRACE = "customer_number:C-ada", "customer_number:C-grace"
ADA_MAIL, GRACE_MAIL = "email:ada@example.com", "email:grace@example.com"
HOME_PHONE = "phone:+15550100"
CALL_CENTER = "phone:+18005550000"


def seen(touchpoint_id: str, minute: int, *identifiers: str) -> Evidence:
    return Evidence(touchpoint_id, T0 + timedelta(minutes=minute), frozenset(identifiers))


def clusters_of(resolution: Resolution) -> set[frozenset[str]]:
    return set(resolution.clusters)


def test_touchpoints_sharing_an_identifier_resolve_to_one_person() -> None:
    resolution = resolve([
        seen("web", 1, "anonymous_id:a-1", ADA_MAIL),
        seen("store", 2, ADA_MAIL, ADA),
    ], RULES)

    assert clusters_of(resolution) == {frozenset({"anonymous_id:a-1", ADA_MAIL, ADA})}
    assert resolution.attribution == {"web": 0, "store": 0}
    assert resolution.blocked_merges == ()


def test_a_household_phone_seen_with_two_customer_numbers_never_merges_them() -> None:
    resolution = resolve([
        seen("call-ada", 1, ADA, HOME_PHONE),
        seen("call-grace", 2, GRACE, HOME_PHONE),
    ], RULES)

    assert clusters_of(resolution) == {frozenset({ADA}), frozenset({GRACE})}
    assert resolution.cluster_of(HOME_PHONE) is None
    assert resolution.shared == {HOME_PHONE: frozenset({0, 1})}
    assert resolution.shared_reasons == {HOME_PHONE: "seen_with_many:customer_number"}


def test_an_email_seen_with_more_phones_than_one_person_holds_is_shared() -> None:
    shop = "email:orders@shop.example"
    evidence = [seen(f"order-{n}", n, shop, f"phone:+1555020{n}") for n in range(6)]

    resolution = resolve(evidence, RULES)

    assert resolution.shared_reasons == {shop: "seen_with_many:phone"}
    assert len(resolution.clusters) == 6


def test_a_merge_that_would_exceed_a_limit_is_blocked_with_the_reason() -> None:
    resolution = resolve([
        seen("ada-signs-up", 1, ADA, ADA_MAIL),
        seen("grace-signs-up", 2, GRACE, "anonymous_id:g-1"),
        seen("shared-laptop", 3, ADA_MAIL, "anonymous_id:g-1"),
    ], RULES)

    assert clusters_of(resolution) == {
        frozenset({ADA, ADA_MAIL}), frozenset({GRACE, "anonymous_id:g-1"})}
    assert resolution.blocked_merges == (
        BlockedMerge("shared-laptop", (0, 1), "limit:customer_number"),)


def test_a_touchpoint_goes_to_its_strongest_identifier_when_its_merge_is_blocked() -> None:
    resolution = resolve([
        seen("ada", 1, ADA, ADA_MAIL),
        seen("grace", 2, GRACE, "anonymous_id:g-1"),
        seen("bridge", 3, "anonymous_id:g-1", ADA_MAIL),
    ], RULES)

    assert resolution.attribution["bridge"] == resolution.cluster_of(ADA_MAIL)


def test_a_blocked_value_never_links() -> None:
    rules = IdentityRules(blocked=frozenset({CALL_CENTER}))

    resolution = resolve([
        seen("ada-calls", 1, ADA, CALL_CENTER),
        seen("grace-calls", 2, GRACE_MAIL, CALL_CENTER),
        seen("robocall", 3, CALL_CENTER),
    ], rules)

    assert clusters_of(resolution) == {frozenset({ADA}), frozenset({GRACE_MAIL})}
    assert CALL_CENTER not in resolution.shared
    assert "robocall" not in resolution.attribution


def test_a_never_merge_pair_keeps_its_sides_apart_even_in_one_touchpoint() -> None:
    split = NeverMerge(frozenset({ADA_MAIL}), frozenset({GRACE_MAIL}), "split by agent-7")
    rules = IdentityRules(never_merge=(split,))

    resolution = resolve([
        seen("form", 1, ADA_MAIL, GRACE_MAIL, "anonymous_id:a-1"),
        seen("login", 2, GRACE_MAIL, "anonymous_id:a-2"),
    ], rules)

    assert clusters_of(resolution) == {
        frozenset({ADA_MAIL, "anonymous_id:a-1"}), frozenset({GRACE_MAIL, "anonymous_id:a-2"})}
    assert resolution.blocked_merges == (BlockedMerge("form", (0, 1), "never_merge"),)


def test_a_touchpoint_with_only_shared_identifiers_goes_where_its_strongest_was_first_seen(
) -> None:
    resolution = resolve([
        seen("grace-calls", 1, GRACE, HOME_PHONE),
        seen("ada-calls", 2, ADA, HOME_PHONE),
        seen("someone-calls", 3, HOME_PHONE),
    ], RULES)

    assert resolution.attribution["someone-calls"] == resolution.cluster_of(GRACE)


def test_clusters_are_numbered_by_their_first_touchpoint_then_strength() -> None:
    resolution = resolve([
        seen("late", 5, "anonymous_id:z"),
        seen("early", 1, GRACE_MAIL, ADA),
    ], IdentityRules(never_merge=(NeverMerge(frozenset({ADA}), frozenset({GRACE_MAIL}), "x"),)))

    assert resolution.clusters == (
        frozenset({ADA}), frozenset({GRACE_MAIL}), frozenset({"anonymous_id:z"}))


def test_arrival_order_and_duplicates_change_nothing() -> None:
    evidence = [
        seen("a", 1, ADA, HOME_PHONE), seen("b", 1, GRACE, HOME_PHONE),
        seen("c", 2, ADA_MAIL, ADA), seen("d", 3, HOME_PHONE), seen("e", 4, GRACE_MAIL, GRACE),
    ]
    shuffled = evidence * 2
    random.Random(4).shuffle(shuffled)

    assert resolve(shuffled, RULES) == resolve(evidence, RULES)


def test_two_versions_of_one_touchpoint_resolve_the_same_in_any_order() -> None:
    first, second = seen("tp", 1, ADA, ADA_MAIL), seen("tp", 1, ADA, GRACE_MAIL)

    assert resolve([first, second], RULES) == resolve([second, first], RULES)


def test_identifiers_known_to_be_shared_do_not_bridge() -> None:
    resolution = resolve([
        seen("ada-calls", 1, ADA, HOME_PHONE), seen("grace-calls", 2, GRACE_MAIL, HOME_PHONE),
    ], RULES, shared=frozenset({HOME_PHONE}))

    assert clusters_of(resolution) == {frozenset({ADA}), frozenset({GRACE_MAIL})}
    assert resolution.shared_reasons == {HOME_PHONE: "known_shared"}


def test_an_unseen_identifier_is_in_no_cluster() -> None:
    assert resolve([seen("a", 1, ADA)], RULES).cluster_of(GRACE) is None
