import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.common.v1.envelope_pb2 import Envelope
from crm.profiles.v1.profiles_pb2 import TouchpointsErased
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import encode_envelope, pack_payload, to_timestamp, unpack_payload
from crm_devstack.testing import envelope_bytes, eventually, read_topic
from crm_eventstore import EventStore, UnitOfWork, driver_connection
from crm_messaging import (
    Consumer,
    ConsumerSettings,
    DeadLetter,
    FollowUp,
    InboundMessage,
    RetryLater,
    current_trace,
)
from crm_messaging.topics import dead_letter_topic

Handler = Callable[[InboundMessage, UnitOfWork], Awaitable[None]]


@pytest.fixture
async def applied_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(
            "CREATE TABLE applied (event_id text PRIMARY KEY, kind text, times int NOT NULL)"))


async def record_application(message: InboundMessage, uow: UnitOfWork) -> None:
    """A handler whose state shows how often each event was applied."""
    kind = unpack_payload(message.envelope).type  # type: ignore[attr-defined]
    if kind == "poison":
        raise DeadLetter("touchpoint of kind 'poison' is not allowed")
    if kind == "crash":
        raise ValueError("handler bug")
    await uow.connection.execute(text(
        "INSERT INTO applied VALUES (:id, :kind, 1)"
        " ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1"),
        {"id": message.event_id, "kind": kind})


async def applied(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT kind, times FROM applied"))
        return {kind: times for kind, times in rows}


@asynccontextmanager
async def consuming(
    bootstrap: str, topic: str, store: EventStore, producer: AIOKafkaProducer,
    handler: Handler = record_application, group: str = "test-group",
    settings: ConsumerSettings | None = None, **options: Any,
) -> AsyncIterator[Consumer]:
    """A consumer running until the block ends; ``options``: more Consumer arguments."""
    consumer = Consumer(
        bootstrap_servers=bootstrap, group_id=group, topics=[topic], handler=handler,
        store=store, producer=producer,
        settings=settings or ConsumerSettings(backoff_initial=0.01, poll_timeout_ms=100),
        **options,
    )
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 15)


async def send(producer: AIOKafkaProducer, topic: str, *values: bytes) -> None:
    for value in values:
        await producer.send_and_wait(topic, value, key=b"c-1")


@pytest.mark.usefixtures("applied_table")
async def test_a_poison_message_is_dead_lettered_with_its_reason_and_the_rest_processed(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    await send(producer, topic, envelope_bytes("first"), b"\x00not an envelope",
               envelope_bytes("poison"), envelope_bytes("crash"), envelope_bytes("last"))

    async with consuming(kafka_bootstrap, topic, store, producer):
        await eventually(lambda: _has(engine, "last"))

    assert await applied(engine) == {"first": 1, "last": 1}
    dead = await read_topic(kafka_bootstrap, dead_letter_topic(topic), at_least=3)
    reasons = [dict(r.headers)["dlq.reason"].decode() for r in dead]
    assert len(dead) == 3
    assert reasons[0].startswith("undecodable envelope")
    assert "not allowed" in reasons[1]
    assert "ValueError: handler bug" in reasons[2]
    origin = dict(dead[0].headers)
    assert origin["dlq.origin.topic"] == topic.encode()
    assert origin["dlq.consumer.group"] == b"test-group"
    assert dead[0].value == b"\x00not an envelope"


@pytest.mark.usefixtures("applied_table")
async def test_a_redelivered_message_changes_nothing(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    twice = envelope_bytes("again", event_id="0b7f3c1e-0000-4000-8000-000000000001")
    await send(producer, topic, twice, envelope_bytes("between"), twice)

    async with consuming(kafka_bootstrap, topic, store, producer):
        await eventually(lambda: _has(engine, "between"))
    async with consuming(kafka_bootstrap, topic, store, producer, group="test-group"):
        await send(producer, topic, twice, envelope_bytes("after"))
        await eventually(lambda: _has(engine, "after"))

    assert await applied(engine) == {"again": 1, "between": 1, "after": 1}
    counted = {outcome: _counted("test-group", topic, outcome)
               for outcome in ("processed", "duplicate")}
    assert counted == {"processed": 3, "duplicate": 2}


@pytest.mark.usefixtures("applied_table")
async def test_without_the_inbox_a_redelivery_reaches_the_handler_but_not_a_repeat_in_a_chunk(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    twice = envelope_bytes("again", event_id="0b7f3c1e-0000-4000-8000-000000000002")
    await send(producer, topic, twice, envelope_bytes("between"), twice)  # one chunk
    async with consuming(kafka_bootstrap, topic, store, producer, group="no-inbox",
                         inbox=False):
        await eventually(lambda: _has(engine, "between"))
        assert await applied(engine) == {"again": 1, "between": 1}
        await send(producer, topic, twice)  # redelivered later: the handler's to absorb
        await eventually(lambda: _counted("no-inbox", topic, "processed") == 3)

    assert await applied(engine) == {"again": 2, "between": 1}
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT count(*) FROM inbox WHERE consumer_group = 'no-inbox'"))).scalar_one()
    assert rows == 0


@pytest.mark.usefixtures("applied_table")
async def test_transient_failures_are_retried_with_backoff_then_succeed(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    failures = {"left": 2}

    async def flaky(message: InboundMessage, uow: UnitOfWork) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RetryLater("database briefly unavailable")
        await record_application(message, uow)

    await send(producer, topic, envelope_bytes("flaky"))
    async with consuming(kafka_bootstrap, topic, store, producer, handler=flaky):
        await eventually(lambda: _has(engine, "flaky"))

    assert await applied(engine) == {"flaky": 1}
    assert await read_topic(kafka_bootstrap, dead_letter_topic(topic), timeout=0) == []


@pytest.mark.usefixtures("applied_table")
async def test_a_serialization_failure_from_the_driver_is_retried_and_a_bad_statement_is_not(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    failures = {"left": 2}  # the chunk fails, then the first attempt alone

    async def raced(message: InboundMessage, uow: UnitOfWork) -> None:
        driver = await driver_connection(uow.connection)
        if unpack_payload(message.envelope).type == "broken":  # type: ignore[attr-defined]
            await driver.execute("SELECT 1 / 0")
        if failures["left"]:
            failures["left"] -= 1
            await driver.execute(
                "DO $$ BEGIN RAISE EXCEPTION 'raced' USING ERRCODE = '40001'; END $$")
        await record_application(message, uow)

    await send(producer, topic, envelope_bytes("raced"), envelope_bytes("broken"))
    async with consuming(kafka_bootstrap, topic, store, producer, handler=raced):
        dead = await read_topic(kafka_bootstrap, dead_letter_topic(topic), at_least=1)
        await eventually(lambda: _has(engine, "raced"))

    assert await applied(engine) == {"raced": 1}
    assert [dict(d.headers)["dlq.reason"][:24] for d in dead] == [b"DivisionByZeroError: div"]


@pytest.mark.usefixtures("applied_table")
async def test_retries_are_bounded_and_end_in_the_dead_letter_topic(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    async def always_down(message: InboundMessage, uow: UnitOfWork) -> None:
        raise RetryLater("downstream is down")

    await send(producer, topic, envelope_bytes("doomed"))
    async with consuming(kafka_bootstrap, topic, store, producer, handler=always_down):
        dead = await read_topic(kafka_bootstrap, dead_letter_topic(topic), at_least=1)

    assert dict(dead[0].headers)["dlq.reason"].startswith(b"gave up after 5 attempts")


async def _has(engine: AsyncEngine, kind: str) -> bool:
    return kind in await applied(engine)


async def test_the_trace_of_a_message_is_current_while_its_handler_runs(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    seen: list[tuple[str, str]] = []

    async def remember_trace(message: InboundMessage, uow: UnitOfWork) -> None:
        seen.append((current_trace().trace_id, current_trace().correlation_id))

    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await producer.send_and_wait(topic, envelope_bytes(), key=b"c-1", headers=[
        ("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01".encode()),
        ("correlation-id", b"request-42")])
    async with consuming(kafka_bootstrap, topic, store, producer, handler=remember_trace):
        await eventually(lambda: bool(seen))

    assert seen == [(trace_id, "request-42")]


@pytest.mark.usefixtures("applied_table")
async def test_two_members_of_a_group_share_the_partitions_and_apply_each_message_once(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    members: dict[str, int] = {"a": 0, "b": 0}

    def counting(member: str) -> Handler:
        async def handle(message: InboundMessage, uow: UnitOfWork) -> None:
            members[member] += 1
            await record_by_id(message, uow)
        return handle

    async with (
        consuming(kafka_bootstrap, topic, store, producer, handler=counting("a")) as a,
        consuming(kafka_bootstrap, topic, store, producer, handler=counting("b")) as b,
    ):
        await eventually(lambda: bool(a.assignment()) and bool(b.assignment()))
        assert not a.assignment() & b.assignment()
        for n in range(300):
            await producer.send(topic, envelope_bytes(f"m{n}"), key=f"k{n}".encode())
        await producer.flush()
        await eventually(lambda: _count_at_least(engine, 300))

    assert await scalar(engine, "SELECT max(times) FROM applied") == 1
    assert members["a"] > 0 and members["b"] > 0, members


async def record_by_id(message: InboundMessage, uow: UnitOfWork) -> None:
    await uow.connection.execute(text(
        "INSERT INTO applied VALUES (:id, 'x', 1)"
        " ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1"),
        {"id": message.event_id})


async def scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def _count_at_least(engine: AsyncEngine, count: int) -> bool:
    return await scalar(engine, "SELECT count(*) FROM applied") >= count


async def test_one_poll_of_several_partitions_is_applied_in_one_transaction_in_partition_order(
    store: EventStore, producer: AIOKafkaProducer, kafka_bootstrap: str, topic: str,
) -> None:
    for n in range(90):
        await producer.send(topic, envelope_bytes(f"m{n}"), key=f"k{n}".encode())
    await producer.flush()
    chunks: list[list[tuple[int, int]]] = []

    async def note_chunk(messages: list[InboundMessage], uow: UnitOfWork) -> None:
        chunks.append([(m.partition, m.offset) for m in messages])

    consumer = Consumer(
        bootstrap_servers=kafka_bootstrap, group_id="chunks", topics=[topic],
        batch_handler=note_chunk, store=store, producer=producer,
        settings=ConsumerSettings(poll_timeout_ms=100))
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: sum(len(c) for c in chunks) >= 90)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 15)

    assert any(len({p for p, _ in chunk}) > 1 for chunk in chunks), chunks
    seen = [position for chunk in chunks for position in chunk]
    for partition in {p for p, _ in seen}:
        offsets = [o for p, o in seen if p == partition]
        assert offsets == sorted(offsets) == list(range(len(offsets)))
    ends = await _committed(kafka_bootstrap, "chunks", topic)
    assert ends == {p: len([o for q, o in seen if q == p]) for p in ends}


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                              enable_auto_commit=False)
    await reader.start()
    try:
        partitions = reader.partitions_for_topic(topic) or set()
        if not partitions:
            await reader.topics()
            partitions = reader.partitions_for_topic(topic) or set()
        return {p: await reader.committed(TopicPartition(topic, p)) or 0 for p in partitions}
    finally:
        await reader.stop()


async def test_a_consumer_cancelled_while_joining_its_group_leaves_no_task_behind(
    kafka_bootstrap: str, topic: str, store: EventStore, producer: AIOKafkaProducer,
) -> None:
    # The broker holds a new member's first join for a while; an app stopped in that
    # wait must still close its client, or the client's tasks outlive it (and the event
    # loop's shutdown may then wait on them forever).
    before = asyncio.all_tasks()
    consumer = Consumer(
        bootstrap_servers=kafka_bootstrap, group_id="joining", topics=[topic],
        handler=record_application, store=store, producer=producer,
        settings=ConsumerSettings(session_timeout_ms=3_000, heartbeat_interval_ms=1_000))
    task = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert left == []


def _other_event() -> bytes:
    """An envelope of a type the consumer below does not act on (its handler would fail
    on it: the payload is no touchpoint)."""
    event_type, payload = pack_payload(TouchpointsErased(touchpoint_event_ids=["t-1"]))
    return encode_envelope(Envelope(
        event_id=str(uuid.uuid4()), event_type=event_type, schema_version=1,
        occurred_at=to_timestamp(datetime(2026, 1, 1, tzinfo=UTC)),
        recorded_at=to_timestamp(datetime(2026, 1, 1, tzinfo=UTC)),
        producer="test", customer_key="c-1", payload=payload))


@pytest.mark.usefixtures("applied_table")
async def test_a_consumer_passes_over_event_types_it_does_not_act_on(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    await send(producer, topic, _other_event(), envelope_bytes("a"), _other_event(),
               envelope_bytes("b"), _other_event())
    async with consuming(kafka_bootstrap, topic, store, producer, group="typed",
                         event_types={TouchpointRecorded.DESCRIPTOR.full_name}):
        await eventually(lambda: _has(engine, "b"))
        await eventually(lambda: _committed_total(kafka_bootstrap, topic, "typed", 5))

    assert await applied(engine) == {"a": 1, "b": 1}
    async with engine.connect() as conn:
        inbox = (await conn.execute(text(
            "SELECT count(*) FROM inbox WHERE consumer_group = 'typed'"))).scalar_one()
    assert inbox == 2  # the passed-over events cost no inbox row
    assert await read_topic(kafka_bootstrap, dead_letter_topic(topic)) == []


@pytest.mark.usefixtures("applied_table")
async def test_a_type_named_in_the_header_is_passed_over_without_decoding(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    wanted = TouchpointRecorded.DESCRIPTOR.full_name.encode()
    other = TouchpointsErased.DESCRIPTOR.full_name.encode()
    # Not an envelope at all: only the header can tell what it is.
    await producer.send_and_wait(topic, b"not protobuf", key=b"c-1",
                                 headers=[("event-type", other)])
    await producer.send_and_wait(topic, envelope_bytes("a"), key=b"c-1",
                                 headers=[("event-type", wanted)])
    await producer.send_and_wait(topic, b"broken too", key=b"c-1",
                                 headers=[("event-type", wanted)])
    await send(producer, topic, _other_event(), envelope_bytes("b"))  # no headers
    async with consuming(kafka_bootstrap, topic, store, producer, group="by-header",
                         event_types={TouchpointRecorded.DESCRIPTOR.full_name}):
        await eventually(lambda: _has(engine, "b"))

    assert await applied(engine) == {"a": 1, "b": 1}
    letters = await read_topic(kafka_bootstrap, dead_letter_topic(topic))
    assert [letter.value for letter in letters] == [b"broken too"]  # wanted, undecodable
    assert _counted("by-header", topic, "ignored") == 2
    assert await _committed_total(kafka_bootstrap, topic, "by-header", 5)


async def test_offsets_of_chunks_with_nothing_to_apply_are_committed_at_intervals(
    store: EventStore, producer: AIOKafkaProducer, kafka_bootstrap: str, topic: str,
) -> None:
    async with consuming(kafka_bootstrap, topic, store, producer, group="idle",
                         settings=ConsumerSettings(poll_timeout_ms=100, idle_commit_seconds=3600),
                         event_types={TouchpointRecorded.DESCRIPTOR.full_name}):
        await send(producer, topic, _other_event())
        await eventually(lambda: _committed_total(kafka_bootstrap, topic, "idle", 1))
        await send(producer, topic, _other_event(), _other_event())
        await eventually(lambda: _counted("idle", topic, "ignored") == 3)
        # Skipped, not committed yet: the first skip committed, the interval has not passed.
        assert await _committed_total(kafka_bootstrap, topic, "idle", 1)
    assert await _committed_total(kafka_bootstrap, topic, "idle", 3)  # at the stop


def _counted(group: str, topic: str, outcome: str) -> float:
    """How many messages of ``topic`` the consumer group counted with ``outcome``."""
    return REGISTRY.get_sample_value("crm_consumer_messages_total", {
        "group": group, "topic": topic, "outcome": outcome}) or 0


async def _committed_total(bootstrap: str, topic: str, group: str, expected: int) -> bool:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await reader.start()
    try:
        partitions = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or ()]
        committed = [await reader.committed(tp) or 0 for tp in partitions]
        return sum(committed) == expected
    finally:
        await reader.stop()


@pytest.mark.usefixtures("applied_table")
async def test_a_follow_up_runs_in_a_transaction_of_its_own_before_the_offsets_are_committed(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    """Half of each chunk in the handler's transaction, the other half in its follow-up;
    with the inbox a follow-up is refused (the ids were claimed in the first)."""
    transactions: list[int] = []
    follow_ups: list[int] = []

    async def half_now(messages: list[InboundMessage], uow: UnitOfWork) -> FollowUp | None:
        transactions.append(await _transaction_id(uow))
        for message in messages[::2]:
            await record_application(message, uow)
        later = messages[1::2]

        async def rest(next_uow: UnitOfWork) -> None:
            follow_ups.append(await _transaction_id(next_uow))
            for message in later:
                await record_application(message, next_uow)
        return rest if later else None

    await send(producer, topic, *(envelope_bytes(f"m{n}") for n in range(6)))
    async with consuming(kafka_bootstrap, topic, store, producer, handler=None,
                         batch_handler=half_now, group="follow-up", inbox=False):
        await eventually(lambda: _count_at_least(engine, 6))
    assert await applied(engine) == {f"m{n}": 1 for n in range(6)}
    assert follow_ups
    assert not set(follow_ups) & set(transactions)
    assert sum((await _committed(kafka_bootstrap, "follow-up", topic)).values()) == 6

    async def always_later(messages: list[InboundMessage], uow: UnitOfWork) -> FollowUp:
        async def nothing(next_uow: UnitOfWork) -> None:
            return None
        return nothing

    async with consuming(kafka_bootstrap, topic, store, producer, handler=None,
                         batch_handler=always_later, group="follow-up-inbox", inbox=True,
                         settings=ConsumerSettings(backoff_initial=0.01, max_attempts=1,
                                                   poll_timeout_ms=100)):
        dead = await read_topic(kafka_bootstrap, dead_letter_topic(topic), at_least=1)
    assert "follow-up needs inbox=False" in dict(dead[0].headers)["dlq.reason"].decode()


async def _transaction_id(uow: UnitOfWork) -> int:
    return int((await uow.connection.execute(text("SELECT txid_current()"))).scalar_one())
