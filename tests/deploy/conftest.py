from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_devstack.compose_local import ComposeProject, load_compose, read_env_file
from crm_devstack.testing import create_topic
from crm_eventstore import EVENT_STORE_MIGRATIONS, EventStore, create_engine, migrate
from crm_messaging import INBOX_MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
HA_ENV = ROOT / "deploy" / "ha.env"


@pytest.fixture(scope="session")
def compose() -> ComposeProject:
    """docker-compose.yml as an operator's .env copied from deploy/.env.example makes it."""
    return load_compose(COMPOSE_FILE, read_env_file(ENV_EXAMPLE))


@pytest.fixture
async def engine(postgres_url: str, schema_name: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, schema_name)
    await migrate(engine, schema_name, [EVENT_STORE_MIGRATIONS, INBOX_MIGRATIONS])
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> EventStore:
    return EventStore(engine)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=2)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def topic(kafka_bootstrap: str, topic_name: str) -> str:
    await create_topic(kafka_bootstrap, topic_name, partitions=3)
    return topic_name
