"""Pytest fixtures: the real Postgres and Kafka-protocol broker, once per test session.

By default the embedded components (same as ``make run``) start in a temporary
directory on free ports. With ``CRM_TEST_CONTAINERS=1`` and a Docker engine that
answers, testcontainers' Postgres and Kafka are used instead. With
``CRM_TEST_DATABASE_URL`` / ``CRM_TEST_KAFKA`` set, those running servers are used.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_devstack.broker import EmbeddedBroker
from crm_devstack.ports import free_port
from crm_devstack.postgres import EmbeddedPostgres

if TYPE_CHECKING:
    from crm_eventstore import EventStore
    from crm_messaging import KeyVault


def pytest_configure(config: pytest.Config) -> None:
    # Services under test (in process or as child processes) join their consumer groups
    # in ~1.5s instead of ~5s: Tansu holds a new member's first join for half the session
    # timeout, and a test's app stopped during that hold waits for it to leave cleanly.
    os.environ.setdefault("CONSUMER_SESSION_TIMEOUT_MS", "3000")


def _use_containers() -> bool:
    return os.environ.get("CRM_TEST_CONTAINERS", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def _stack() -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        if _use_containers():
            yield _container_stack(stack)
            return
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-test-")))
        database_url = os.environ.get("CRM_TEST_DATABASE_URL")
        if not database_url:
            log = stack.enter_context(open(root / "postgres.log", "wb"))
            postgres = EmbeddedPostgres(root / "pg", free_port(), log=log)
            postgres.start()
            stack.callback(postgres.stop)
            database_url = postgres.url
        bootstrap = os.environ.get("CRM_TEST_KAFKA")
        if not bootstrap:
            broker = EmbeddedBroker(free_port())
            broker.start()
            stack.callback(broker.stop)
            bootstrap = broker.bootstrap_servers
        yield database_url, bootstrap


def _container_stack(stack: ExitStack) -> tuple[str, str]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    postgres = stack.enter_context(PostgresContainer("postgres:17", driver=None))
    kafka = stack.enter_context(KafkaContainer().with_kraft())
    return postgres.get_connection_url(), kafka.get_bootstrap_server()


@pytest.fixture(scope="session")
def postgres_url(_stack: tuple[str, str]) -> str:
    """URL of a real Postgres server (``postgresql://...``)."""
    return _stack[0]


@pytest.fixture(scope="session")
def kafka_bootstrap(_stack: tuple[str, str]) -> str:
    """``host:port`` of a real Kafka-protocol broker."""
    return _stack[1]


@pytest.fixture
def schema_name() -> str:
    """A fresh schema name, so every test owns its tables."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def topic_name() -> str:
    """A fresh topic name, so every test owns its messages."""
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def engine(postgres_url: str, schema_name: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh schema holding the event store and the consumer inbox."""
    from crm_eventstore import EVENT_STORE_MIGRATIONS, create_engine, migrate
    from crm_messaging import INBOX_MIGRATIONS

    engine = create_engine(postgres_url, schema_name, pool_size=25)
    await migrate(engine, schema_name, [EVENT_STORE_MIGRATIONS, INBOX_MIGRATIONS])
    yield engine
    await engine.dispose()


@pytest.fixture
async def vault(postgres_url: str) -> AsyncIterator[KeyVault]:
    """The key vault (schema ``vault``, shared by the session as by services)."""
    from crm_eventstore import create_engine, migrate
    from crm_messaging import VAULT_MIGRATIONS, KeyVault

    engine = create_engine(postgres_url, "vault", pool_size=2)
    await migrate(engine, "vault", [VAULT_MIGRATIONS])
    yield KeyVault(engine)
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> EventStore:
    """The event store of :func:`engine`'s schema."""
    from crm_eventstore import EventStore

    return EventStore(engine)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """A started Kafka producer (acks from every replica)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=2)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def topic(kafka_bootstrap: str, topic_name: str) -> str:
    """A fresh topic of three partitions, with its dead-letter topic."""
    from crm_devstack.testing import create_topic

    await create_topic(kafka_bootstrap, topic_name, partitions=3)
    return topic_name
