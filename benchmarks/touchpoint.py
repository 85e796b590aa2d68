"""Touchpoint ingestion: batch throughput into the store and onto Kafka, single-event rate
and latency, beside a bare pydantic-validating FastAPI endpoint measured in the same run.

Targets (issue 3, this 2-core machine, everything local): >= 15,000 events/s through
the batch endpoint into the store and onto Kafka; single events >= 3,000 requests/s
with p99 < 25 ms at 1,000 requests/s.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

from sqlalchemy import text

from benchmarks.harness import Measurement, Report, Stack
from benchmarks.loadgen import LoadResult, fixed_rate, max_rate, request_bytes
from crm_devstack.ports import free_port, wait_for_port
from crm_devstack.testing import ServiceUnderTest
from crm_eventstore import create_engine
from crm_messaging import create_topics
from crm_servicekit.apikeys import ApiKeyStore

BATCH = 500
SECONDS = 5.0
FIXED_RATE = 1_000.0
HTTP_WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "2"))

_EVENT = (
    '{{"event_id":"{id}","channel":"web","type":"page_view",'
    '"occurred_at":"2026-11-20T10:00:00Z",'
    '"identifiers":{{"email":"user{n}@example.com","anonymous_id":"anon-{n}"}},'
    '"traits":{{"city":"Lyon"}},'
    '"properties":{{"url":"https://shop.example.com/p/{n}","title":"Product"}}}}'
)


def _event_json() -> str:
    n = uuid.uuid4()
    return _EVENT.format(id=n, n=n.int % 100_000)


def _single(key: str | None) -> bytes:
    return request_bytes("/v1/touchpoints", _event_json().encode(), key)


def _batch(key: str | None) -> bytes:
    body = '{"events":[' + ",".join(_event_json() for _ in range(BATCH)) + "]}"
    return request_bytes("/v1/touchpoints/batch", body.encode(), key)


async def run(stack: Stack, report: Report) -> None:
    print("touchpoint: ingestion over HTTP", flush=True)
    bare = await _measure_bare()
    await _measure_service(stack, report, bare)


async def _measure_bare() -> dict[str, LoadResult]:
    port = free_port()
    # Popen returns at once; the benchmark runs while the server process lives.
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.bare_app", str(port)])  # noqa: ASYNC220
    try:
        wait_for_port(port, "bare app", 20)
        return {
            "batch": await max_rate(port, lambda: _batch(None), connections=4, seconds=SECONDS),
            "single": await max_rate(port, lambda: _single(None), connections=32, seconds=SECONDS),
            "fixed": await fixed_rate(
                port, lambda: _single(None), rate=FIXED_RATE, seconds=SECONDS
            ),
        }
    finally:
        process.terminate()
        process.wait()


async def _measure_service(stack: Stack, report: Report, bare: dict[str, LoadResult]) -> None:
    await create_topics(stack.bootstrap_servers)
    schema = "bench_touchpoint"
    service = ServiceUnderTest(
        "crm_touchpoint",
        {
            "DATABASE_URL": stack.database_url,
            "DB_SCHEMA": schema,
            "LOG_LEVEL": "WARNING",
            "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "RATE_LIMIT_EVENTS_PER_SECOND": "1000000",
            "RATE_LIMIT_BURST_EVENTS": "1000000",
            "HTTP_WORKERS": str(HTTP_WORKERS),
        },
        free_port(),
    )
    service.migrate()
    engine = create_engine(stack.database_url, schema)
    _, key = await ApiKeyStore(engine).create("bench", ["touchpoints:write"])
    await service.start()
    try:
        started = time.perf_counter()
        batch = await max_rate(service.port, lambda: _batch(key), connections=4, seconds=SECONDS)
        await _outbox_drained(engine)
        onto_kafka = batch.requests * BATCH / (time.perf_counter() - started)
        single = await max_rate(service.port, lambda: _single(key), connections=32, seconds=SECONDS)
        await asyncio.sleep(1)
        fixed = await fixed_rate(
            service.port, lambda: _single(key), rate=FIXED_RATE, seconds=SECONDS
        )
    finally:
        service.stop()
        await engine.dispose()
    _report(report, bare, batch, onto_kafka, single, fixed)


async def _outbox_drained(engine: object) -> None:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        while (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one():
            await conn.commit()
            await asyncio.sleep(0.05)


def _report(
    report: Report,
    bare: dict[str, LoadResult],
    batch: LoadResult,
    onto_kafka: float,
    single: LoadResult,
    fixed: LoadResult,
) -> None:
    bare_batch = bare["batch"].rate * BATCH
    group = f"touchpoint ({HTTP_WORKERS} proc)"
    report.add(
        Measurement("baseline", f"bare FastAPI batch of {BATCH}, 4 clients", bare_batch, "events/s")
    )
    report.add(
        Measurement(
            group,
            f"batch of {BATCH} accepted (202 = committed), 4 clients",
            batch.rate * BATCH,
            "events/s",
            "bare FastAPI batch",
            bare_batch,
            note=_statuses(batch),
        )
    )
    report.add(
        Measurement(
            group,
            "batch: into the store and onto Kafka (outbox drained)",
            onto_kafka,
            "events/s",
            "bare FastAPI batch",
            bare_batch,
            note="target >= 15,000",
        )
    )
    report.add(
        Measurement(
            "baseline", "bare FastAPI single event, 32 clients", bare["single"].rate, "req/s"
        )
    )
    report.add(
        Measurement(
            group,
            "single event, 32 clients",
            single.rate,
            "req/s",
            "bare FastAPI single",
            bare["single"].rate,
            note=f"target >= 3,000; {_statuses(single)}",
        )
    )
    for name, result in (("bare FastAPI", bare["fixed"]), (group, fixed)):
        for p in (50, 99):
            report.add(
                Measurement(
                    "baseline" if result is bare["fixed"] else group,
                    f"{name} single event p{p} at {FIXED_RATE:,.0f} req/s",
                    result.percentile(p),
                    "ms",
                    note="target p99 < 25 ms" if p == 99 and result is fixed else "",
                )
            )


def _statuses(result: LoadResult) -> str:
    return "status " + ", ".join(
        f"{code}: {count}" for code, count in sorted(result.statuses.items())
    )
