"""Fixtures: a service app built with create_app, run through its real lifespan
against the session's real Postgres and Kafka, and a client talking to it in-process."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_eventstore.db import create_engine
from crm_eventstore.migrations import migrate
from crm_messaging.tracing import current_trace
from crm_servicekit import Problem, ServiceSettings, create_app, problem_responses
from crm_servicekit.apikeys import API_KEYS_MIGRATIONS, ApiKey, ApiKeyStore, require_scope
from crm_servicekit.direct_routes import DirectRoute
from crm_servicekit.logging import JsonFormatter
from crm_servicekit.readiness import ReadinessCheck
from crm_servicekit.workers import Worker

# -- a small API standing in for a service's routes ------------------------------------

probe_router = APIRouter(prefix="/v1")


class NewThing(BaseModel):
    name: str = Field(min_length=1)
    count: int = Field(ge=0)
    tags: list[str] = []


@probe_router.get("/things/{thing_id}", responses=problem_responses(401, 403, 404))
async def read_thing(
    thing_id: int, key: Annotated[ApiKey, Depends(require_scope("touchpoints:read"))]
) -> dict[str, object]:
    return {"id": thing_id, "key_id": key.key_id}


@probe_router.post("/things", status_code=201)
async def create_thing(
    thing: NewThing, key: Annotated[ApiKey, Depends(require_scope("touchpoints:write"))]
) -> dict[str, object]:
    return {"name": thing.name, "key_id": key.key_id}


@probe_router.post("/uploads")
async def upload(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}


@probe_router.get("/boom")
async def boom() -> None:
    raise RuntimeError("connection to db-internal-7.corp:5432 refused")


@probe_router.get("/conflict")
async def conflict() -> None:
    raise Problem(409, "Version conflict", "Expected version 3, found 4.",
                  slug="version-conflict", extensions={"expected_version": 3})


@probe_router.get("/customers/{customer_id}")
async def missing_customer(customer_id: str) -> None:
    raise HTTPException(404, f"Customer {customer_id} was not found.")


@probe_router.get("/trace")
async def trace() -> dict[str, str]:
    current = current_trace()
    return {"correlation_id": current.correlation_id, "trace_id": current.trace_id}


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def settings(postgres_url: str, kafka_bootstrap: str, schema_name: str) -> ServiceSettings:
    return ServiceSettings(
        service_name="kit-test", database_url=postgres_url, db_schema=schema_name,
        kafka_bootstrap_servers=kafka_bootstrap, http_port=0, api_key_cache_seconds=0,
    )


@pytest.fixture
async def engine(postgres_url: str, schema_name: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, schema_name, pool_size=2)
    await migrate(engine, schema_name, [API_KEYS_MIGRATIONS])
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> ApiKeyStore:
    return ApiKeyStore(engine, cache_seconds=0)


Running = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def running(engine: AsyncEngine) -> Running:
    """Start an app made by create_app (lifespan included) and yield a client for it."""

    @asynccontextmanager
    async def run(
        settings: ServiceSettings,
        *,
        workers: Sequence[Worker] = (),
        readiness: Sequence[ReadinessCheck] = (),
        routers: Sequence[APIRouter] = (),
        direct: Sequence[DirectRoute] = (),
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings, routers=[probe_router, *routers], direct=direct,
                         workers=workers, readiness=readiness)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return run


@pytest.fixture
async def client(running: Running, settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings) as client:
        yield client


@pytest.fixture
async def keys(store: ApiKeyStore) -> dict[str, str]:
    """Plaintext keys by role: reader, writer, admin."""
    made = {}
    for role, scopes in {"reader": ["touchpoints:read"], "writer": ["touchpoints:write"],
                         "admin": ["admin"]}.items():
        _, made[role] = await store.create(role, scopes)
    return made


@pytest.fixture
def json_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Capture what the servicekit loggers write, as parsed JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("kit-test"))
    logger = logging.getLogger("crm_servicekit")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)
