"""Readiness checks: can this instance do its work right now?

Each check is a coroutine that returns when its dependency is usable and raises
otherwise. They run concurrently, each bounded by a timeout. The reason reported
for a failure is the message of a :class:`NotReadyError`, else only the exception
type, so that no connection string or internal detail reaches the response.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import text

from crm_servicekit.context import ServiceContext
from crm_servicekit.workers import WorkerGroup

__all__ = [
    "CheckResult",
    "NotReadyError",
    "ReadinessCheck",
    "kafka_check",
    "postgres_check",
    "run_checks",
    "workers_check",
]

Probe = Callable[[ServiceContext], Awaitable[None]]

_log = logging.getLogger("crm_servicekit.readiness")


class NotReadyError(Exception):
    """A check's failure, with a message that is safe to show in ``/readyz``."""


@dataclass(frozen=True)
class ReadinessCheck:
    """A named probe; it passes when ``probe(ctx)`` returns without raising."""

    name: str
    probe: Probe


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    ok: bool
    duration_ms: float
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"name": self.name, "status": "ok" if self.ok else "failed",
                                   "duration_ms": self.duration_ms}
        if self.reason:
            body["reason"] = self.reason
        return body


async def _select_one(ctx: ServiceContext) -> None:
    async with ctx.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _kafka_metadata(ctx: ServiceContext) -> None:
    await ctx.producer.client.fetch_all_metadata()


postgres_check = ReadinessCheck("postgres", _select_one)
kafka_check = ReadinessCheck("kafka", _kafka_metadata)


def workers_check(*groups: WorkerGroup) -> ReadinessCheck:
    """Fails while any worker of ``groups`` has crashed."""

    async def probe(_: ServiceContext) -> None:
        crashed = {name: exc for group in groups for name, exc in group.crashed().items()}
        if crashed:
            names = ", ".join(f"{name} ({type(exc).__name__})" for name, exc in crashed.items())
            raise NotReadyError(f"crashed: {names}")

    return ReadinessCheck("workers", probe)


async def run_checks(
    checks: Sequence[ReadinessCheck], ctx: ServiceContext, time_limit: float
) -> list[CheckResult]:
    """Run ``checks`` concurrently, each within ``time_limit`` seconds."""
    return list(await asyncio.gather(*(_run_one(check, ctx, time_limit) for check in checks)))


async def _run_one(check: ReadinessCheck, ctx: ServiceContext, time_limit: float) -> CheckResult:
    started = time.perf_counter()
    reason: str | None = None
    try:
        async with asyncio.timeout(time_limit):
            await check.probe(ctx)
    except TimeoutError:
        reason = f"timed out after {time_limit:g}s"
    except NotReadyError as exc:
        reason = str(exc)
    except Exception as exc:  # any failure of the dependency means "not ready"
        reason = type(exc).__name__
        _log.warning("readiness check %s failed: %r", check.name, exc,
                     extra={"check": check.name})
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    return CheckResult(check.name, reason is None, elapsed, reason)
