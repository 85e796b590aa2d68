"""Posting touchpoints over HTTP: outcomes, idempotency, access, limits, reading back."""

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import text
from touchpoint_samples import Keys, call_event, headers, web_event

from crm_devstack.testing import service_client
from crm_eventstore import create_engine
from crm_touchpoint.bootstrap import build_app
from crm_touchpoint.settings import TouchpointSettings


async def stored_count(settings: TouchpointSettings, event_id: str) -> int:
    engine = create_engine(settings.database_url, settings.db_schema)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(
                text("SELECT count(*) FROM events WHERE event_id = :id"),
                {"id": uuid.UUID(event_id)})).scalar_one())
    finally:
        await engine.dispose()


async def test_a_valid_event_is_accepted_and_committed_before_the_202(
    client: httpx.AsyncClient, keys: Keys, settings: TouchpointSettings,
) -> None:
    event = call_event()
    reply = await client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))

    assert reply.status_code == 202, reply.text
    assert reply.json()["status"] == "accepted"
    assert reply.json()["event_id"] == event["event_id"]
    assert await stored_count(settings, event["event_id"]) == 1
    assert reply.headers["RateLimit-Remaining"].isdigit()


async def test_the_same_event_twice_is_a_duplicate_and_stored_once(
    client: httpx.AsyncClient, keys: Keys, settings: TouchpointSettings,
) -> None:
    event = call_event()
    first = await client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))
    again = await client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))

    assert (first.json()["status"], again.json()["status"]) == ("accepted", "duplicate")
    assert again.status_code == 202
    assert await stored_count(settings, event["event_id"]) == 1


async def test_the_same_event_posted_many_times_at_once_is_accepted_once(
    client: httpx.AsyncClient, keys: Keys, settings: TouchpointSettings,
) -> None:
    event = call_event()
    replies = await asyncio.gather(*(
        client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))
        for _ in range(12)))

    statuses = sorted(reply.json()["status"] for reply in replies)
    assert statuses == ["accepted"] + ["duplicate"] * 11
    assert await stored_count(settings, event["event_id"]) == 1


async def test_the_same_id_with_other_content_is_a_conflict(
    client: httpx.AsyncClient, keys: Keys,
) -> None:
    event = call_event()
    await client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))
    changed = event | {"properties": event["properties"] | {"outcome": "escalated"}}
    reply = await client.post("/v1/touchpoints", json=changed, headers=headers(keys.writer))

    assert reply.status_code == 409
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["type"] == "urn:crm:problem:event-id-conflict"
    assert reply.json()["errors"][0]["rule"] == "conflict"


async def test_a_batch_answers_each_event_in_order(
    client: httpx.AsyncClient, keys: Keys,
) -> None:
    known = call_event()
    await client.post("/v1/touchpoints", json=known, headers=headers(keys.writer))
    bad = web_event(properties={"url": "not a url"})
    batch = {"events": [web_event(), bad, known, call_event()]}

    reply = await client.post("/v1/touchpoints/batch", json=batch, headers=headers(keys.writer))

    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert [r["status"] for r in body["results"]] == [
        "accepted", "rejected", "duplicate", "accepted"]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 1)
    assert body["results"][1]["problems"][0]["field"] == "properties.url"


@pytest.mark.parametrize(("body", "status", "rule"), [
    (b"{not json", 400, None),
    (b"[]", 422, "required"),
    (b'{"events": {}}', 422, "type"),
    (b'{"events": []}', 422, "min_items"),
    (b'{"events": [], "extra": 1}', 422, "extra_forbidden"),
])
async def test_a_malformed_batch_is_refused_as_a_whole(
    client: httpx.AsyncClient, keys: Keys, body: bytes, status: int, rule: str | None,
) -> None:
    reply = await client.post("/v1/touchpoints/batch", content=body,
                              headers=headers(keys.writer) | {"content-type": "application/json"})

    assert reply.status_code == status
    assert reply.headers["content-type"] == "application/problem+json"
    if rule:
        assert reply.json()["errors"][0]["rule"] == rule


async def test_a_batch_over_a_thousand_events_or_one_mebibyte_is_refused(
    client: httpx.AsyncClient, keys: Keys,
) -> None:
    too_many = await client.post("/v1/touchpoints/batch", headers=headers(keys.writer),
                                 json={"events": [web_event() for _ in range(1_001)]})
    padding = "x" * 1_000
    too_big = await client.post("/v1/touchpoints/batch", headers=headers(keys.writer), json={
        "events": [web_event(traits={"note": padding}) for _ in range(1_000)]})

    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["rule"] == "max_items"
    assert too_big.status_code == 413


async def test_access_needs_a_key_with_the_write_scope(
    client: httpx.AsyncClient, keys: Keys,
) -> None:
    anonymous = await client.post("/v1/touchpoints", json=call_event())
    wrong_scope = await client.post("/v1/touchpoints", json=call_event(),
                                    headers=headers(keys.reader))
    bogus = await client.post("/v1/touchpoints", json=call_event(),
                              headers=headers("crm_nosuchkey1_" + "x" * 40))

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert wrong_scope.status_code == 403
    assert bogus.status_code == 401


async def test_a_key_restricted_to_the_web_cannot_post_call_center_events(
    client: httpx.AsyncClient, keys: Keys,
) -> None:
    single = await client.post("/v1/touchpoints", json=call_event(),
                               headers=headers(keys.web_only))
    web = await client.post("/v1/touchpoints", json=web_event(), headers=headers(keys.web_only))
    batch = await client.post("/v1/touchpoints/batch", headers=headers(keys.web_only),
                              json={"events": [web_event(), call_event()]})

    assert single.status_code == 403
    assert single.json()["type"] == "urn:crm:problem:channel-not-allowed"
    assert web.status_code == 202
    assert [r["status"] for r in batch.json()["results"]] == ["accepted", "rejected"]
    assert batch.json()["results"][1]["problems"][0]["rule"] == "channel_not_allowed_for_key"


async def test_a_key_over_its_rate_limit_gets_429_with_retry_after(
    settings: TouchpointSettings, keys: Keys,
) -> None:
    limited = settings.model_copy(update={
        "rate_limit_events_per_second": 1.0, "rate_limit_burst_events": 3})
    async with service_client(build_app(limited)) as client:
        replies = [await client.post("/v1/touchpoints", json=web_event(),
                                     headers=headers(keys.writer)) for _ in range(4)]

    assert [r.status_code for r in replies] == [202, 202, 202, 429]
    refused = replies[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"


async def test_support_reads_back_the_stored_event_normalised(
    client: httpx.AsyncClient, keys: Keys,
) -> None:
    event = call_event()
    await client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))

    stored = await client.get(f"/v1/touchpoints/{event['event_id']}", headers=headers(keys.reader))
    missing = await client.get(f"/v1/touchpoints/{uuid.uuid4()}", headers=headers(keys.reader))
    not_allowed = await client.get(f"/v1/touchpoints/{event['event_id']}",
                                   headers=headers(keys.nothing))

    assert stored.status_code == 200, stored.text
    identifiers = stored.json()["identifiers"]
    assert identifiers["email"] == "ada.lovelace@example.com"
    assert identifiers["phone"] == "+14155552671"
    assert stored.json()["occurred_at"].startswith("2026-11-20T08:30:00")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert not_allowed.status_code == 403
