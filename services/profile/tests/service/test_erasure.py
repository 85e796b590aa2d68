"""Erasure end to end in the profile service: state, history, suppression, receipts."""

from collections.abc import Callable
from typing import TypeVar

import httpx
from aiokafka import AIOKafkaProducer
from profile_world import attributed, published, send, touchpoint
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.profiles.v1 import profiles_pb2 as wire
from crm.touchpoints.v1.touchpoints_pb2 import Channel, ConsentProperties
from crm_devstack.testing import eventually, tables_quoting
from crm_messaging.topics import ERASURES, PROFILES
from crm_profile.settings import ProfileSettings
from crm_servicekit.apikeys import ApiKeyStore

EMAIL, PHONE, WEB = "zebulonia.q@example.com", "+14155550199", "web-zq-77"
NAMES = ("Zebulonia", "Quaxworth")
OTHER_EMAIL = "otto.other@example.com"
T = TypeVar("T")


async def _key(engine: AsyncEngine, *scopes: str) -> dict[str, str]:
    _, plaintext = await ApiKeyStore(engine).create("erasure-test", list(scopes))
    return {"Authorization": f"Bearer {plaintext}"}


async def _person(producer: AIOKafkaProducer, settings: ProfileSettings,
                  engine: AsyncEngine) -> tuple[str, list[str]]:
    """Two profiles of one person merged by a call, plus someone else."""
    visit = touchpoint(f"anonymous_id:{WEB}")
    mail = touchpoint(f"email:{EMAIL}", f"phone:{PHONE}", minute=1)
    other = touchpoint(f"email:{OTHER_EMAIL}", minute=2)
    # One after the other, so that the visit's profile is the older one: the merge below
    # then keeps the mail's profile as merged away, with the email and phone it held.
    await send(producer, settings.touchpoints_topic, visit)
    await eventually(lambda: _attributed_count(engine, 1))
    await send(producer, settings.touchpoints_topic, mail, other)
    await eventually(lambda: _attributed_count(engine, 3))
    call = touchpoint(f"email:{EMAIL}", f"anonymous_id:{WEB}", minute=3,
                      channel=Channel.CHANNEL_CALL_CENTER)
    call.traits.update({"first_name": NAMES[0], "last_name": NAMES[1], "city": "Oslo"})
    await send(producer, settings.touchpoints_topic, call)
    await eventually(lambda: _attributed_count(engine, 4))
    who = await attributed(engine)
    assert who[visit.event_id] == who[mail.event_id] == who[call.event_id] != who[other.event_id]
    return who[call.event_id], [visit.event_id, mail.event_id, call.event_id]


async def test_erasure_removes_the_person_from_state_and_history_and_leaves_a_receipt(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    customer, touchpoints = await _person(producer, settings, engine)
    eraser = await _key(engine, "profiles:erase", "profiles:read")

    reply = await client.post(f"/v1/profiles/{customer}/erase", headers=eraser)
    again = await client.post(f"/v1/profiles/{customer}/erase", headers=eraser)

    assert reply.status_code == 202, reply.text
    receipt = reply.json()
    assert (again.status_code, again.json()["receipt_id"]) == (200, receipt["receipt_id"])
    assert reply.headers["location"] == f"/v1/erasures/{receipt['receipt_id']}"
    assert receipt["customer_id"] == customer and len(receipt["erased_ids"]) == 2
    assert receipt["profile_service"]["identifiers_suppressed"] == 3
    assert receipt["profile_service"]["touchpoints_erased"] == 3
    assert receipt["profile_service"]["events_redacted"] > 0
    assert not any(value in reply.text for value in (EMAIL, PHONE, WEB, *NAMES))
    assert await tables_quoting(engine, settings.db_schema,
                                [EMAIL, PHONE, WEB, *NAMES, "Oslo"]) == {}
    # The search does find what is still there: the other person's email.
    assert "events" in await tables_quoting(engine, settings.db_schema, [OTHER_EMAIL])

    gone = await client.get(f"/v1/profiles/{customer}", headers=eraser)
    assert gone.status_code == 410
    assert gone.json()["receipt_id"] == receipt["receipt_id"]
    notices = await _profile_events(settings, wire.TouchpointsErased,
                                    lambda m: m.customer_id == customer, ERASURES.name)
    assert [sorted(m.touchpoint_event_ids) for m in notices] == [sorted(touchpoints)]
    assert [m.receipt_id for m in notices] == [receipt["receipt_id"]]
    erased = await _profile_events(settings, wire.ProfileErased,
                                   lambda m: m.customer_id == customer)
    assert [m.receipt_id for m in erased] == [receipt["receipt_id"]]
    # The notices for services that keep touchpoints are on crm.erasures.v1 only.
    assert not [m for _, m in await published(settings)
                if isinstance(m, wire.TouchpointsErased) and m.customer_id == customer]


async def test_an_erased_identifier_is_suppressed_until_the_person_consents_again(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    customer, _ = await _person(producer, settings, engine)
    eraser = await _key(engine, "profiles:erase")
    receipt = (await client.post(f"/v1/profiles/{customer}/erase", headers=eraser)).json()

    comeback = touchpoint(f"email:{EMAIL}", "anonymous_id:web-new", minute=10)
    await send(producer, settings.touchpoints_topic, comeback)
    suppressed = await _profile_events(settings, wire.TouchpointSuppressed,
                                       lambda m: m.touchpoint_event_id == comeback.event_id,
                                       ERASURES.name)
    assert [m.receipt_id for m in suppressed] == [receipt["receipt_id"]]
    assert comeback.event_id not in await attributed(engine)
    report = (await client.get(f"/v1/erasures/{receipt['receipt_id']}", headers=eraser)).json()
    assert report["touchpoints_dropped_since"] == 1
    assert await tables_quoting(engine, settings.db_schema, [EMAIL, "web-new"]) == {}

    consent = touchpoint(f"email:{EMAIL}", minute=11)
    consent.type = "consent"
    consent.consent.CopyFrom(ConsentProperties(channel="email", purpose="marketing",
                                               granted=True))
    await send(producer, settings.touchpoints_topic, consent)
    await eventually(lambda: _has(engine, consent.event_id))
    assert (await attributed(engine))[consent.event_id] != customer
    lifted = await _profile_events(settings, wire.SuppressionLifted,
                                   lambda m: m.evidence_event_id == consent.event_id,
                                   ERASURES.name)
    assert [m.receipt_id for m in lifted] == [receipt["receipt_id"]]


async def test_erasure_needs_its_scope_and_an_existing_profile(
    client: httpx.AsyncClient, engine: AsyncEngine,
) -> None:
    reader = await _key(engine, "profiles:read", "profiles:write")
    eraser = await _key(engine, "profiles:erase")

    forbidden = await client.post("/v1/profiles/nobody/erase", headers=reader)
    missing = await client.post("/v1/profiles/nobody/erase", headers=eraser)
    no_receipt = await client.get("/v1/erasures/nothing", headers=eraser)

    assert forbidden.status_code == 403
    assert (missing.status_code, missing.json()["type"]) == (
        404, "urn:crm:problem:profile-not-found")
    assert (no_receipt.status_code, no_receipt.json()["type"]) == (
        404, "urn:crm:problem:receipt-not-found")


async def _attributed_count(engine: AsyncEngine, n: int) -> bool:
    return len(await attributed(engine)) >= n


async def _has(engine: AsyncEngine, touchpoint_id: str) -> bool:
    return touchpoint_id in await attributed(engine)


async def _profile_events(settings: ProfileSettings, kind: type[T],
                          where: Callable[[T], bool], topic: str = PROFILES.name) -> list[T]:
    """Events of ``kind`` on ``topic`` that satisfy ``where`` (the topic is shared by every
    test of the session); waits for at least one."""
    found: list[T] = []

    async def some() -> bool:
        found[:] = [m for _, m in await published(settings, topic)
                    if isinstance(m, kind) and where(m)]
        return bool(found)

    await eventually(some)
    return found


async def test_erasing_a_split_profile_scrubs_its_side_of_the_never_merge_fact(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    customer, _ = await _person(producer, settings, engine)
    keys = await _key(engine, "profiles:erase", "profiles:write", "profiles:read")
    split = await client.post(f"/v1/profiles/{customer}/split", headers=keys, json={
        "identifiers": [{"type": "phone", "value": PHONE}], "reason": "a colleague's phone"})
    assert split.status_code == 201, split.text

    erased = await client.post(f"/v1/profiles/{customer}/erase", headers=keys)

    assert erased.status_code == 202, erased.text
    assert await tables_quoting(engine, settings.db_schema, [EMAIL, WEB, *NAMES]) == {}
    assert "identity_never_merge" in await tables_quoting(engine, settings.db_schema, [PHONE])
    # The phone went with the split: it is someone else's, and stays theirs.
    kept = await client.get(f"/v1/profiles/{split.json()['new_customer_id']}", headers=keys)
    assert kept.status_code == 200, kept.text
    assert {"type": "phone", "value": PHONE} in kept.json()["identifiers"]
