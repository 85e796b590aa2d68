"""Helpers for tests against the real broker and store: topics, reading, sample events."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from crm.common.v1.envelope_pb2 import Envelope
from crm.touchpoints.v1.touchpoints_pb2 import TouchpointRecorded
from crm_contracts import encode_envelope, pack_payload, to_timestamp
from crm_eventstore import NewEvent
from crm_messaging.topics import dead_letter_topic

__all__ = [
    "OCCURRED",
    "create_topic",
    "end_offset_total",
    "envelope_bytes",
    "eventually",
    "read_topic",
    "sample_event",
    "touchpoint_event",
]

OCCURRED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def create_topic(bootstrap: str, name: str, partitions: int = 3) -> None:
    """Create ``name`` and its dead-letter topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, partitions, 1), NewTopic(dead_letter_topic(name), 1, 1)])
    finally:
        await admin.close()


async def read_topic(
    bootstrap: str, topic: str, *, at_least: int = 0, timeout: float = 30.0
) -> list[ConsumerRecord]:
    """Every record of ``topic``; waits until there are ``at_least`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        records = await _read_once(bootstrap, topic)
        if len(records) >= at_least or time.monotonic() > deadline:
            return records
        await asyncio.sleep(0.1)


async def _read_once(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += batch
        return records
    finally:
        await consumer.stop()


async def eventually(
    check: Callable[[], Awaitable[bool] | bool], within: float = 20.0
) -> None:
    """Poll ``check`` (sync or async) until it holds; ``TimeoutError`` after ``within`` s."""
    async with asyncio.timeout(within):
        while True:
            outcome = check()
            if await outcome if inspect.isawaitable(outcome) else outcome:
                return
            await asyncio.sleep(0.05)


async def end_offset_total(bootstrap: str, topic: str) -> int:
    """How many records ``topic`` has ever held (sum of its partitions' end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            return 0
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


def sample_event(n: int = 0, *, topic: str | None = None, key: str = "") -> NewEvent:
    """An event with an opaque payload, for event-store tests."""
    return NewEvent("test.Happened", f"payload-{n}".encode(), OCCURRED, topic=topic,
                    customer_key=key)


def touchpoint_event(topic: str, key: str, n: int = 0) -> NewEvent:
    """A published event carrying a real TouchpointRecorded payload."""
    event_type, payload = pack_payload(
        TouchpointRecorded(event_id=str(uuid.uuid4()), type=f"t{n}"))
    return NewEvent(event_type, payload, OCCURRED, topic=topic, customer_key=key)


def envelope_bytes(kind: str = "ok", event_id: str | None = None) -> bytes:
    """An encoded envelope around a TouchpointRecorded whose ``type`` is ``kind``."""
    event_type, payload = pack_payload(TouchpointRecorded(event_id=str(uuid.uuid4()), type=kind))
    return encode_envelope(Envelope(
        event_id=event_id or str(uuid.uuid4()), event_type=event_type, schema_version=1,
        occurred_at=to_timestamp(OCCURRED), recorded_at=to_timestamp(OCCURRED),
        producer="test", customer_key="c-1", payload=payload))
