"""The profile service resolves every touchpoint it consumes into profiles, and says why."""

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from profile_world import attributed, owners, send, shared, touchpoint
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import Channel
from crm_devstack.testing import eventually
from crm_profile.settings import ProfileSettings
from crm_servicekit.apikeys import ApiKeyStore


async def test_a_call_and_a_web_visit_sharing_an_email_become_one_profile(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine, reader_key: str,
) -> None:
    call = touchpoint("phone:+14155552671", "email:ada@example.com",
                      channel=Channel.CHANNEL_CALL_CENTER)
    visit = touchpoint("email:ada@example.com", "anonymous_id:web-7f3a", minute=5)
    await send(producer, settings.touchpoints_topic, call, visit)

    await eventually(lambda: _count(attributed(engine), 2))
    who = await attributed(engine)
    assert who[call.event_id] == who[visit.event_id]
    customer = who[call.event_id]
    assert set(await owners(engine)) == {
        "phone:+14155552671", "email:ada@example.com", "anonymous_id:web-7f3a"}

    reply = await client.get(f"/v1/profiles/{customer}/identity",
                             headers={"Authorization": f"Bearer {reader_key}"})
    assert reply.status_code == 200, reply.text
    linked = [h["details"] for h in reply.json()["history"] if h["what"] == "identifier_linked"]
    assert {d["identifier"]["value"] for d in linked} == {
        "+14155552671", "ada@example.com", "web-7f3a"}
    phone = next(d for d in linked if d["identifier"]["value"] == "+14155552671")
    assert phone["assurance"] == "ASSURANCE_VERIFIED"
    assert phone["source_event_id"] == call.event_id
    # Whichever of the two came second (either may) brought one identifier to the
    # profile the first made; that link travels inside its attribution: no event of its own.
    assert sorted(d["rule"] for d in linked) == ["new_profile", "new_profile", "seen_together"]
    await _published_attributions(engine, 2)
    assert await _events_of_type(engine, "IdentifierLinked") == 0


async def test_a_touchpoint_bridging_two_profiles_merges_them_and_the_old_id_redirects(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine, reader_key: str,
) -> None:
    first = touchpoint("email:grace@example.com")
    second = touchpoint("phone:+442071838750", minute=1)
    await send(producer, settings.touchpoints_topic, first, second)
    await eventually(lambda: _count(attributed(engine), 2))
    before = await attributed(engine)
    assert before[first.event_id] != before[second.event_id]

    bridge = touchpoint("email:grace@example.com", "phone:+442071838750", minute=2)
    await send(producer, settings.touchpoints_topic, bridge)
    await eventually(lambda: _count(attributed(engine), 3))

    after = await attributed(engine)
    assert len(set(after.values())) == 1
    survivor = after[bridge.event_id]
    assert survivor == before[first.event_id], "the older profile survives"
    reply = await client.get(f"/v1/profiles/{before[second.event_id]}/identity",
                             headers={"Authorization": f"Bearer {reader_key}"})
    assert reply.json()["merged_into"] == survivor
    assert any(h["what"] == "merged" for h in reply.json()["history"])


@pytest.mark.usefixtures("client")
async def test_a_household_phone_seen_with_two_customer_numbers_never_merges_them(
    producer: AIOKafkaProducer, settings: ProfileSettings, engine: AsyncEngine,
) -> None:
    await send(producer, settings.touchpoints_topic,
               touchpoint("customer_number:C-1", "phone:+14155550000"),
               touchpoint("customer_number:C-2", "phone:+14155550000", minute=1))
    await eventually(lambda: _count(attributed(engine), 2))

    who = await owners(engine)
    assert who["customer_number:C-1"] != who["customer_number:C-2"]
    assert "phone:+14155550000" in await shared(engine)


@pytest.mark.usefixtures("client")
async def test_late_evidence_that_a_phone_is_shared_undoes_the_merge_it_caused(
    producer: AIOKafkaProducer, settings: ProfileSettings, engine: AsyncEngine,
) -> None:
    topic = settings.touchpoints_topic
    await send(producer, topic, touchpoint("email:one@example.com", "phone:+14155559999"),
               touchpoint("email:two@example.com", "phone:+14155559999", minute=1))
    await eventually(lambda: _count(attributed(engine), 2))
    merged = await owners(engine)
    assert merged["email:one@example.com"] == merged["email:two@example.com"]

    await send(producer, topic,
               touchpoint("customer_number:A", "phone:+14155559999", minute=2),
               touchpoint("customer_number:B", "phone:+14155559999", minute=3))
    await eventually(lambda: _count(attributed(engine), 4))

    final = await owners(engine)
    assert final["email:one@example.com"] != final["email:two@example.com"]
    assert "phone:+14155559999" in await shared(engine)
    async with engine.connect() as conn:
        undone = (await conn.execute(text(
            "SELECT count(*) FROM events WHERE event_type IN"
            " ('crm.profiles.v1.ProfileUnmerged', 'crm.profiles.v1.IdentifierUnlinked')"
        ))).scalar_one()
    assert undone > 0, "the wrong merge is undone by events that say why"


@pytest.mark.usefixtures("client")
async def test_a_touchpoint_delivered_again_changes_nothing(
    producer: AIOKafkaProducer, settings: ProfileSettings, engine: AsyncEngine,
) -> None:
    visit = touchpoint("email:lin@example.com", "anonymous_id:web-91c2")
    await send(producer, settings.touchpoints_topic, visit)
    await eventually(lambda: _count(attributed(engine), 1))

    # The same message again (a producer retry, a consumer restarting before its offset
    # commit), then another touchpoint: once that one is resolved, the repeat was read.
    later = touchpoint("email:lin@example.com", minute=1)
    await send(producer, settings.touchpoints_topic, visit, later)
    await eventually(lambda: _count(attributed(engine), 2))

    await _published_attributions(engine, 2)
    async with engine.connect() as conn:
        identity = (await conn.execute(text(
            "SELECT event_type, payload FROM events WHERE event_type IN"
            " ('crm.profiles.v1.ProfileCreated', 'crm.profiles.v1.IdentifierLinked')"
        ))).all()
    [(event_type, payload)] = identity  # one new profile; its links travel inside it
    created = wire.ProfileCreated.FromString(payload)
    assert event_type == "crm.profiles.v1.ProfileCreated"
    assert sorted(link.identifier.value for link in created.links) == [
        "lin@example.com", "web-91c2"]


async def _count(mapping: object, expected: int) -> bool:
    return len(await mapping) >= expected  # type: ignore[misc]


async def _published_attributions(engine: AsyncEngine, expected: int) -> None:
    async with engine.connect() as conn:
        count = (await conn.execute(text(
            "SELECT count(*) FROM events WHERE event_type = 'crm.profiles.v1.TouchpointAttributed'"
            " AND topic = 'crm.profiles.v1'"))).scalar_one()
    assert count == expected


async def _events_of_type(engine: AsyncEngine, name: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM events WHERE event_type = :t"),
                                       {"t": f"crm.profiles.v1.{name}"})).scalar_one())


async def _trait_events_caused_by(engine: AsyncEngine, *touchpoint_ids: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(
            "SELECT count(*) FROM events WHERE event_type = 'crm.profiles.v1.TraitObserved'"
            " AND causation_id = ANY(CAST(:ids AS text[]))"), {"ids": list(touchpoint_ids)}
        )).scalar_one())


async def test_traits_from_touchpoints_and_the_back_office_resolve_by_event_time(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine, reader_key: str,
) -> None:
    visit = touchpoint("email:lin@example.com", minute=30)
    visit.traits["city"] = "Paris"
    late_call = touchpoint("email:lin@example.com", minute=10, channel=Channel.CHANNEL_CALL_CENTER)
    late_call.traits["city"] = "Lyon"
    await send(producer, settings.touchpoints_topic, visit, late_call)
    await eventually(lambda: _count(attributed(engine), 2))
    customer = (await attributed(engine))[visit.event_id]
    _, writer = await ApiKeyStore(engine).create("back-office", ["profiles:write"])

    read = await client.get(f"/v1/profiles/{customer}",
                            headers={"Authorization": f"Bearer {reader_key}"})
    edited = await client.patch(
        f"/v1/profiles/{customer}/traits", headers={"Authorization": f"Bearer {writer}"},
        json={"traits": {"city": "Nantes"}, "occurred_at": "2026-06-02T00:00:00Z"})
    bad = await client.patch(f"/v1/profiles/{customer}/traits",
                             headers={"Authorization": f"Bearer {writer}"},
                             json={"traits": {"City!": "x"}})

    assert read.json()["traits"]["city"]["value"] == "Paris", "the later web visit wins"
    assert read.json()["traits"]["city"]["source"] == "web"
    assert await _trait_events_caused_by(engine, visit.event_id, late_call.event_id) == 0, (
        "a touchpoint's traits travel in its attribution, not as events of their own")
    assert edited.status_code == 200, edited.text
    assert edited.json()["traits"]["city"] == {
        "value": "Nantes", "source": "back_office", "occurred_at": "2026-06-02T00:00:00+00:00"}
    assert bad.status_code == 422
