"""Splitting a profile over HTTP: a dry run writes nothing; a split moves identifiers and
touchpoints to a new profile, says why on both, publishes it, and holds against later
touchpoints that bridge the two people."""

from collections.abc import Awaitable, Callable

import httpx
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from profile_world import attributed, owners, published, send, touchpoint
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import Channel, TouchpointRecorded
from crm_devstack.testing import eventually
from crm_profile.settings import ProfileSettings
from crm_servicekit.apikeys import ApiKeyStore

ADA, ADA_MAIL = "customer_number:C-ADA", "email:ada@example.com"
GRACE_MAIL, GRACE_BROWSER = "email:grace@example.com", "anonymous_id:web-grace"
SPLIT_GRACE = {"identifiers": [{"type": "email", "value": " Grace@Example.COM "},
                               {"type": "anonymous_id", "value": "web-grace"}],
               "reason": "Grace used Ada's laptop"}


async def _writer(engine: AsyncEngine) -> tuple[str, dict[str, str]]:
    key, plaintext = await ApiKeyStore(engine).create("back-office",
                                                      ["profiles:write", "profiles:read"])
    return key.key_id, {"Authorization": f"Bearer {plaintext}"}


async def _resolved(engine: AsyncEngine, *touchpoints: TouchpointRecorded) -> dict[str, str]:
    """Wait until every touchpoint is attributed; touchpoint id -> customer id."""
    async def done() -> bool:
        return {tp.event_id for tp in touchpoints} <= set(await attributed(engine))

    await eventually(done)
    return await attributed(engine)


async def _published(settings: ProfileSettings, customers: set[str],
                     ready: Callable[[list[Message]], bool]) -> list[Message]:
    """The events on crm.profiles.v1 keyed by ``customers`` (the topic is shared by the
    whole session), once ``ready`` says they are all there."""
    found: list[Message] = []

    async def arrived() -> bool:
        found[:] = [m for r, m in await published(settings)
                    if m is not None and r.key is not None and r.key.decode() in customers]
        return ready(found)

    await eventually(arrived)
    return found


async def _rows(engine: AsyncEngine, query: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(query))).scalar_one())


def _of(kind: type, events: list[Message]) -> list[Message]:
    return [e for e in events if isinstance(e, kind)]


async def _wrongly_merged(producer: AIOKafkaProducer, settings: ProfileSettings,
                          engine: AsyncEngine) -> tuple[str, dict[str, TouchpointRecorded]]:
    """Ada called; Grace browsed on Ada's laptop while Ada was logged in, then signed up
    there: one profile holds both people."""
    calls = touchpoint(ADA, ADA_MAIL, channel=Channel.CHANNEL_CALL_CENTER)
    calls.traits["first_name"] = "Ada"
    laptop = touchpoint(ADA_MAIL, GRACE_BROWSER, minute=5)
    signs_up = touchpoint(GRACE_MAIL, GRACE_BROWSER, minute=10)
    signs_up.traits["first_name"] = "Grace"
    await send(producer, settings.touchpoints_topic, calls, laptop, signs_up)
    who = await _resolved(engine, calls, laptop, signs_up)
    assert len(set(who.values())) == 1
    return who[calls.event_id], {"calls": calls, "laptop": laptop, "signs_up": signs_up}


async def test_a_dry_run_shows_what_would_move_and_writes_nothing(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    ada, tps = await _wrongly_merged(producer, settings, engine)
    _, writer = await _writer(engine)
    events_before = await _rows(engine, "SELECT count(*) FROM events")
    owners_before = await owners(engine)

    preview = await client.post(f"/v1/profiles/{ada}/split", headers=writer,
                                json=SPLIT_GRACE | {"dry_run": True})

    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "dry_run": True, "customer_id": ada, "new_customer_id": None, "split_event_id": None,
        "reason": "Grace used Ada's laptop",
        "identifiers": [{"type": "anonymous_id", "value": "web-grace"},
                        {"type": "email", "value": "grace@example.com"}],
        "remaining_identifiers": [{"type": "customer_number", "value": "C-ADA"},
                                  {"type": "email", "value": "ada@example.com"}],
        "touchpoints": [tps["signs_up"].event_id],
    }
    assert await _rows(engine, "SELECT count(*) FROM events") == events_before
    assert await _rows(engine, "SELECT count(*) FROM identity_never_merge") == 0
    assert await owners(engine) == owners_before


async def test_a_split_moves_identifiers_and_touchpoints_to_a_new_profile_and_publishes_it(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    ada, tps = await _wrongly_merged(producer, settings, engine)
    key_id, writer = await _writer(engine)

    reply = await client.post(f"/v1/profiles/{ada}/split", headers=writer, json=SPLIT_GRACE)

    assert reply.status_code == 201, reply.text
    grace = reply.json()["new_customer_id"]
    assert reply.headers["location"] == f"/v1/profiles/{grace}"
    assert reply.json()["touchpoints"] == [tps["signs_up"].event_id]
    who = await owners(engine)
    assert (who[ADA], who[ADA_MAIL]) == (ada, ada)
    assert (who[GRACE_MAIL], who[GRACE_BROWSER]) == (grace, grace)
    assert await attributed(engine) == {tps["calls"].event_id: ada,
                                        tps["laptop"].event_id: ada,
                                        tps["signs_up"].event_id: grace}
    read_grace = await client.get(f"/v1/profiles/{grace}", headers=writer)
    read_ada = await client.get(f"/v1/profiles/{ada}", headers=writer)
    assert {i["value"] for i in read_grace.json()["identifiers"]} == {
        "grace@example.com", "web-grace"}
    assert read_grace.json()["traits"]["first_name"]["value"] == "Grace"
    assert {i["value"] for i in read_ada.json()["identifiers"]} == {"C-ADA", "ada@example.com"}
    assert read_ada.json()["traits"]["first_name"]["value"] == "Ada", (
        "what the moved touchpoint said left with it")

    def complete(found: list[Message]) -> bool:
        kinds = [type(e) for e in found if getattr(e, "customer_id", "") == grace]
        return (wire.ProfileSplit in map(type, found) and wire.MergeBlocked in map(type, found)
                and len(_of(wire.IdentifierUnlinked, found)) == 2
                and wire.ProfileCreated in kinds
                and wire.TouchpointAttributed in kinds)

    events = await _published(settings, {ada, grace}, complete)
    [announced] = _of(wire.ProfileSplit, events)
    assert (announced.customer_id, announced.new_customer_id) == (ada, grace)
    assert {i.value for i in announced.identifiers} == {"grace@example.com", "web-grace"}
    assert (announced.reason, announced.requested_by) == ("Grace used Ada's laptop", key_id)
    assert {(e.customer_id, e.identifier.value, e.reason)
            for e in _of(wire.IdentifierUnlinked, events)} == {
        (ada, "grace@example.com", "split"), (ada, "web-grace", "split")}
    [created] = [e for e in _of(wire.ProfileCreated, events) if e.customer_id == grace]
    assert {(e.customer_id, e.identifier.value, e.rule) for e in created.links} == {
        (grace, "grace@example.com", "split"), (grace, "web-grace", "split")}
    assert not [e for e in _of(wire.IdentifierLinked, events) if e.customer_id == grace]
    assert [(e.customer_id, e.touchpoint.event_id)
            for e in _of(wire.TouchpointAttributed, events) if e.customer_id == grace] == [
        (grace, tps["signs_up"].event_id)]
    assert [(tuple(e.customer_ids), e.bridging_event_id, e.reason)
            for e in _of(wire.MergeBlocked, events)] == [
        ((ada, grace), tps["laptop"].event_id, "never_merge")]


async def test_the_identity_of_both_profiles_explains_the_split(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    ada, _ = await _wrongly_merged(producer, settings, engine)
    _, writer = await _writer(engine)
    split = (await client.post(f"/v1/profiles/{ada}/split", headers=writer,
                               json=SPLIT_GRACE)).json()
    grace, split_id = split["new_customer_id"], split["split_event_id"]

    of_ada = (await client.get(f"/v1/profiles/{ada}/identity", headers=writer)).json()
    of_grace = (await client.get(f"/v1/profiles/{grace}/identity", headers=writer)).json()

    for explained in (of_ada, of_grace):
        [entry] = [h for h in explained["history"] if h["what"] == "split"]
        assert entry["event_id"] == split_id
        assert entry["details"]["new_customer_id"] == grace
        assert entry["details"]["reason"] == "Grace used Ada's laptop"
        [fact] = explained["never_merge"]
        assert (fact["split_event_id"], fact["customer_id"], fact["new_customer_id"]) == (
            split_id, ada, grace)
        assert [i["value"] for i in fact["moved"]] == ["web-grace", "grace@example.com"]
        assert [i["value"] for i in fact["kept"]] == ["C-ADA", "ada@example.com"]
    assert {h["details"]["identifier"]["value"] for h in of_ada["history"]
            if h["what"] == "identifier_unlinked" and h["details"]["reason"] == "split"} == {
        "grace@example.com", "web-grace"}
    [created] = [h for h in of_grace["history"] if h["what"] == "created"]
    assert created["details"]["source_event_id"] == split_id
    assert {h["details"]["rule"] for h in of_grace["history"]
            if h["what"] == "identifier_linked"} == {"split"}


async def test_a_later_touchpoint_bridging_the_split_people_does_not_merge_them_again(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    ada, _ = await _wrongly_merged(producer, settings, engine)
    _, writer = await _writer(engine)
    grace = (await client.post(f"/v1/profiles/{ada}/split", headers=writer,
                               json=SPLIT_GRACE)).json()["new_customer_id"]

    bridge = touchpoint(GRACE_MAIL, ADA, "phone:+14155550142", minute=30)
    await send(producer, settings.touchpoints_topic, bridge)
    who = await _resolved(engine, bridge)

    assert who[bridge.event_id] == ada, "the customer number is its strongest identifier"
    now = await owners(engine)
    assert (now[GRACE_MAIL], now[GRACE_BROWSER]) == (grace, grace)
    assert (now[ADA], now["phone:+14155550142"]) == (ada, ada)
    blocked = await _published(settings, {ada}, lambda found: any(
        isinstance(e, wire.MergeBlocked) and e.bridging_event_id == bridge.event_id
        for e in found))
    assert [(tuple(e.customer_ids), e.reason) for e in _of(wire.MergeBlocked, blocked)
            if e.bridging_event_id == bridge.event_id] == [((ada, grace), "never_merge")]
    explained = (await client.get(f"/v1/profiles/{ada}/identity", headers=writer)).json()
    assert [h["details"]["reason"] for h in explained["history"] if h["what"] == "merge_blocked"
            and h["details"]["bridging_event_id"] == bridge.event_id] == ["never_merge"]


async def _in_turn(calls: list[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    return [await call for call in calls]


async def test_bad_split_requests_are_refused_with_named_problems(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine, reader_key: str,
) -> None:
    household = "phone:+14155550123"
    one = touchpoint("customer_number:C-1", "email:one@example.com", household)
    two = touchpoint("customer_number:C-2", household, minute=1)  # the phone is now shared
    via_a = touchpoint("email:a@example.com", "anonymous_id:x", minute=2)
    via_b = touchpoint("email:b@example.com", "anonymous_id:x", minute=3)
    older = touchpoint("email:m@example.com", minute=4)
    younger = touchpoint("phone:+14155550999", minute=5)
    await send(producer, settings.touchpoints_topic, one, two, via_a, via_b, older, younger)
    who = await _resolved(engine, one, two, via_a, via_b, older, younger)
    c1, ab = who[one.event_id], who[via_a.event_id]
    await send(producer, settings.touchpoints_topic,
               touchpoint("email:m@example.com", "phone:+14155550999", minute=6))
    await eventually(lambda: _merged(engine))
    merged_away, survivor = await _merge(engine)
    _, writer = await _writer(engine)

    def post(customer_id: str, body: dict[str, object],
             headers: dict[str, str] = writer) -> Awaitable[httpx.Response]:
        return client.post(f"/v1/profiles/{customer_id}/split", headers=headers,
                           json={"reason": "testing"} | body)

    def ids(*typed: tuple[str, str]) -> dict[str, object]:
        return {"identifiers": [{"type": t, "value": v} for t, v in typed]}

    [unknown, foreign, everything, shared, stranding, away, invalid, empty, no_scope,
     no_key] = await _in_turn([
        post("nobody", ids(("email", "one@example.com"))),
        post(c1, ids(("email", "a@example.com"))),
        post(c1, ids(("email", "one@example.com"), ("customer_number", "C-1"))),
        post(c1, ids(("phone", "(415) 555-0123"))),
        post(ab, ids(("anonymous_id", "x"))),
        post(merged_away, ids(("phone", "+14155550999"))),
        post(c1, ids(("email", "not an email"))),
        post(c1, {"identifiers": []}),
        post(c1, ids(("email", "one@example.com")),
             headers={"Authorization": f"Bearer {reader_key}"}),
        post(c1, ids(("email", "one@example.com")), headers={}),
    ])

    assert (unknown.status_code, unknown.json()["type"]) == (
        404, "urn:crm:problem:profile-not-found")
    assert (foreign.status_code, foreign.json()["type"]) == (
        422, "urn:crm:problem:identifiers-not-in-profile")
    assert foreign.json()["errors"][0]["field"] == "identifiers[0].value"
    assert (everything.status_code, everything.json()["type"]) == (
        422, "urn:crm:problem:nothing-would-remain")
    assert (shared.status_code, shared.json()["type"]) == (
        422, "urn:crm:problem:identifiers-shared"), "a national number is normalised first"
    assert (stranding.status_code, stranding.json()["type"]) == (
        422, "urn:crm:problem:split-not-separable")
    assert sorted(len(g) for g in stranding.json()["groups"]) == [1, 1, 1]
    assert (away.status_code, away.json()["type"], away.json()["survivor_id"]) == (
        409, "urn:crm:problem:profile-merged-away", survivor)
    assert (invalid.status_code, invalid.json()["type"]) == (
        422, "urn:crm:problem:invalid-identifier")
    assert invalid.json()["errors"][0]["field"] == "identifiers[0].value"
    assert (empty.status_code, empty.json()["type"]) == (422, "urn:crm:problem:validation-error")
    assert (no_scope.status_code, no_scope.json()["required_scope"]) == (403, "profiles:write")
    assert no_key.status_code == 401
    assert await _rows(engine, "SELECT count(*) FROM identity_never_merge") == 0


async def test_an_erased_profile_cannot_be_split(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    ada, _ = await _wrongly_merged(producer, settings, engine)
    _, writer = await _writer(engine)
    _, eraser = await ApiKeyStore(engine).create("dpo", ["profiles:erase"])
    erased = await client.post(f"/v1/profiles/{ada}/erase",
                               headers={"Authorization": f"Bearer {eraser}"})
    assert erased.status_code == 202, erased.text

    reply = await client.post(f"/v1/profiles/{ada}/split", headers=writer, json=SPLIT_GRACE)

    assert (reply.status_code, reply.json()["type"]) == (410, "urn:crm:problem:profile-erased")


async def _merged(engine: AsyncEngine) -> bool:
    return await _rows(engine, "SELECT count(*) FROM identity_profiles"
                               " WHERE merged_into IS NOT NULL") > 0


async def _merge(engine: AsyncEngine) -> tuple[str, str]:
    """The merged-away id and its survivor (which is which depends on arrival order)."""
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT customer_id, merged_into FROM identity_profiles"
                                       " WHERE merged_into IS NOT NULL"))).one()
    return str(row.customer_id), str(row.merged_into)


async def test_after_a_split_each_profile_shows_only_what_its_own_touchpoints_said(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    customer, _ = await _wrongly_merged(producer, settings, engine)
    _, writer = await _writer(engine)
    before = (await client.get(f"/v1/profiles/{customer}", headers=writer)).json()

    split = await client.post(f"/v1/profiles/{customer}/split", headers=writer, json=SPLIT_GRACE)

    assert split.status_code == 201, split.text
    assert before["traits"]["first_name"]["value"] == "Grace", "the later touchpoint won"
    ada = (await client.get(f"/v1/profiles/{customer}", headers=writer)).json()
    grace = (await client.get(f"/v1/profiles/{split.json()['new_customer_id']}",
                              headers=writer)).json()
    assert ada["traits"]["first_name"]["value"] == "Ada"
    assert grace["traits"]["first_name"]["value"] == "Grace"
