"""The touchpoint app in-process, through its real lifespan, on the real Postgres and broker."""

from collections.abc import AsyncIterator

import httpx
import pytest
from touchpoint_samples import Keys

from crm_devstack.testing import create_topic, service_client
from crm_eventstore import create_engine
from crm_messaging import create_topics
from crm_servicekit.apikeys import ApiKeyStore
from crm_touchpoint.bootstrap import SERVICE, build_app
from crm_touchpoint.settings import TouchpointSettings


@pytest.fixture
async def settings(postgres_url: str, kafka_bootstrap: str,
                   schema_name: str) -> TouchpointSettings:
    # Erasure notices come from a topic of the test's own: the session's crm.erasures.v1
    # holds every other test's notices.
    erasures = f"test.erasures.{schema_name}"
    await create_topic(kafka_bootstrap, erasures, partitions=1)
    return TouchpointSettings(database_url=postgres_url, db_schema=schema_name,
                              kafka_bootstrap_servers=kafka_bootstrap, erasures_topic=erasures,
                              erasure_consumer_group=f"test.erasure.{schema_name}")


@pytest.fixture
async def keys(settings: TouchpointSettings, kafka_bootstrap: str) -> Keys:
    await create_topics(kafka_bootstrap)
    await SERVICE.migrate(settings)
    engine = create_engine(settings.database_url, settings.db_schema)
    store = ApiKeyStore(engine)
    try:
        made = [await store.create(name, scopes, channels)
                for name, scopes, channels in (
                    ("writer", ["touchpoints:write"], None),
                    ("reader", ["touchpoints:read"], None),
                    ("web", ["touchpoints:write"], ["web"]),
                    ("nothing", ["customers:read"], None))]
    finally:
        await engine.dispose()
    return Keys(*(plaintext for _, plaintext in made))


@pytest.fixture
async def client(settings: TouchpointSettings, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(build_app(settings)) as client:
        yield client
