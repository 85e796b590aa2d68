"""Liveness, readiness (real Postgres and Kafka) and workers started with the app."""

import asyncio

import httpx

from crm_devstack.ports import free_port
from crm_devstack.testing import eventually
from crm_servicekit import NotReadyError, ReadinessCheck, ServiceContext, ServiceSettings

PROBLEM = "application/problem+json"


async def test_liveness_is_always_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_ready_when_postgres_kafka_and_workers_are_fine(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {c["name"]: c["status"] for c in body["checks"]} == {
        "postgres": "ok", "kafka": "ok", "workers": "ok"}


async def test_not_ready_when_the_database_is_unreachable(
    running, settings: ServiceSettings,  # type: ignore[no-untyped-def]
) -> None:
    nowhere = f"postgresql://crm:secret@127.0.0.1:{free_port()}/crm"
    async with running(settings.model_copy(update={"database_url": nowhere})) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:crm:problem:not-ready"
    assert "postgres" in body["detail"]
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["postgres"]["status"] == "failed"
    assert checks["kafka"]["status"] == "ok"
    assert "secret" not in response.text, "no connection details leak"


async def test_a_slow_check_fails_on_the_timeout(
    running, settings: ServiceSettings,  # type: ignore[no-untyped-def]
) -> None:
    async def hangs(_: ServiceContext) -> None:
        await asyncio.sleep(60)

    fast = settings.model_copy(update={"readiness_timeout_seconds": 0.2})
    async with running(fast, readiness=[ReadinessCheck("search", hangs)]) as client:
        response = await client.get("/readyz")

    checks = {c["name"]: c for c in response.json()["checks"]}
    assert response.status_code == 503
    assert checks["search"] == {"name": "search", "status": "failed",
                                "duration_ms": checks["search"]["duration_ms"],
                                "reason": "timed out after 0.2s"}


async def test_a_custom_check_reports_its_own_reason(
    running, settings: ServiceSettings,  # type: ignore[no-untyped-def]
) -> None:
    async def replaying(_: ServiceContext) -> None:
        raise NotReadyError("replaying history: 40% done")

    async with running(settings, readiness=[ReadinessCheck("replay", replaying)]) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    [replay] = [c for c in response.json()["checks"] if c["name"] == "replay"]
    assert replay["reason"] == "replaying history: 40% done"


async def test_workers_get_the_context_and_are_cancelled_on_shutdown(
    running, settings: ServiceSettings,  # type: ignore[no-untyped-def]
) -> None:
    seen: list[ServiceContext] = []
    cancelled = asyncio.Event()

    async def relay(ctx: ServiceContext) -> None:
        seen.append(ctx)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with running(settings, workers=[relay]) as client:
        await asyncio.sleep(0)
        assert (await client.get("/readyz")).status_code == 200
        assert not cancelled.is_set()
        [ctx] = seen
        assert ctx is client.app.state.ctx  # type: ignore[attr-defined]
        assert ctx.settings.db_schema == settings.db_schema

    assert cancelled.is_set()


async def test_a_crashed_worker_is_logged_and_makes_the_service_not_ready(
    running, settings: ServiceSettings, json_logs,  # type: ignore[no-untyped-def]
) -> None:
    async def consumer(_: ServiceContext) -> None:
        raise ConnectionError("broker went away")

    async with running(settings, workers=[consumer]) as client:
        async def reports_not_ready() -> bool:
            return (await client.get("/readyz")).status_code == 503

        await eventually(reports_not_ready, within=10)
        response = await client.get("/readyz")

    assert response.status_code == 503
    [workers] = [c for c in response.json()["checks"] if c["name"] == "workers"]
    assert workers["status"] == "failed"
    assert "consumer" in workers["reason"] and "ConnectionError" in workers["reason"]
    [logged] = [line for line in json_logs() if line["logger"] == "crm_servicekit.workers"]
    assert logged["level"] == "ERROR" and "broker went away" in logged["exception"]


async def test_the_context_dependency_gives_routes_the_service_resources(
    running, settings: ServiceSettings,  # type: ignore[no-untyped-def]
) -> None:
    from typing import Annotated

    from fastapi import APIRouter, Depends
    from sqlalchemy import text

    from crm_servicekit import create_app, get_context

    router = APIRouter()

    @router.get("/db-time")
    async def db_time(ctx: Annotated[ServiceContext, Depends(get_context)]) -> dict[str, str]:
        async with ctx.engine.connect() as conn:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
        return {"schema": str(schema), "service": ctx.settings.service_name}

    app = create_app(settings, routers=[router])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            response = await client.get("/db-time")

    assert response.json() == {"schema": settings.db_schema, "service": "kit-test"}
