"""Operational endpoints: ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from crm_servicekit.problems import Problem
from crm_servicekit.readiness import CheckResult, ReadinessCheck, run_checks

__all__ = ["health_router"]

health_router = APIRouter(tags=["operations"])


@health_router.get("/healthz", summary="Liveness: the process is running")
async def healthz() -> dict[str, str]:
    """Always ``{"status": "ok"}`` while the process can answer at all."""
    return {"status": "ok"}


@health_router.get("/readyz", summary="Readiness: dependencies and workers are usable")
async def readyz(request: Request) -> Response:
    """200 with each check's status, or a 503 problem naming the checks that failed."""
    ctx = getattr(request.app.state, "ctx", None)
    checks: tuple[ReadinessCheck, ...] = getattr(request.app.state, "readiness", ())
    if ctx is None:
        return Problem(503, detail="The service has not finished starting.",
                       slug="not-ready").response(request.url.path)
    results = await run_checks(checks, ctx, ctx.settings.readiness_timeout_seconds)
    return _readiness_response(results, request.url.path)


def _readiness_response(results: list[CheckResult], path: str) -> Response:
    listed = [result.as_json() for result in results]
    failed = [result.name for result in results if not result.ok]
    if not failed:
        return JSONResponse({"status": "ready", "checks": listed})
    detail = f"Failing readiness checks: {', '.join(failed)}."
    return Problem(503, "Not ready", detail, slug="not-ready",
                   extensions={"checks": listed}).response(path)


@health_router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    """The default registry in the Prometheus text exposition format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
