"""Events acknowledged just before a kill -9 of the touchpoint service are all kept."""

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from crm_contracts import decode_envelope
from crm_devstack.ports import free_port
from crm_devstack.testing import ServiceUnderTest, eventually, read_topic
from crm_eventstore import create_engine
from crm_messaging import create_topics
from crm_messaging.topics import TOUCHPOINTS
from crm_servicekit.apikeys import ApiKeyStore

pytestmark = pytest.mark.slow


def event() -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()), "channel": "web", "type": "page_view",
        "occurred_at": datetime.now(UTC).isoformat(),
        "identifiers": {"anonymous_id": f"anon-{uuid.uuid4().hex[:8]}"},
        "properties": {"url": "https://shop.example.com/"},
    }


async def post_until_refused(client: httpx.AsyncClient, url: str, key: str,
                             acknowledged: set[str], batch: bool) -> None:
    while True:
        events = [event() for _ in range(20 if batch else 1)]
        try:
            if batch:
                reply = await client.post(f"{url}/v1/touchpoints/batch", json={"events": events},
                                          headers={"Authorization": f"Bearer {key}"})
                results = reply.json()["results"] if reply.status_code == 202 else []
                acknowledged.update(r["event_id"] for r in results if r["status"] == "accepted")
            else:
                reply = await client.post(f"{url}/v1/touchpoints", json=events[0],
                                          headers={"Authorization": f"Bearer {key}"})
                if reply.status_code == 202:
                    acknowledged.add(reply.json()["event_id"])
        except httpx.TransportError:
            return  # the service is gone


async def test_every_event_acknowledged_before_a_kill_is_in_the_store_and_on_the_topic(
    postgres_url: str, kafka_bootstrap: str, schema_name: str,
) -> None:
    await create_topics(kafka_bootstrap)
    service = ServiceUnderTest("crm_touchpoint", {
        "DATABASE_URL": postgres_url, "DB_SCHEMA": schema_name,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, free_port())
    service.migrate()
    engine = create_engine(postgres_url, schema_name)
    _, key = await ApiKeyStore(engine).create("durability", ["touchpoints:write"])
    acknowledged: set[str] = set()
    await service.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            posters = [asyncio.create_task(
                post_until_refused(client, service.url, key, acknowledged, batch=n % 2 == 0))
                for n in range(8)]
            await eventually(lambda: len(acknowledged) >= 500, within=60)
            service.kill()
            await asyncio.wait_for(asyncio.gather(*posters), 30)
        assert len(acknowledged) >= 500

        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT event_id FROM events"))
            stored = {str(row[0]) for row in rows}
        assert acknowledged <= stored, f"lost {len(acknowledged - stored)} acknowledged events"

        await service.start()  # the relay of the new process publishes what was left
        published: set[str] = set()

        async def all_published() -> bool:
            records = await read_topic(kafka_bootstrap, TOUCHPOINTS.name)
            published.update(decode_envelope(r.value).event_id for r in records)
            return acknowledged <= published

        await eventually(all_published, within=60)
    finally:
        service.stop()
        await engine.dispose()
