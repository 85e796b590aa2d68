"""Foundation benchmarks: event store appends and relay throughput, beside raw drivers.

Baselines are measured in the same run on the same machine: plain asyncpg inserts
of the same rows (one commit per row, and batched), and plain aiokafka produce of
envelopes of the same size, pipelined.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text

from benchmarks.harness import Measurement, Report, Stack, Timer, rate
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import pack_payload
from crm_eventstore import (
    EVENT_STORE_MIGRATIONS,
    EventStore,
    NewEvent,
    Outbox,
    StreamAppend,
    create_engine,
    migrate,
)
from crm_messaging import OutboxRelay
from crm_messaging.envelopes import outbound_record

SINGLE = 3_000
CONCURRENT_WRITERS = 16
BATCHED = 100_000
BATCH_SIZE = 1_000
RELAYED = 50_000
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TOPIC = "bench.relay"


def _event(n: int, topic: str | None = None) -> NewEvent:
    event_type, payload = pack_payload(
        TouchpointRecorded(event_id=str(uuid.uuid4()), type="page_view", traits={"city": "Lyon"})
    )
    return NewEvent(event_type, payload, NOW, topic=topic, customer_key=f"customer-{n % 997}")


_RAW_TABLE = """
CREATE TABLE raw_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, stream_id text, version bigint,
    event_id uuid UNIQUE, event_type text, payload bytea, occurred_at timestamptz,
    UNIQUE (stream_id, version))
"""
_RAW_INSERT = """INSERT INTO raw_events (stream_id, version, event_id, event_type, payload,
    occurred_at) VALUES ($1, $2, $3, $4, $5, $6)"""


async def run(stack: Stack, report: Report) -> None:
    print("foundation: event store and relay", flush=True)
    await _raw_asyncpg(stack, report)
    store = await _store(stack, "bench_store")
    await _store_single(store, report)
    await _store_batched(store, report)
    await store.engine.dispose()
    await _relay(stack, report)


async def _raw_asyncpg(stack: Stack, report: Report) -> None:
    conn = await asyncpg.connect(stack.database_url)
    await conn.execute("CREATE SCHEMA raw; SET search_path TO raw;" + _RAW_TABLE)
    rows = [(f"s-{n}", 1, uuid.uuid4(), "t", _event(n).payload, NOW) for n in range(BATCHED)]
    with Timer() as t:
        for row in rows[:SINGLE]:
            await conn.execute(_RAW_INSERT, *row)
    report.add(
        Measurement(
            "postgres", "raw asyncpg insert, 1 row per commit", rate(SINGLE, t.seconds), "rows/s"
        )
    )
    pool = await asyncpg.create_pool(
        stack.database_url,
        min_size=CONCURRENT_WRITERS,
        max_size=CONCURRENT_WRITERS,
        server_settings={"search_path": "raw"},
    )
    batch = rows[SINGLE : SINGLE * 2]
    with Timer() as t:
        await _in_parallel(CONCURRENT_WRITERS, batch, lambda row: pool.execute(_RAW_INSERT, *row))
    report.add(
        Measurement(
            "postgres",
            f"raw asyncpg insert, 1 row per commit, {CONCURRENT_WRITERS} writers",
            rate(len(batch), t.seconds),
            "rows/s",
        )
    )
    with Timer() as t:
        for start in range(SINGLE * 2, BATCHED, BATCH_SIZE):
            async with conn.transaction():
                await conn.executemany(_RAW_INSERT, rows[start : start + BATCH_SIZE])
    report.add(
        Measurement(
            "postgres",
            f"raw asyncpg executemany, {BATCH_SIZE} rows per commit",
            rate(BATCHED - SINGLE * 2, t.seconds),
            "rows/s",
        )
    )
    await pool.close()
    await conn.close()


async def _store(stack: Stack, schema: str) -> EventStore:
    engine = create_engine(stack.database_url, schema, pool_size=CONCURRENT_WRITERS)
    await migrate(engine, schema, [EVENT_STORE_MIGRATIONS])
    return EventStore(engine)


def _baseline(report: Report, name: str) -> float:
    return next(m.value for m in report.measurements if m.name == name)


async def _store_single(store: EventStore, report: Report) -> None:
    events = [_event(n) for n in range(SINGLE)]
    with Timer() as t:
        for n, event in enumerate(events):
            await store.append(f"single-{n}", [event], 0)
    raw = "raw asyncpg insert, 1 row per commit"
    report.add(
        Measurement(
            "event store",
            "append 1 event per transaction",
            rate(SINGLE, t.seconds),
            "events/s",
            raw,
            _baseline(report, raw),
        )
    )
    events = [_event(n) for n in range(SINGLE)]
    with Timer() as t:
        await _in_parallel(
            CONCURRENT_WRITERS,
            list(enumerate(events)),
            lambda item: store.append(f"conc-{item[0]}", [item[1]], 0),
        )
    raw = f"raw asyncpg insert, 1 row per commit, {CONCURRENT_WRITERS} writers"
    report.add(
        Measurement(
            "event store",
            f"append 1 event per transaction, {CONCURRENT_WRITERS} writers",
            rate(SINGLE, t.seconds),
            "events/s",
            raw,
            _baseline(report, raw),
        )
    )


async def _store_batched(store: EventStore, report: Report) -> None:
    total = BATCHED - SINGLE * 2
    events = [_event(n) for n in range(total)]
    with Timer() as t:
        for start in range(0, total, BATCH_SIZE):
            async with store.transaction() as uow:
                await uow.append_streams(
                    [
                        StreamAppend(f"batch-{start + i}", [e], 0)
                        for i, e in enumerate(events[start : start + BATCH_SIZE])
                    ]
                )
    raw = f"raw asyncpg executemany, {BATCH_SIZE} rows per commit"
    report.add(
        Measurement(
            "event store",
            f"append {BATCH_SIZE} streams per transaction",
            rate(total, t.seconds),
            "events/s",
            raw,
            _baseline(report, raw),
        )
    )


async def _relay(stack: Stack, report: Report) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(TOPIC, 6, 1), NewTopic("bench.raw", 6, 1)])
    await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.bootstrap_servers, acks="all", linger_ms=5, enable_idempotence=False
    )
    await producer.start()
    store = await _store(stack, "bench_relay")
    await _fill_outbox(store)
    async with store.engine.connect() as conn:
        pending = await Outbox(conn).fetch(RELAYED)
    records = [outbound_record(p.event, "bench") for p in pending]
    with Timer() as t:
        deliveries = [
            await producer.send("bench.raw", r.value, key=r.key, headers=r.headers) for r in records
        ]
        await asyncio.gather(*deliveries)
    raw_rate = rate(len(records), t.seconds)
    report.add(
        Measurement("kafka", "raw aiokafka produce (same envelopes, pipelined)", raw_rate, "msg/s")
    )

    relay = OutboxRelay(
        store.engine, producer, producer_name="bench", bootstrap_servers=stack.bootstrap_servers
    )
    with Timer() as t:
        async with store.engine.connect() as conn:
            outbox = Outbox(conn)
            while await relay.publish_batch(outbox):
                pass
    report.add(
        Measurement(
            "relay",
            "outbox -> Kafka, published and acknowledged",
            rate(RELAYED, t.seconds),
            "events/s",
            "raw aiokafka produce",
            raw_rate,
        )
    )
    await producer.stop()
    await store.engine.dispose()


async def _fill_outbox(store: EventStore) -> None:
    for start in range(0, RELAYED, BATCH_SIZE):
        async with store.transaction() as uow:
            await uow.append_streams(
                [
                    StreamAppend(f"relay-{start + i}", [_event(start + i, TOPIC)])
                    for i in range(BATCH_SIZE)
                ]
            )
    async with store.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
    assert count == RELAYED, count


async def _in_parallel(workers: int, items: list, action) -> None:  # type: ignore[no-untyped-def, type-arg]
    queue = list(reversed(items))

    async def worker() -> None:
        while queue:
            await action(queue.pop())

    await asyncio.gather(*(worker() for _ in range(workers)))
