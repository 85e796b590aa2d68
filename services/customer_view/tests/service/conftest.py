import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from crm_customer_view.bootstrap import SERVICE, build_app
from crm_customer_view.settings import CustomerViewSettings
from crm_devstack.testing import create_topic, service_client
from crm_eventstore import create_engine
from crm_messaging.topics import CUSTOMER_VIEW, create_topics
from crm_servicekit.apikeys import ApiKeyStore


@pytest.fixture
async def settings(
    postgres_url: str, kafka_bootstrap: str, schema_name: str
) -> CustomerViewSettings:
    topic = f"test.profiles.{uuid.uuid4().hex[:8]}"
    await create_topic(kafka_bootstrap, topic)
    await create_topics(kafka_bootstrap, (CUSTOMER_VIEW,))  # the changelog the view writes
    settings = CustomerViewSettings(
        database_url=postgres_url,
        db_schema=schema_name,
        kafka_bootstrap_servers=kafka_bootstrap,
        profiles_topic=topic,
        view_consumer_group=f"g.{schema_name}",
    )
    await SERVICE.migrate(settings)
    return settings


@pytest.fixture
async def keys(settings: CustomerViewSettings) -> dict[str, str]:
    engine = create_engine(settings.database_url, settings.db_schema)
    store = ApiKeyStore(engine)
    made = {
        "agent": (await store.create("agent", ["customers:read"]))[1],
        "pii": (await store.create("pii", ["customers:read", "customers:read:pii"]))[1],
    }
    await engine.dispose()
    return made


@pytest.fixture
async def client(settings: CustomerViewSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(build_app(settings)) as client:
        yield client
