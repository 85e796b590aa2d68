"""The touchpoint service erases the touchpoints of people the profile service erased."""

import uuid
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine
from touchpoint_samples import Keys, call_event, headers, web_event

from crm.common.v1.envelope_pb2 import Envelope
from crm.profiles.v1 import profiles_pb2 as profiles
from crm_contracts import encode_envelope, pack_payload, to_timestamp
from crm_devstack.testing import eventually, tables_quoting
from crm_eventstore import create_engine
from crm_touchpoint.settings import TouchpointSettings


async def _announce(producer: AIOKafkaProducer, topic: str, message: object) -> None:
    event_type, payload = pack_payload(message)  # type: ignore[arg-type]
    now = to_timestamp(datetime.now(UTC))
    envelope = Envelope(event_id=str(uuid.uuid4()), event_type=event_type, schema_version=1,
                        occurred_at=now, recorded_at=now, producer="profile",
                        customer_key="c-1", payload=payload)
    await producer.send_and_wait(topic, encode_envelope(envelope), key=b"c-1")


async def test_erased_and_suppressed_touchpoints_lose_their_personal_data(
    client: httpx.AsyncClient, keys: Keys, settings: TouchpointSettings,
    producer: AIOKafkaProducer,
) -> None:
    call = call_event(traits={"first_name": "Philomena", "last_name": "Quorvant"})
    late = web_event(identifiers={"email": "philomena.q@example.com"})
    kept = web_event(identifiers={"email": "someone.else@example.com"})
    for event in (call, late, kept):
        reply = await client.post("/v1/touchpoints", json=event, headers=headers(keys.writer))
        assert reply.status_code == 202, reply.text

    await _announce(producer, settings.erasures_topic, profiles.TouchpointsErased(
        customer_id="c-1", receipt_id="r-1", touchpoint_event_ids=[call["event_id"]]))
    await _announce(producer, settings.erasures_topic, profiles.TouchpointSuppressed(
        touchpoint_event_id=late["event_id"], receipt_id="r-1"))
    await _announce(producer, settings.erasures_topic, profiles.SuppressionLifted(
        receipt_id="r-0", evidence_event_id=kept["event_id"]))

    engine = create_engine(settings.database_url, settings.db_schema)
    personal = ["ada.lovelace@example.com", "+14155552671", "Philomena", "Quorvant",
                "philomena.q@example.com"]
    try:
        await eventually(lambda: _clean(engine, settings.db_schema, personal), within=30)
        assert await tables_quoting(engine, settings.db_schema, ["someone.else@example.com"])
    finally:
        await engine.dispose()
    stored = (await client.get(f"/v1/touchpoints/{call['event_id']}",
                               headers=headers(keys.reader))).json()
    assert stored["identifiers"] == {} and stored["traits"] == {}
    assert (stored["channel"], stored["type"]) == ("call_center", "call")
    assert stored["properties"]["duration_seconds"] == 312


async def _clean(engine: AsyncEngine, schema: str, personal: list[str]) -> bool:
    return await tables_quoting(engine, schema, personal) == {}
