"""``python -m crm_messaging.dlq`` on the real broker: the runbook's dead-letter drain.

A consumer dead-letters what its handler refuses; after the fix, ``list`` shows each
letter with its origin and reason, ``replay`` puts it back on its topic once, and the
consumer applies it exactly once.
"""

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_contracts import unpack_payload
from crm_devstack.testing import end_offset_total, envelope_bytes, eventually, read_topic
from crm_eventstore import EventStore, UnitOfWork
from crm_messaging import Consumer, ConsumerSettings, DeadLetter, InboundMessage
from crm_messaging.dlq import list_dead_letters, replay_dead_letters
from crm_messaging.topics import dead_letter_topic

TRACEPARENT = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Handler:
    """Applies touchpoints to a table; refuses kind 'poison' until it is fixed."""

    def __init__(self) -> None:
        self.fixed = False

    async def __call__(self, message: InboundMessage, uow: UnitOfWork) -> None:
        kind = unpack_payload(message.envelope).type  # type: ignore[attr-defined]
        if kind.startswith("poison") and not self.fixed:
            raise DeadLetter(f"kind {kind!r} is not supported yet")
        await uow.connection.execute(text(
            "INSERT INTO applied VALUES (:id, :kind, 1)"
            " ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1"),
            {"id": message.event_id, "kind": kind})


@pytest.fixture
async def applied_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(
            "CREATE TABLE applied (event_id text PRIMARY KEY, kind text, times int NOT NULL)"))


async def applied(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT kind, times FROM applied"))
        return {kind: times for kind, times in rows}


@asynccontextmanager
async def consuming(
    bootstrap: str, topic: str, store: EventStore, producer: AIOKafkaProducer, handler: Handler,
) -> AsyncIterator[None]:
    consumer = Consumer(bootstrap_servers=bootstrap, group_id="view", topics=[topic],
                        handler=handler, store=store, producer=producer,
                        settings=ConsumerSettings(backoff_initial=0.01, poll_timeout_ms=100))
    task = asyncio.create_task(consumer.run())
    try:
        yield
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 15)


async def dlq_cli(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crm_messaging.dlq", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return await process.wait(), output.decode()


@pytest.mark.usefixtures("applied_table")
async def test_draining_a_dead_letter_topic_after_a_fix_applies_each_letter_exactly_once(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    handler = Handler()
    for kind, key in (("ok-1", b"a"), ("poison-1", b"b"), ("ok-2", b"c"), ("poison-2", b"b")):
        await producer.send_and_wait(topic, envelope_bytes(kind), key=key,
                                     headers=[("traceparent", TRACEPARENT)])
    async with consuming(kafka_bootstrap, topic, store, producer, handler):
        await eventually(lambda: _count_dlq(kafka_bootstrap, topic, 2), within=30)
        await eventually(lambda: _applied_kinds(engine, {"ok-1", "ok-2"}))

        code, listing = await dlq_cli("list", "--topic", topic,
                                      "--bootstrap-servers", kafka_bootstrap)
        assert code == 0, listing
        assert "2 dead letter(s), 2 pending replay" in listing
        assert listing.count("kind 'poison-") == 2
        assert listing.count(f"{topic}[") == 2 and "\tview\t" in listing

        handler.fixed = True  # the fix is deployed
        code, replayed = await dlq_cli("replay", "--topic", topic,
                                       "--bootstrap-servers", kafka_bootstrap)
        assert code == 0, replayed
        assert "2 dead letter(s) replayed" in replayed
        await eventually(lambda: _applied_kinds(engine, {"ok-1", "ok-2", "poison-1",
                                                         "poison-2"}), within=30)
        code, again = await dlq_cli("replay", "--topic", topic,
                                    "--bootstrap-servers", kafka_bootstrap)
        assert "0 dead letter(s) replayed" in again

    assert await applied(engine) == {"ok-1": 1, "ok-2": 1, "poison-1": 1, "poison-2": 1}
    code, listing = await dlq_cli("list", "--topic", topic, "--bootstrap-servers",
                                  kafka_bootstrap)
    assert "2 dead letter(s), 0 pending replay" in listing


async def _count_dlq(bootstrap: str, topic: str, count: int) -> bool:
    return await end_offset_total(bootstrap, dead_letter_topic(topic)) >= count


async def _applied_kinds(engine: AsyncEngine, kinds: set[str]) -> bool:
    return set(await applied(engine)) == kinds


async def test_replay_puts_letters_back_with_key_and_trace_but_without_dlq_headers(
    producer: AIOKafkaProducer, kafka_bootstrap: str, topic: str,
) -> None:
    headers = [("traceparent", TRACEPARENT), ("dlq.reason", b"DeadLetter: no"),
               ("dlq.origin.topic", topic.encode()), ("dlq.origin.partition", b"2"),
               ("dlq.origin.offset", b"41"), ("dlq.consumer.group", b"view"),
               ("dlq.failed_at", b"2026-03-01T12:00:00+00:00")]
    await producer.send_and_wait(dead_letter_topic(topic), b"letter", key=b"c-9",
                                 headers=headers)

    [letter] = await list_dead_letters(kafka_bootstrap, topic)
    assert (letter.origin_topic, letter.header("dlq.reason"), letter.pending) == (
        topic, "DeadLetter: no", True)
    assert letter.header("dlq.failed_at") == "2026-03-01T12:00:00+00:00"
    assert [r.offset for r in await replay_dead_letters(kafka_bootstrap, topic)] == [0]
    assert await replay_dead_letters(kafka_bootstrap, topic) == []

    [back] = await read_topic(kafka_bootstrap, topic, at_least=1)
    assert (back.key, back.value) == (b"c-9", b"letter")
    assert list(back.headers) == [("traceparent", TRACEPARENT)]
    [listed] = await list_dead_letters(kafka_bootstrap, topic)
    assert not listed.pending


async def test_each_replay_group_keeps_its_own_progress(
    producer: AIOKafkaProducer, kafka_bootstrap: str, topic: str,
) -> None:
    await producer.send_and_wait(dead_letter_topic(topic), b"letter", key=b"k")

    assert len(await replay_dead_letters(kafka_bootstrap, topic, group="ops-a")) == 1
    assert len(await replay_dead_letters(kafka_bootstrap, topic, group="ops-b")) == 1
    assert await replay_dead_letters(kafka_bootstrap, topic, group="ops-a") == []


async def test_an_unknown_topic_is_a_sentence_and_exit_code_1(kafka_bootstrap: str) -> None:
    code, output = await dlq_cli("list", "--topic", "crm.nothing-here.v1",
                                 "--bootstrap-servers", kafka_bootstrap)

    assert code == 1
    assert output.strip() == f"dlq: no topic crm.nothing-here.v1.dlq on {kafka_bootstrap}"
