import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_devstack.testing import create_topic, service_client
from crm_eventstore import create_engine
from crm_messaging import create_topics
from crm_profile.bootstrap import SERVICE, build_app
from crm_profile.settings import ProfileSettings
from crm_servicekit.apikeys import ApiKeyStore


@pytest.fixture
async def settings(postgres_url: str, kafka_bootstrap: str, schema_name: str) -> ProfileSettings:
    topic = f"test.touchpoints.{uuid.uuid4().hex[:8]}"
    await create_topics(kafka_bootstrap)
    await create_topic(kafka_bootstrap, topic)
    settings = ProfileSettings(database_url=postgres_url, db_schema=schema_name,
                               kafka_bootstrap_servers=kafka_bootstrap, touchpoints_topic=topic,
                               identity_consumer_group=f"test.identity.{schema_name}")
    await SERVICE.migrate(settings)
    return settings


@pytest.fixture
async def engine(settings: ProfileSettings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url, settings.db_schema)
    yield engine
    await engine.dispose()


@pytest.fixture
async def reader_key(engine: AsyncEngine) -> str:
    _, plaintext = await ApiKeyStore(engine).create("reader", ["profiles:read"])
    return plaintext


@pytest.fixture
async def client(settings: ProfileSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(build_app(settings)) as client:
        yield client
