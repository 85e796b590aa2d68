"""kill -9 of the relay process in the middle of publishing loses nothing."""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_contracts import decode_envelope
from crm_devstack.testing import end_offset_total, eventually, read_topic, touchpoint_event
from crm_eventstore import EventStore, StreamAppend, UnitOfWork
from crm_messaging import Consumer, ConsumerSettings, InboundMessage

EVENTS = 20_000

pytestmark = pytest.mark.slow


def start_relay(postgres_url: str, schema: str, bootstrap: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "crm_messaging.relay", "--database-url", postgres_url,
         "--schema", schema, "--bootstrap-servers", bootstrap, "--producer", "crash-test"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def test_relay_killed_mid_publish_delivers_everything_and_effects_happen_once(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    postgres_url: str, schema_name: str, kafka_bootstrap: str, topic: str,
) -> None:
    async with store.transaction() as uow:
        await uow.append_streams([
            StreamAppend(f"stream-{n % 500}", [touchpoint_event(topic, f"k{n % 500}", n)])
            for n in range(EVENTS)])

    relay = start_relay(postgres_url, schema_name, kafka_bootstrap)
    await eventually(lambda: _published_some(kafka_bootstrap, topic), within=30)
    os.kill(relay.pid, signal.SIGKILL)
    relay.wait()
    on_kafka_at_kill = await end_offset_total(kafka_bootstrap, topic)
    left_in_outbox = await scalar(engine, "SELECT count(*) FROM outbox")
    assert left_in_outbox > 0, "the kill must land mid-publish for this test to mean anything"

    relay = start_relay(postgres_url, schema_name, kafka_bootstrap)
    try:
        await eventually(lambda: _outbox_empty(engine), within=60)
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(10)

    records = await read_topic(kafka_bootstrap, topic, at_least=EVENTS)
    delivered = Counter(decode_envelope(r.value).event_id for r in records)
    assert len(delivered) == EVENTS, "every committed event reached Kafka"
    redelivered = sum(n - 1 for n in delivered.values())
    print(f"at kill: {on_kafka_at_kill} on Kafka, {left_in_outbox} in outbox; "
          f"{redelivered} delivered twice")

    await _consume_all(store, engine, producer, kafka_bootstrap, topic)
    assert await scalar(engine, "SELECT count(*) FROM applied") == EVENTS
    assert await scalar(engine, "SELECT max(times) FROM applied") == 1


async def _published_some(bootstrap: str, topic: str) -> bool:
    return await end_offset_total(bootstrap, topic) > 0


async def _outbox_empty(engine: AsyncEngine) -> bool:
    return await scalar(engine, "SELECT count(*) FROM outbox") == 0


async def _consume_all(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    bootstrap: str, topic: str,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE applied (event_id text PRIMARY KEY, times int)"))

    async def count_application(message: InboundMessage, uow: UnitOfWork) -> None:
        await uow.connection.execute(text(
            "INSERT INTO applied VALUES (:id, 1)"
            " ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1"),
            {"id": message.event_id})

    consumer = Consumer(bootstrap_servers=bootstrap, group_id="crash-test", topics=[topic],
                        handler=count_application, store=store, producer=producer,
                        settings=ConsumerSettings(poll_timeout_ms=100))
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(
            lambda: _applied_at_least(engine, EVENTS), within=120)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 15)


async def _applied_at_least(engine: AsyncEngine, count: int) -> bool:
    return await scalar(engine, "SELECT count(*) FROM applied") >= count
