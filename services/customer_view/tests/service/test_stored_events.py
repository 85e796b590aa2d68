"""What the view stores of each event: its facts. Rows written before migration 0002
(the whole envelope) are still read, and become facts when the projection next loads
them."""

import json
import uuid

import httpx
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from sqlalchemy import text
from view_world import START, attributed, publish, visit

from crm.common.v1.envelope_pb2 import Envelope
from crm_contracts import encode_envelope, pack_payload, to_timestamp
from crm_customer_view.settings import CustomerViewSettings
from crm_devstack.testing import eventually
from crm_eventstore import create_engine


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_an_event_is_stored_as_its_facts_not_as_its_envelope(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    (sent,) = await publish(producer, settings.profiles_topic, "c-facts",
                            *attributed("c-facts", visit("f@example.com", "+14155550111", 0))[-1:])
    engine = create_engine(settings.database_url, settings.db_schema)
    try:
        await eventually(lambda: _stored(engine, sent.event_id))
        envelope, facts = await _row(engine, sent.event_id)
    finally:
        await engine.dispose()

    assert envelope is None
    assert facts[0]["$type"] == "TouchpointFact"
    assert facts[0]["meta"]["event_id"] == sent.event_id


async def test_a_row_stored_as_an_envelope_before_0002_is_read_and_rewritten_as_facts(
    client: httpx.AsyncClient, producer: AIOKafkaProducer, settings: CustomerViewSettings,
    keys: dict[str, str],
) -> None:
    old_visit = attributed("c-old", visit("old@example.com", "+14155550112", 0))[-1]
    legacy = _envelope(old_visit, "c-old")
    engine = create_engine(settings.database_url, settings.db_schema)
    try:
        async with engine.begin() as conn:  # as the projection wrote it before 0002
            await conn.execute(text(
                "INSERT INTO view_events (event_id, envelope) VALUES (:id, :envelope)"),
                {"id": legacy.event_id, "envelope": encode_envelope(legacy)})
            await conn.execute(text(
                "INSERT INTO view_event_keys (key, event_id) VALUES"
                " ('customer:c-old', :id), (:tp, :id)"),
                {"id": legacy.event_id, "tp": f"touchpoint:{old_visit.touchpoint.event_id}"})
            await conn.execute(text("INSERT INTO customer_records (customer_id, record, masked,"
                                    " digest) VALUES ('c-old', '{}', '{}', 'old')"))
        timeline = await client.get("/v1/customers/c-old/timeline", headers=auth(keys["pii"]))
        await publish(producer, settings.profiles_topic, "c-old",
                      *attributed("c-old", visit("old@example.com", "+14155550112", 5))[-1:])

        async def two_visits() -> bool:
            reply = await client.get("/v1/customers/c-old", headers=auth(keys["pii"]))
            web = reply.json().get("channels", {}).get("web", {})
            return reply.status_code == 200 and web.get("interactions") == 2

        await eventually(two_visits)
        envelope, facts = await _row(engine, legacy.event_id)
    finally:
        await engine.dispose()

    assert [i["event_id"] for i in timeline.json()["items"]] == [old_visit.touchpoint.event_id]
    assert envelope is None
    assert facts[0]["touchpoint"]["event_id"] == old_visit.touchpoint.event_id


def _envelope(message: Message, key: str) -> Envelope:
    event_type, payload = pack_payload(message)
    return Envelope(event_id=str(uuid.uuid4()), event_type=event_type, schema_version=1,
                    occurred_at=to_timestamp(START), recorded_at=to_timestamp(START),
                    producer="profile", customer_key=key, position=1, payload=payload)


async def _stored(engine: object, event_id: str) -> bool:
    return (await _row(engine, event_id))[1] != []


async def _row(engine: object, event_id: str) -> tuple[bytes | None, list[dict[str, object]]]:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        row = (await conn.execute(
            text("SELECT envelope, facts::text FROM view_events WHERE event_id = :id"),
            {"id": event_id})).first()
    return (None, []) if row is None or row[1] is None else (row[0], json.loads(row[1]))
