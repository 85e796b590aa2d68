"""Identifiers, evidence and rules: the values identity resolution works on."""

from datetime import UTC, datetime

import pytest

from crm_profile.domain.identity import (
    DEFAULT_LIMITS,
    DEFAULT_PRIORITY,
    Evidence,
    IdentityRules,
    NeverMerge,
    identifier_type,
    make_identifier,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_an_identifier_is_written_type_colon_value() -> None:
    identifier = make_identifier("email", "ada@example.com")

    assert identifier == "email:ada@example.com"
    assert identifier_type(identifier) == "email"


def test_a_value_may_itself_contain_colons() -> None:
    identifier = make_identifier("anonymous_id", "urn:uuid:1")

    assert identifier_type(identifier) == "anonymous_id"


@pytest.mark.parametrize("type_", ["", "e:mail"])
def test_an_identifier_type_must_be_non_empty_and_colon_free(type_: str) -> None:
    with pytest.raises(ValueError, match="identifier type"):
        make_identifier(type_, "x")


def test_the_default_rules_are_the_documented_ones() -> None:
    rules = IdentityRules()

    assert dict(rules.limits) == {
        "customer_number": 1, "loyalty_id": 2, "email": 5, "phone": 5, "anonymous_id": 50,
    }
    assert rules.limits == DEFAULT_LIMITS
    assert rules.priority == DEFAULT_PRIORITY == (
        "customer_number", "loyalty_id", "email", "phone", "anonymous_id",
    )
    assert rules.blocked == frozenset()
    assert rules.never_merge == ()


def test_evidence_is_self_asserted_unless_verified() -> None:
    evidence = Evidence("tp-1", NOW, frozenset({"email:ada@example.com"}))

    assert evidence.assurance == "self_asserted"
    assert Evidence("tp-1", NOW, frozenset(), "verified").assurance == "verified"


def test_evidence_rejects_an_unknown_assurance_level() -> None:
    with pytest.raises(ValueError, match="assurance"):
        Evidence("tp-1", NOW, frozenset(), "probably")


@pytest.mark.parametrize(("left", "right"), [
    (frozenset(), frozenset({"email:a@x.test"})),
    (frozenset({"email:a@x.test"}), frozenset({"email:a@x.test", "phone:+1"})),
])
def test_a_never_merge_pair_has_two_non_empty_disjoint_sides(
    left: frozenset[str], right: frozenset[str]
) -> None:
    with pytest.raises(ValueError, match="never-merge"):
        NeverMerge(left, right, "split by agent-7")
