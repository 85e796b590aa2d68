"""The app factory: every service's FastAPI app is made here, the same way.

Nothing connects at import time. The lifespan makes the engine, the Kafka
producer and the API-key store, starts the workers, and undoes it all in reverse
order on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from enum import StrEnum
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig

from crm_eventstore.db import create_engine
from crm_messaging import KeyVault
from crm_servicekit.apikeys.store import ApiKeyStore
from crm_servicekit.context import ServiceContext
from crm_servicekit.direct_routes import DirectRoute, DirectRoutesMiddleware, check_declared
from crm_servicekit.health import health_router
from crm_servicekit.middleware import (
    BodySizeLimitMiddleware,
    ObservabilityMiddleware,
    TraceMiddleware,
    UnhandledErrorMiddleware,
)
from crm_servicekit.openapi import with_problem_schemas
from crm_servicekit.problem_handlers import install_problem_handlers
from crm_servicekit.readiness import ReadinessCheck, kafka_check, postgres_check, workers_check
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.workers import Worker, WorkerGroup

__all__ = ["ProcessRole", "ServiceApp", "create_app"]

_log = logging.getLogger("crm_servicekit.app")
_NO_FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


class ProcessRole(StrEnum):
    """What a process running the app does: everything (one process), only HTTP, or only
    the background workers (see ``runner.serve_processes``)."""

    ALL = "all"
    HTTP = "http"
    BACKGROUND = "background"


class ServiceApp(FastAPI):
    """A FastAPI app whose OpenAPI description documents problem responses.

    ``process_role`` (``ALL`` unless the runner says otherwise before startup) decides
    which workers the lifespan starts.
    """

    process_role: ProcessRole = ProcessRole.ALL

    def openapi(self) -> dict[str, Any]:
        return with_problem_schemas(super().openapi())


def create_app(
    settings: ServiceSettings,
    *,
    routers: Sequence[APIRouter] = (),
    direct: Sequence[DirectRoute] = (),
    workers: Sequence[Worker] = (),
    background: Sequence[Worker] = (),
    readiness: Sequence[ReadinessCheck] = (),
    version: str = "0.1.0",
) -> ServiceApp:
    """Make a service's app: its routers plus health, metrics, problems and middleware.

    ``workers`` run as tasks in every process that serves HTTP (the request path needs
    them, e.g. a group committer); ``background`` workers (relays, consumers) run in the
    one process that does background work, so that their work never stalls requests
    when there are several processes. ``readiness`` adds checks to the built-in
    Postgres, Kafka and workers checks of ``/readyz``. ``direct`` routes (declared on
    one of ``routers`` too) are answered without FastAPI's router: see ``direct_routes``.
    """
    groups = {ProcessRole.HTTP: WorkerGroup(workers),
              ProcessRole.BACKGROUND: WorkerGroup(background)}
    app = ServiceApp(title=settings.service_name, version=version,
                     openapi_url="/openapi.json", lifespan=_lifespan(settings, groups),
                     # Traces and metrics are our own (middleware): FastAPI's OpenTelemetry
                     # hooks would ask the (unconfigured) OTel providers on every request.
                     telemetry=_NO_FASTAPI_TELEMETRY)
    app.state.background = groups[ProcessRole.BACKGROUND]
    app.state.readiness = (postgres_check, kafka_check, workers_check(*groups.values()),
                           *readiness)
    install_problem_handlers(app)
    # Added innermost first: the last one added is the outermost.
    if direct:
        app.add_middleware(DirectRoutesMiddleware, routes=direct)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(ObservabilityMiddleware)
    app.add_middleware(TraceMiddleware)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    check_declared(direct, [route for router in routers for route in router.routes])
    return app


def _lifespan(
    settings: ServiceSettings, groups: dict[ProcessRole, WorkerGroup]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            engine = create_engine(settings.database_url, settings.db_schema)
            stack.push_async_callback(engine.dispose)
            producer = await _start_producer(settings)
            stack.push_async_callback(producer.stop)
            vault_engine = create_engine(settings.vault_database_url, settings.vault_schema,
                                         pool_size=2)
            stack.push_async_callback(vault_engine.dispose)
            api_keys = ApiKeyStore(engine, cache_seconds=settings.api_key_cache_seconds)
            stack.push_async_callback(api_keys.settle)  # before the engine is disposed
            app.state.ctx = ServiceContext(settings, engine, producer, api_keys,
                                           KeyVault(vault_engine))
            role = app.process_role if isinstance(app, ServiceApp) else ProcessRole.ALL
            for group_role, group in groups.items():
                if role in (ProcessRole.ALL, group_role):
                    group.start(app.state.ctx)
                    stack.push_async_callback(group.stop, settings.shutdown_grace_seconds)
            _log.info("%s started", settings.service_name, extra={
                "schema": settings.db_schema, "kafka": settings.kafka_bootstrap_servers})
            yield
            _log.info("%s stopping", settings.service_name)

    return lifespan


async def _start_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        acks="all",
        # The embedded broker (Tansu) has no idempotent producer support.
        enable_idempotence=False,
        linger_ms=5,
    )
    try:
        await producer.start()
    except BaseException:
        await producer.stop()
        raise
    return producer
