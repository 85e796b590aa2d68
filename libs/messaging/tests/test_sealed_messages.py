"""Personal data on the topics: sealed by the relay, opened by the consumer kit, and
unreadable once its key is destroyed."""

import asyncio
import uuid
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.common.v1.envelope_pb2 import Envelope
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import (
    decode_envelope,
    encode_envelope,
    pack_payload,
    to_timestamp,
    unpack_payload,
)
from crm_devstack.testing import OCCURRED, end_offset_total, eventually, read_topic
from crm_eventstore import EventStore, NewEvent, RecordedEvent, UnitOfWork
from crm_messaging import Consumer, ConsumerSettings, InboundMessage, KeyVault, OutboxRelay
from crm_messaging.sealing import seal
from crm_messaging.topics import dead_letter_topic
from crm_messaging.vault import Opened


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


class _WatchedVault(KeyVault):
    """A vault that notes the event ids of the envelopes it was asked to open."""

    def __init__(self, vault: KeyVault) -> None:
        super().__init__(vault.engine)
        self.asked: list[str] = []

    async def open(self, envelopes: Sequence[Envelope]) -> list[Opened]:
        self.asked += [envelope.event_id for envelope in envelopes]
        return await super().open(envelopes)


async def test_the_next_poll_is_opened_while_a_chunk_is_applied(
    store: EventStore, producer: AIOKafkaProducer, kafka_bootstrap: str, topic: str,
    vault: KeyVault,
) -> None:
    key = f"test:{uuid.uuid4().hex}"
    secret = (await vault.issue([key]))[key]
    assert secret is not None
    events = []
    for n in range(10):
        event_id = str(uuid.uuid4())
        event_type, payload = pack_payload(TouchpointRecorded(event_id=event_id, type=f"t{n}"))
        events.append(event_id)
        await producer.send(topic, encode_envelope(Envelope(
            event_id=event_id, event_type=event_type, schema_version=1, producer="test",
            occurred_at=to_timestamp(OCCURRED), recorded_at=to_timestamp(OCCURRED),
            payload=seal(payload, event_id=event_id, secret=secret), sealed_by=key)),
            key=b"one-partition")
    await producer.flush()
    watched = _WatchedVault(vault)
    chunks: list[list[str]] = []
    overlapped: list[bool] = []

    async def apply(messages: list[InboundMessage], uow: UnitOfWork) -> None:
        if not chunks:  # the first chunk waits until the second one has been opened
            overlapped.append(await _within(5, lambda: len(watched.asked) == 10))
        chunks.append([unpack_payload(m.envelope).type for m in messages])  # type: ignore[attr-defined]

    consumer = Consumer(bootstrap_servers=kafka_bootstrap, group_id="pipelined",
                        topics=[topic], batch_handler=apply, store=store, producer=producer,
                        vault=watched, settings=ConsumerSettings(
                            poll_timeout_ms=100, chunk_size=5, max_poll_records=5))
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: sum(map(len, chunks)) == 10)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 15)

    assert overlapped == [True]
    assert chunks == [[f"t{n}" for n in range(5)], [f"t{n}" for n in range(5, 10)]]
    assert watched.asked == events


async def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True
