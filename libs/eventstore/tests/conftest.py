from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_eventstore import EVENT_STORE_MIGRATIONS, EventStore, create_engine, migrate


@pytest.fixture
async def engine(postgres_url: str, schema_name: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, schema_name, pool_size=25)
    await migrate(engine, schema_name, [EVENT_STORE_MIGRATIONS])
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> EventStore:
    return EventStore(engine)
