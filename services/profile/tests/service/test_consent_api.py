"""Consent recorded through the API: evidence kept, event time decides, bad input named;
back-office edits take their turn with identity resolution."""

import asyncio

import httpx
from aiokafka import AIOKafkaProducer
from profile_world import attributed, published, send, touchpoint
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.profiles.v1 import profiles_pb2 as wire
from crm_devstack.testing import eventually
from crm_eventstore import EventStore
from crm_profile.adapters.identity_store import IdentityStore
from crm_profile.settings import ProfileSettings
from crm_servicekit.apikeys import ApiKeyStore


async def _customer(producer: AIOKafkaProducer, settings: ProfileSettings,
                    engine: AsyncEngine, email: str) -> str:
    visit = touchpoint(f"email:{email}")
    await send(producer, settings.touchpoints_topic, visit)

    async def resolved() -> bool:
        return visit.event_id in await attributed(engine)

    await eventually(resolved)
    return (await attributed(engine))[visit.event_id]


async def _writer(engine: AsyncEngine) -> tuple[str, dict[str, str]]:
    key, plaintext = await ApiKeyStore(engine).create("back-office", ["profiles:write"])
    return key.key_id, {"Authorization": f"Bearer {plaintext}"}


async def test_a_consent_recorded_through_the_api_keeps_its_evidence_and_event_time_decides(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    customer = await _customer(producer, settings, engine, "consent.api@example.com")
    key_id, writer = await _writer(engine)
    url = f"/v1/profiles/{customer}/consent"
    grant = {"channel": "email", "purpose": "marketing", "state": "granted",
             "evidence": "signed form, ticket 4711", "occurred_at": "2026-06-05T10:00:00Z"}

    granted = await client.put(url, headers=writer, json=grant)
    older_denial = await client.put(url, headers=writer, json=grant | {
        "state": "denied", "evidence": "old letter", "occurred_at": "2026-06-01T10:00:00Z"})
    newer_denial = await client.put(url, headers=writer, json=grant | {
        "state": "denied", "evidence": "unsubscribed by phone", "occurred_at":
        "2026-06-06T10:00:00Z"})

    assert granted.status_code == 200, granted.text
    [state] = granted.json()["consent"]
    assert (state["state"], state["evidence"]) == ("granted", "signed form, ticket 4711")
    assert state["evidence_event_id"]
    assert older_denial.json()["consent"][0]["state"] == "granted", "an older denial loses"
    [latest] = newer_denial.json()["consent"]
    assert (latest["state"], latest["evidence"]) == ("denied", "unsubscribed by phone")

    async def all_announced() -> bool:
        changes = [m for _, m in await published(settings)
                   if isinstance(m, wire.ConsentChanged) and m.customer_id == customer]
        return [(m.evidence, m.recorded_by) for m in changes] == [
            ("signed form, ticket 4711", key_id), ("old letter", key_id),
            ("unsubscribed by phone", key_id)]

    await eventually(all_announced)


async def test_bad_consent_requests_are_refused_with_the_field_named(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine, reader_key: str,
) -> None:
    customer = await _customer(producer, settings, engine, "consent.bad@example.com")
    _, writer = await _writer(engine)
    url = f"/v1/profiles/{customer}/consent"
    good = {"channel": "sms", "purpose": "survey", "state": "denied", "evidence": "by phone"}
    cases = [
        (good | {"channel": "pigeon"}, "channel"),
        (good | {"purpose": "anything"}, "purpose"),
        (good | {"state": "maybe"}, "state"),
        ({k: v for k, v in good.items() if k != "evidence"}, "evidence"),
        (good | {"occurred_at": "2099-01-01T00:00:00Z"}, "occurred_at"),
        (good | {"occurred_at": "2026-06-01T10:00:00"}, "occurred_at"),
    ]
    for body, field in cases:
        reply = await client.put(url, headers=writer, json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert any(field in str(error) for error in reply.json()["errors"]), (field, reply.text)

    reader = {"Authorization": f"Bearer {reader_key}"}
    assert (await client.put(url, headers=reader, json=good)).status_code == 403
    missing = await client.put("/v1/profiles/nobody/consent", headers=writer, json=good)
    assert missing.status_code == 404


async def test_a_back_office_edit_waits_while_identity_resolution_holds_the_profile(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: ProfileSettings,
    engine: AsyncEngine,
) -> None:
    customer = await _customer(producer, settings, engine, "edit.turn@example.com")
    _, writer = await _writer(engine)

    async def waiting_on_a_lock() -> bool:
        async with engine.connect() as connection:
            waiting = await connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'"))
        return bool(waiting)

    # As the fast lane of resolution holds a returning customer's profile.
    async with EventStore(engine).transaction() as held:
        identity = IdentityStore(held.connection)
        await identity.lock(shared=True)
        await identity.lock_profiles([customer])
        edit = asyncio.create_task(client.patch(
            f"/v1/profiles/{customer}/traits", headers=writer, json={"traits": {"tier": "gold"}}))
        await eventually(waiting_on_a_lock)
        assert not edit.done(), "the edit appended while resolution held the profile"
    response = await edit
    assert response.status_code == 200, response.text
    assert response.json()["traits"]["tier"]["value"] == "gold"
