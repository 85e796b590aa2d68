"""The identity tables read by identifier: each touchpoint carrying any identifier asked
about, once, the state around evidence read in two parts as in one, and identifiers
that an array literal would quote passing through unchanged."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from crm_profile.adapters.identity_store import IdentityStore
from crm_profile.domain.identity import (
    CurrentIdentity,
    Evidence,
    MergeBlocked,
    MergedAway,
    Profile,
)

AT = datetime(2026, 6, 1, tzinfo=UTC)


def seen(touchpoint_id: str, *identifiers: str) -> Evidence:
    return Evidence(touchpoint_id, AT, frozenset(identifiers))


ADA_WEB = seen("tp-ada-web", "email:ada@example.com", "anonymous_id:w1")
ADA_CALL = seen("tp-ada-call", "email:ada@example.com", "phone:+15550001")
GRACE = seen("tp-grace", "email:grace@example.com", "phone:+15550002")
LIN = seen("tp-lin", "email:lin@example.com", "phone:+15550001")
STRANGER = seen("tp-stranger", "email:someone@example.com")

# Ada's profile took in an older one; Grace's is apart; a merge of the two was refused
# (recorded on Grace's touchpoint); Ada's phone was seen with someone else.
STATE = CurrentIdentity(
    profiles={
        "ada": Profile("ada", ADA_WEB.identifiers | ADA_CALL.identifiers, 1),
        "grace": Profile("grace", GRACE.identifiers, 3),
        "lin": Profile("lin", LIN.identifiers, 4),
    },
    attribution={"tp-ada-web": "ada-old", "tp-ada-call": "ada", "tp-grace": "grace",
                 "tp-lin": "lin"},
    shared={"phone:+15550001": frozenset({"ada", "lin"})},
    merged_away={"ada-old": MergedAway(Profile("ada-old", frozenset({"anonymous_id:w1"}), 2),
                                       "ada")},
    blocked=frozenset({MergeBlocked(("ada", "grace"), "tp-grace", "too many phones")}),
)


async def stored(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        store = IdentityStore(conn)
        await store.lock()
        await store.save_evidence({e: b"" for e in (ADA_WEB, ADA_CALL, GRACE, LIN, STRANGER)})
        await store.save(CurrentIdentity(), STATE)


async def test_each_touchpoint_carrying_an_identifier_asked_about_comes_once(
    engine: AsyncEngine,
) -> None:
    await stored(engine)
    asked = ["email:ada@example.com", "anonymous_id:w1", "phone:+15550002", "email:nobody"]
    async with engine.begin() as conn:
        store = IdentityStore(conn)
        await store.lock()
        found, shared = await store.evidence_with(asked, [])
        without_known, _ = await store.evidence_with(asked, ["tp-ada-web"])
        around = await store.evidence_around(["anonymous_id:w1"], frozenset())

    assert sorted(e.touchpoint_id for e in found) == ["tp-ada-call", "tp-ada-web", "tp-grace"]
    assert set(found) == {ADA_WEB, ADA_CALL, GRACE}
    assert shared == frozenset({"phone:+15550001"})
    assert sorted(e.touchpoint_id for e in without_known) == ["tp-ada-call", "tp-grace"]
    # The walk stops at the shared phone: Lin, seen with it, is not reached.
    assert {e.touchpoint_id for e in around.evidence} == {"tp-ada-web", "tp-ada-call"}
    assert around.shared == frozenset({"phone:+15550001"})


async def test_the_state_read_in_two_parts_is_the_state_read_at_once(
    engine: AsyncEngine,
) -> None:
    await stored(engine)
    first, more = [ADA_WEB], [ADA_CALL, GRACE, STRANGER]
    async with engine.begin() as conn:
        store = IdentityStore(conn)
        await store.lock()
        whole = await store.state_for([*first, *more])
        part = await store.state_for(first)
        in_two = await store.state_with(part, first, more)

    assert in_two == whole
    assert part != whole  # the second part did add something
    assert set(whole.profiles) == {"ada", "grace", "lin"}  # Lin holds the shared phone
    assert whole.merged_away["ada-old"].into == "ada"
    assert whole.attribution == {"tp-ada-web": "ada-old", "tp-ada-call": "ada",
                                 "tp-grace": "grace"}
    assert whole.shared == {"phone:+15550001": frozenset({"ada", "lin"})}
    assert whole.blocked == STATE.blocked


async def test_identifiers_with_quotes_commas_and_braces_come_back_as_they_went(
    engine: AsyncEngine,
) -> None:
    # Lists of identifiers travel as one text split by the statement (_packed): whatever
    # an array literal would have to quote must come back unchanged.
    odd = seen("tp-odd", 'anonymous_id:a,"b"', "anonymous_id:{c} d\\e", "email:ü@example.com")
    profile = Profile("odd", odd.identifiers, 7)  # new to the store: it numbers it
    async with engine.begin() as conn:
        store = IdentityStore(conn)
        await store.lock()
        await store.save_evidence({odd: b"tp"})
        await store.save(CurrentIdentity(), CurrentIdentity(
            profiles={"odd": profile}, attribution={"tp-odd": "odd"}))
    async with engine.begin() as conn:
        store = IdentityStore(conn)
        await store.lock()
        found, _ = await store.evidence_with(['anonymous_id:a,"b"'], [])
        state = await store.state_for([odd])
        covering = await store.covering([seen("tp-new", "anonymous_id:{c} d\\e")])
        look = await store.first_look(["tp-odd", "tp-new"], [], [odd])

    assert found == [odd]
    assert state.profiles["odd"].identifiers == odd.identifiers
    assert state.attribution == {"tp-odd": "odd"}
    assert covering == {"tp-new": odd}
    assert look.seen == frozenset({"tp-odd"})
    assert look.covering == {"tp-odd": odd}
