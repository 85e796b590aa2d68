from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_devstack.testing import create_topic
from crm_eventstore import EVENT_STORE_MIGRATIONS, EventStore, create_engine, migrate
from crm_messaging import INBOX_MIGRATIONS


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
