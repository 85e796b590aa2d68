"""The customer view: freshness (202 at the touchpoint service -> readable in the view)
at a steady rate, and lookup latency by id and by email at 500 requests/s from 32
connections. Targets (issue 5): freshness p99 < 500 ms at 1,000 events/s; lookup p99
< 20 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
import uuid
from functools import partial
from urllib.parse import quote

import httpx
from aiokafka import ConsumerRecord
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import text

from benchmarks.harness import MachineBusy, Measurement, Report, Stack
from benchmarks.loadgen import fixed_rate, get_request_bytes, request_bytes
from crm.common.v1.envelope_pb2 import Envelope
from crm.profiles.v1.profiles_pb2 import TouchpointAttributed
from crm_customer_view.app.rebuild import rebuild
from crm_customer_view.settings import CustomerViewSettings
from crm_devstack.testing import core_pipeline, eventually, read_topic
from crm_eventstore import create_engine
from crm_touchpoint.app.recording import stream_id

KEY = "crm_benchView_" + "b" * 40
# The issue asks for 1,000 events/s. The three services, Postgres, the broker and this
# load generator share two cores: each new visitor's event posted alone costs them ~2.1
# ms of CPU in all at 1,000/s, so the pipeline runs close to saturation there. Measured
# at 200/s (keeping up) and at 1,000/s (the target); BENCH_FRESHNESS_RATES
# (comma-separated) for others.
RATES = [int(r) for r in os.environ.get("BENCH_FRESHNESS_RATES", "200,1000").split(",")]
# Events per request (BENCH_FRESHNESS_BATCH): 1 posts each event alone (a call center);
# more posts them through the batch endpoint (a web site's tag flushing its queue).
BATCH = int(os.environ.get("BENCH_FRESHNESS_BATCH", "1"))
# Seconds at each rate (BENCH_FRESHNESS_SECONDS): a p99 over 10 s (10,000 events at
# 1,000/s) turns on one or two slow episodes, and moves a lot from run to run.
SECONDS = int(os.environ.get("BENCH_FRESHNESS_SECONDS", "10"))
# Where freshness goes, event by event (see _stages).
STAGES = ("touchpoint relay", "identity resolution", "profile relay", "view")
_ATTRIBUTED = TouchpointAttributed.DESCRIPTOR.full_name
# A touchpoint's id follows from its person's email: the stages are matched by it.
_IDS = uuid.UUID("6f1c8a52-3a57-4c41-9d8e-5b0f3c7e2a10")
LOOKUP_RATE = 500.0
LOOKUP_SECONDS = 10.0


def _event(n: int, run: str) -> dict[str, object]:
    email = f"v{run}.{n}@example.com"
    return {
        "event_id": str(uuid.uuid5(_IDS, email)),
        "channel": "web",
        "type": "page_view",
        "occurred_at": "2026-11-20T10:00:00Z",
        "identifiers": {"email": email, "anonymous_id": f"a-{run}-{n}"},
        "properties": {"url": "https://shop.example.com/"},
    }


async def run(stack: Stack, report: Report) -> None:
    print("customer view: freshness and lookups", flush=True)
    # Each service as one process (the default deployment). With two cores for everything,
    # more processes cost more than they give: two HTTP and two background processes per
    # service took ~2.9 ms of CPU per event instead of ~2.1, and freshness p99 at 1,000/s
    # was 4.2-5.9 s instead of 0.8-2.4 s (docs/reliability.md, Processes).
    async with core_pipeline(stack.database_url, stack.bootstrap_servers, KEY) as services:
        run_id = uuid.uuid4().hex[:6]
        schema = services["customer_view"].env["DB_SCHEMA"]
        engine = create_engine(stack.database_url, schema)
        accepted: dict[str, float] = {}
        try:
            await _warm_up(services["touchpoint"].port, engine)
            for rate in RATES:
                with MachineBusy() as machine:
                    posted = await _post_steadily(services["touchpoint"].port,
                                                  f"{run_id}{rate}", rate)
                accepted |= posted
                # Every event so far, the warm-up's included.
                await eventually(partial(_visible, engine, len(accepted) + 10), within=600)
                visible = await _visible_at(engine, posted)
                _report_freshness(report, rate, sorted(
                    (visible[email] - at) * 1000 for email, at in posted.items()
                    if email in visible))
                _report_stages(report, rate, await _stages(stack.bootstrap_servers, visible))
                _report_busy(report, rate, machine)
        finally:
            await engine.dispose()
        # The read path alone: the writers stop, the view's consumer has caught up.
        services["touchpoint"].stop()
        services["profile"].stop()
        await _lookups(services["customer_view"].port, report, run_id, list(accepted))
        settings = CustomerViewSettings(database_url=stack.database_url, db_schema=schema,
                                        kafka_bootstrap_servers=stack.bootstrap_servers)
        result = await rebuild(settings, f"{schema}_rebuild")
        report.add(Measurement("customer view", f"rebuild from crm.profiles.v1 "
                               f"({result.events:,} events)", result.rate, "events/s",
                               note="target >= 10,000"))


def _report_busy(report: Report, rate: int, machine: MachineBusy) -> None:
    if machine.share is not None:
        report.add(Measurement("customer view", f"machine busy while posting at {rate:,}/s",
                               machine.share * 100, "%",
                               note="every process, all cores: near 100, queues grow"))


def _report_freshness(report: Report, rate: int, lags: list[float]) -> None:
    for p in (50, 99):
        report.add(
            Measurement(
                "customer view",
                f"freshness p{p} at {rate:,}/s" + (f" (batches of {BATCH})" if BATCH > 1
                                                  else " (one event per request)"),
                _pct(lags, p),
                "ms",
                note="target p99 < 500 ms at 1,000/s" if p == 99 else "",
            )
        )


async def _warm_up(port: int, engine: object) -> None:
    """A few events through the whole path first: on a fresh broker each consumer's
    first group join takes seconds, which is start-up, not freshness."""
    warm = await _post_steadily(port, "warm", RATES[0], count=10)
    await eventually(lambda: _visible(engine, len(warm)), within=60)


async def _post_steadily(port: int, run_id: str, rate: int, count: int = 0,
                         ) -> dict[str, float]:
    """Post ``count`` events (``rate`` x SECONDS by default) at ``rate``/s; when each
    person's event was accepted (202)."""
    accepted: dict[str, float] = {}
    count = count or rate * SECONDS
    numbers = iter(range(count))

    batch = min(BATCH, count)

    def make() -> bytes:
        if batch == 1:
            body = _event(next(numbers), run_id)
            return request_bytes("/v1/touchpoints", json.dumps(body).encode(), KEY)
        events = [_event(next(numbers), run_id) for _ in range(batch)]
        return request_bytes("/v1/touchpoints/batch", json.dumps({"events": events}).encode(),
                             KEY)

    def note(request: bytes, status: int) -> None:
        if status == 202:  # fresh events: every one of a batch is accepted
            now = time.time()
            for email in _EMAIL.findall(request):
                accepted[email.decode()] = now

    await fixed_rate(port, make, rate=rate / batch, seconds=count / rate, connections=32,
                     on_answer=note)
    return accepted


_EMAIL = re.compile(rb'"email": ?"([^"]+)"')


async def _visible(engine: object, count: int) -> bool:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        done = (
            await conn.execute(
                text("SELECT count(*) FROM customer_identifiers WHERE type = 'email'")
            )
        ).scalar_one()
    return bool(done >= count)


async def _visible_at(engine: object, accepted: dict[str, float]) -> dict[str, float]:
    """When each accepted person's record last became readable in the view (epoch
    seconds): the commit of the transaction that wrote it. Its ``updated_at`` is earlier,
    by the rest of that transaction (measured: ~9 ms at p50, ~24 at p99, at 1,000/s)."""
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = await conn.execute(
            text(
                "SELECT i.value, extract(epoch FROM pg_xact_commit_timestamp(r.xmin))"
                " FROM customer_identifiers i JOIN customer_records r USING (customer_id)"
                " WHERE i.type = 'email'"
            )
        )
        return {email: float(at) for email, at in rows if email in accepted and at is not None}


async def _stages(bootstrap: str, visible: dict[str, float]) -> dict[str, list[float]]:
    """Each event's time (ms) in each stage, from the touchpoint service's commit: until
    its relay sent it to crm.touchpoints.v1, until identity resolution recorded its
    attribution, until the profile service's relay sent that to crm.profiles.v1, and
    until the view's record changed. Times are the envelopes' ``recorded_at`` and the
    records' Kafka timestamps (set by the producer when the relay sends); all clocks are
    this machine's."""
    sent: dict[str, tuple[str, float, float]] = {}  # envelope id -> (stream, times)
    for record, envelope in await _envelopes(bootstrap, "crm.touchpoints.v1"):
        sent[envelope.event_id] = (envelope.stream_id, _seconds(envelope.recorded_at),
                                   record.timestamp / 1000)
    attributed: dict[str, tuple[float, float]] = {}  # touchpoint's stream -> times
    for record, envelope in await _envelopes(bootstrap, "crm.profiles.v1"):
        if envelope.event_type == _ATTRIBUTED and envelope.causation_id in sent:
            attributed.setdefault(sent[envelope.causation_id][0], (
                _seconds(envelope.recorded_at), record.timestamp / 1000))
    by_stream = {stream: (recorded, published) for stream, recorded, published in sent.values()}
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for email, seen in visible.items():
        stream = stream_id(uuid.uuid5(_IDS, email))
        if stream not in by_stream or stream not in attributed:
            continue
        times = (*by_stream[stream], *attributed[stream], seen)
        for stage, start, end in zip(STAGES, times, times[1:], strict=False):
            stages[stage].append((end - start) * 1000)
    return {stage: sorted(lags) for stage, lags in stages.items()}


async def _envelopes(bootstrap: str, topic: str) -> list[tuple[ConsumerRecord, Envelope]]:
    return [(record, Envelope.FromString(record.value))
            for record in await read_topic(bootstrap, topic)]


def _seconds(timestamp: Timestamp) -> float:
    return timestamp.seconds + timestamp.nanos / 1e9


def _report_stages(report: Report, rate: int, stages: dict[str, list[float]]) -> None:
    for stage, lags in stages.items():
        for p in (50, 99):
            report.add(Measurement("customer view", f"freshness at {rate:,}/s, {stage} p{p}",
                                   _pct(lags, p), "ms", note=f"{len(lags):,} events"))


async def _lookups(port: int, report: Report, run_id: str, emails: list[str]) -> None:
    await asyncio.sleep(2)
    picker = random.Random(1)
    # Warm-up, not measured: each process's first requests open database connections,
    # prepare statements and fill the API key cache; steady state is what is measured.
    await fixed_rate(
        port,
        lambda: get_request_bytes(
            f"/v1/customers/lookup?type=email&value={quote(picker.choice(emails))}", KEY
        ),
        rate=LOOKUP_RATE,
        seconds=2,
        connections=32,
    )
    by_email = await fixed_rate(
        port,
        lambda: get_request_bytes(
            f"/v1/customers/lookup?type=email&value={quote(picker.choice(emails))}", KEY
        ),
        rate=LOOKUP_RATE,
        seconds=LOOKUP_SECONDS,
        connections=32,
    )
    async with httpx.AsyncClient() as client:
        ids = [
            (
                await client.get(
                    f"http://127.0.0.1:{port}/v1/customers/lookup",
                    params={"type": "email", "value": e},
                    headers={"Authorization": f"Bearer {KEY}"},
                )
            ).json()["customer_id"]
            for e in emails[:200]
        ]
    by_id = await fixed_rate(
        port,
        lambda: get_request_bytes(f"/v1/customers/{picker.choice(ids)}", KEY),
        rate=LOOKUP_RATE,
        seconds=LOOKUP_SECONDS,
        connections=32,
    )
    for name, result in (("by id", by_id), ("by email", by_email)):
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result.statuses.items()))
        for p in (50, 99):
            report.add(
                Measurement(
                    "customer view",
                    f"lookup {name} p{p} at 500 req/s, 32 conns",
                    result.percentile(p),
                    "ms",
                    note=f"target p99 < 20 ms; {statuses}" if p == 99 else "",
                )
            )


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else float("nan")
