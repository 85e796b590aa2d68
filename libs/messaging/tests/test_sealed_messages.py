"""Personal data on the topics: sealed by the relay, opened by the consumer kit, and
unreadable once its key is destroyed."""

import asyncio
import uuid

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import decode_envelope, pack_payload, unpack_payload
from crm_devstack.testing import OCCURRED, end_offset_total, eventually, read_topic
from crm_eventstore import EventStore, NewEvent, RecordedEvent, UnitOfWork
from crm_messaging import Consumer, ConsumerSettings, InboundMessage, KeyVault, OutboxRelay
from crm_messaging.topics import dead_letter_topic


def person_event(topic: str, person: str, n: int) -> NewEvent:
    event_type, payload = pack_payload(TouchpointRecorded(
        event_id=str(uuid.uuid4()), type=f"{person}-lovelace-{n}"))
    return NewEvent(event_type, payload, OCCURRED, topic=topic, customer_key=person)


async def applied_by(engine: AsyncEngine, group: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT kind FROM seen WHERE grp = :g ORDER BY kind"), {"g": group})
        return list(rows.scalars())


async def consume_all(engine: AsyncEngine, store: EventStore, producer: AIOKafkaProducer,
                      bootstrap: str, topic: str, group: str, vault: KeyVault,
                      expected: int) -> None:
    async def handler(message: InboundMessage, uow: UnitOfWork) -> None:
        kind = unpack_payload(message.envelope).type  # type: ignore[attr-defined]
        await uow.connection.execute(text("INSERT INTO seen VALUES (:g, :k)"),
                                     {"g": group, "k": kind})

    consumer = Consumer(bootstrap_servers=bootstrap, group_id=group, topics=[topic],
                        handler=handler, store=store, producer=producer, vault=vault,
                        settings=ConsumerSettings(poll_timeout_ms=100))
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: _committed_everything(consumer, topic, expected))
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 15)


async def _committed_everything(consumer: Consumer, topic: str, expected: int) -> bool:
    return sum(o for tp, o in consumer._committed.items() if tp.topic == topic) == expected


async def test_sealed_events_are_opened_for_consumers_until_their_key_is_destroyed(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str, vault: KeyVault,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE seen (grp text, kind text)"))
    run = uuid.uuid4().hex

    def seal(event: RecordedEvent) -> str | None:
        return None if event.customer_key == "carol" else f"test:{run}:{event.customer_key}"

    relay = OutboxRelay(engine, producer, producer_name="test",
                        bootstrap_servers=kafka_bootstrap, seal=seal, vault=vault)
    for person in ("ada", "bob", "carol"):
        await store.append(f"s-{person}", [person_event(topic, person, n) for n in range(3)])
    publishing = asyncio.create_task(relay.run())
    try:
        records = await read_topic(kafka_bootstrap, topic, at_least=9)
    finally:
        publishing.cancel()
        await asyncio.gather(publishing, return_exceptions=True)
    envelopes = [decode_envelope(r.value) for r in records]
    sealed = {e.customer_key: e.sealed_by for e in envelopes}
    assert sealed == {"ada": f"test:{run}:ada", "bob": f"test:{run}:bob", "carol": ""}
    assert not [r for r in records if b"ada-lovelace" in r.value or b"bob-lovelace" in r.value]
    assert len([r for r in records if b"carol-lovelace" in r.value]) == 3

    await consume_all(engine, store, producer, kafka_bootstrap, topic, "before", vault, 9)
    await vault.destroy([f"test:{run}:ada"])
    await consume_all(engine, store, producer, kafka_bootstrap, topic, "after", vault, 9)

    everyone = [f"{p}-lovelace-{n}" for p in ("ada", "bob", "carol") for n in range(3)]
    assert await applied_by(engine, "before") == everyone
    assert await applied_by(engine, "after") == everyone[3:]
    assert await end_offset_total(kafka_bootstrap, dead_letter_topic(topic)) == 0
