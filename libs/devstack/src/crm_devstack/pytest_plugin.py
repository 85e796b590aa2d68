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
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from crm_devstack.broker import EmbeddedBroker
from crm_devstack.ports import free_port
from crm_devstack.postgres import EmbeddedPostgres


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
