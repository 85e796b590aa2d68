"""Helpers for tests against the real broker and store: topics, reading, sample events."""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import psutil
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI
from google.protobuf.message import Message
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
from crm_devstack.ports import free_port as _free_port
from crm_devstack.ports import port_is_free
from crm_eventstore import NewEvent
from crm_messaging import KeyVault
from crm_messaging.reading import records_to_end
from crm_messaging.sealing import BrokenSeal, KeyDestroyed
from crm_messaging.topics import dead_letter_topic

__all__ = [
    "OCCURRED",
    "ServiceUnderTest",
    "core_pipeline",
    "create_topic",
    "end_offset_total",
    "envelope_bytes",
    "eventually",
    "free_offset",
    "read_topic",
    "sample_event",
    "service_client",
    "tables_quoting",
    "touchpoint_event",
    "unpacked",
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
        return [r async for batch in records_to_end(consumer, partitions) for r in batch]
    finally:
        await consumer.stop()


async def unpacked(records: Iterable[ConsumerRecord], vault: KeyVault) -> list[Message | None]:
    """The payload of each record, opened with the key vault if sealed; ``None`` for one
    whose key was destroyed (its person was erased)."""
    unpacked: list[Message | None] = []
    for opened in await vault.open([decode_envelope(r.value) for r in records]):
        if isinstance(opened, BrokenSeal):
            raise opened
        unpacked.append(None if isinstance(opened, KeyDestroyed) else unpack_payload(opened))
    return unpacked


def _connections(process: psutil.Process) -> list[Any]:
    try:
        return list(process.net_connections(kind="tcp"))
    except psutil.Error:  # the process ended meanwhile
        return []


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


async def tables_quoting(engine: AsyncEngine, schema: str,
                         needles: Iterable[str]) -> dict[str, list[str]]:
    """Which tables of ``schema`` hold any of ``needles`` anywhere in a row (text columns
    as text, bytea columns as their hex form): table -> the needles found there."""
    found: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        tables = (await connection.execute(text(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = :schema AND table_type = 'BASE TABLE'"),
            {"schema": schema})).scalars().all()
        for table in tables:
            for needle in needles:
                hexed = needle.encode().hex()
                hit = (await connection.execute(text(
                    f'SELECT 1 FROM "{schema}"."{table}" t WHERE position(:n IN t::text) > 0'
                    " OR position(:h IN t::text) > 0 LIMIT 1"),
                    {"n": needle, "h": hexed})).first()
                if hit is not None:
                    found.setdefault(str(table), []).append(needle)
    return found


@asynccontextmanager
async def service_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking in-process to ``app``, with its lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


class ServiceUnderTest:
    """A service run as a real process (``python -m <module> serve``) for tests that kill it."""

    def __init__(self, module: str, env: dict[str, str], port: int) -> None:
        self.module = module
        self.env = os.environ | env | {"HTTP_PORT": str(port), "HTTP_HOST": "127.0.0.1"}
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def migrate(self) -> None:
        subprocess.run([sys.executable, "-m", self.module, "migrate"], env=self.env, check=True,
                       capture_output=True)

    async def start(self, within: float = 30.0) -> None:
        # Popen returns at once; the wait for readiness below is asynchronous.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", self.module, "serve"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        async with httpx.AsyncClient() as client:
            await eventually(lambda: self._ready(client), within=within)
        # Each HTTP worker listens on a socket of its own once its app has started; a
        # connection opened before the last one listens stays with the others.
        await eventually(self._all_workers_listen, within=within)

    @property
    def http_workers(self) -> int:
        return int(self.env.get("HTTP_WORKERS", "1"))

    def listening_processes(self) -> set[int]:
        """The processes of the service that listen on its port."""
        assert self.process is not None
        tree = psutil.Process(self.process.pid)
        return {
            process.pid
            for process in (tree, *tree.children(recursive=True))
            if any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port
                   for c in _connections(process))
        }

    def _all_workers_listen(self) -> bool:
        self._raise_if_exited()
        return len(self.listening_processes()) >= self.http_workers

    def _raise_if_exited(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.module} exited with {self.process.returncode}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)

    async def _ready(self, client: httpx.AsyncClient) -> bool:
        self._raise_if_exited()
        try:
            return (await client.get(f"{self.url}/readyz", timeout=2)).status_code == 200
        except httpx.TransportError:
            return False


_CORE = (("touchpoint", "crm_touchpoint"), ("profile", "crm_profile"),
         ("customer_view", "crm_customer_view"))


@asynccontextmanager
async def core_pipeline(
    database_url: str, bootstrap: str, api_key: str, extra_env: dict[str, str] | None = None,
) -> AsyncIterator[dict[str, ServiceUnderTest]]:
    """Touchpoint, profile and customer view as real processes on fresh schemas and
    consumer groups, each knowing ``api_key`` with every scope."""
    from crm_eventstore import create_engine
    from crm_messaging import create_topics
    from crm_servicekit.apikeys import ApiKeyStore

    await create_topics(bootstrap)
    run = uuid.uuid4().hex[:8]
    services: dict[str, ServiceUnderTest] = {}
    for name, module in _CORE:
        schema = f"{name}_{run}"
        services[name] = ServiceUnderTest(module, {
            "DATABASE_URL": database_url, "DB_SCHEMA": schema, "LOG_LEVEL": "WARNING",
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "IDENTITY_CONSUMER_GROUP": f"identity.{run}", "VIEW_CONSUMER_GROUP": f"view.{run}",
            "ERASURE_CONSUMER_GROUP": f"erasure.{run}",
            **(extra_env or {})}, _free_port())
        services[name].migrate()
        engine = create_engine(database_url, schema)
        await ApiKeyStore(engine).register(api_key, "pipeline", ["admin"])
        await engine.dispose()
    try:
        for service in services.values():
            await service.start()
        yield services
    finally:
        for service in services.values():
            service.stop()


def free_offset(ports: Iterable[int]) -> int:
    """A shift that puts every one of ``ports`` on a port free now, kept below the
    kernel's ephemeral range (32768+) where client connections come and go."""
    wanted = list(ports)
    rng = random.Random()
    for _ in range(500):
        offset = rng.randrange(1_000, 32_000 - max(wanted))
        if all(port_is_free(port + offset) for port in wanted):
            return offset
    raise RuntimeError("no free block of ports found")


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
