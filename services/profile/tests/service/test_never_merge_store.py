"""Never-merge facts in Postgres: recorded, found by identifier or by customer, turned into
the rules of a chunk, and scrubbed of an erased person's identifiers."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_profile.adapters.never_merge_store import NeverMergeStore, RecordedSplit
from crm_profile.domain.erasure import Erased
from crm_profile.domain.identity import Evidence, IdentityRules, NeverMerge

ADA = frozenset({"customer_number:C-ADA", "email:ada@example.com"})
GRACE = frozenset({"email:grace@example.com"})
LIN = frozenset({"email:lin@example.com"})
MAX = frozenset({"email:max@example.com"})


def recorded(split_id: str, moved: frozenset[str], kept: frozenset[str]) -> RecordedSplit:
    return RecordedSplit(split_id, f"from-{split_id}", f"into-{split_id}",
                         NeverMerge(moved, kept, f"reason {split_id}"), "key-1")


async def test_facts_are_found_by_either_side_and_by_either_customer(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        store = NeverMergeStore(conn)
        await store.record(recorded("s1", GRACE, ADA))
        await store.record(recorded("s2", MAX, LIN))

        by_moved = await store.touching(["email:grace@example.com", "phone:+1555"])
        by_kept = await store.touching(["customer_number:C-ADA"])
        by_new_customer = await store.of_customers(["into-s2"])
        nothing = await store.touching([])

    assert [s.split_id for s in by_moved] == [s.split_id for s in by_kept] == ["s1"]
    assert by_moved[0].fact == NeverMerge(GRACE, ADA, "reason s1")
    assert by_moved[0].requested_by == "key-1"
    assert isinstance(by_moved[0].split_at, datetime)
    assert [s.split_id for s in by_new_customer] == ["s2"]
    assert nothing == []


async def test_a_chunk_obeys_the_configured_rules_and_the_facts_about_its_evidence(
    engine: AsyncEngine,
) -> None:
    configured = IdentityRules(blocked=frozenset({"phone:+18005550000"}))
    seen = Evidence("tp", datetime(2026, 6, 1, tzinfo=UTC),
                    frozenset({"email:ada@example.com", "anonymous_id:x"}))
    async with engine.begin() as conn:
        store = NeverMergeStore(conn)
        untouched = await store.rules_for(configured, [seen])
        await store.record(recorded("s1", GRACE, ADA))
        await store.record(recorded("s2", MAX, LIN))
        rules = await store.rules_for(configured, [seen])

    assert untouched is configured
    assert rules.blocked == configured.blocked
    assert rules.never_merge == (NeverMerge(GRACE, ADA, "reason s1"),)


async def test_scrubbing_an_erasure_leaves_tokens_in_place_of_the_identifiers(
    engine: AsyncEngine,
) -> None:
    erased = Erased.of(["into-s1"], GRACE, [], b"test-key")
    token = erased.identifier("email:grace@example.com")
    async with engine.begin() as conn:
        store = NeverMergeStore(conn)
        await store.record(RecordedSplit("s1", "from-s1", "into-s1", NeverMerge(
            GRACE, ADA, "grace@example.com used the laptop"), "key-1"))
        await store.record(recorded("s2", MAX, LIN))

        changed = await store.scrub(erased)
        [after] = await store.of_customers(["into-s1"])
        [other] = await store.of_customers(["into-s2"])

    assert changed == 1
    assert after.fact.left == {token} and after.fact.right == ADA
    assert "grace@example.com" not in after.fact.reason
    assert other.fact == NeverMerge(MAX, LIN, "reason s2"), "another person's fact stays"
