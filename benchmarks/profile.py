"""Identity resolution: touchpoints attributed per second, and lag at a steady rate.

Target (issue 4, this 2-core machine): at least 5,000 touchpoints/s attributed; the
p99 lag (touchpoint recorded -> resolved) is reported at a steady 2,000/s. Three
backlogs: every touchpoint pairing identifiers never seen together (each one re-resolves
its component); returning web visitors (90% of touchpoints carry identifiers seen
together before, as most real traffic does, but their sign-ups are in the same backlog,
so most are resolved before their sign-up is); and the same visits once the sign-ups
were resolved (steady-state traffic: all returning customers).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from benchmarks.harness import Measurement, Report, Stack
from crm.common.v1.envelope_pb2 import Envelope
from crm.common.v1.types_pb2 import Identifier, IdentifierType
from crm.touchpoints.v1.touchpoints_pb2 import Channel, TouchpointRecorded
from crm_contracts import encode_envelope, pack_payload, to_timestamp
from crm_contracts.privacy import touchpoint_key_id
from crm_devstack.ports import free_port
from crm_devstack.testing import ServiceUnderTest, create_topic
from crm_eventstore import create_engine
from crm_messaging import KeyVault
from crm_messaging.envelopes import OutboundRecord
from crm_messaging.publishing import publish_all
from crm_messaging.sealing import seal

THROUGHPUT_TOUCHPOINTS = 10_000
# The issue asks for the lag at 2,000/s: measured so with returning visitors (most real
# traffic). Touchpoints that each pair identifiers anew are resolved at about 2,000/s at
# most (the worst-case backlog figure), where lag only grows: measured at 1,000/s.
STEADY_SECONDS = 10
STEADY_RATES = {"pairing anew": 1_000, "returning visitors": 2_000}


Record = tuple[str, bytes, Envelope]


async def _on_the_wire(vault: KeyVault, records: list[Record]) -> list[tuple[str, bytes, bytes]]:
    """The records as the touchpoint service publishes them: each payload sealed by the
    touchpoint's own key in the vault (issued a thousand at a time, as its relay does)."""
    wire = []
    for start in range(0, len(records), 1_000):
        part = records[start:start + 1_000]
        secrets = await vault.issue([touchpoint_key_id(event_id) for event_id, _, _ in part])
        for event_id, key, envelope in part:
            key_id = touchpoint_key_id(event_id)
            secret = secrets[key_id]
            assert secret is not None
            envelope.payload = seal(envelope.payload, event_id=event_id, secret=secret)
            envelope.sealed_by = key_id
            wire.append((event_id, key, encode_envelope(envelope)))
    return wire


def _people_touchpoints(count: int, seed: str) -> list[Record]:
    """(touchpoint id, key, envelope) for people who each show up on 4 touchpoints."""
    records = []
    for n in range(count // 4):
        ids = [
            (IdentifierType.IDENTIFIER_TYPE_CUSTOMER_NUMBER, f"{seed}-C{n}"),
            (IdentifierType.IDENTIFIER_TYPE_EMAIL, f"{seed}.{n}@example.com"),
            (IdentifierType.IDENTIFIER_TYPE_PHONE, f"+1{seed}{n:07d}"),
            (IdentifierType.IDENTIFIER_TYPE_ANONYMOUS_ID, f"{seed}-web-{n}"),
        ]
        for i in range(4):
            chosen = [ids[i], ids[(i + 1) % 4]]
            records.append(_record(chosen, i))
    return records


def _returning_touchpoints(count: int, seed: str) -> list[Record]:
    """(touchpoint id, key, envelope) for web sessions: each person signs up once (customer
    number, email, web id), then comes back 9 times with identifiers seen together before
    (the web id alone, or with the email): most real traffic looks like this."""
    records = []
    for n in range(count // 10):
        number = (IdentifierType.IDENTIFIER_TYPE_CUSTOMER_NUMBER, f"{seed}-R{n}")
        email = (IdentifierType.IDENTIFIER_TYPE_EMAIL, f"{seed}.r{n}@example.com")
        web = (IdentifierType.IDENTIFIER_TYPE_ANONYMOUS_ID, f"{seed}-rweb-{n}")
        records.append(_record([number, email, web], 0))
        records += [_record([web] if visit % 2 else [email, web], 1 + visit)
                    for visit in range(9)]
    return records


def _record(identifiers: list[tuple[IdentifierType, str]], minute: int) -> Record:
    when = to_timestamp(datetime(2026, 6, 1, tzinfo=UTC) + timedelta(minutes=minute))
    tp = TouchpointRecorded(
        event_id=str(uuid.uuid4()),
        channel=Channel.CHANNEL_WEB,
        type="page_view",
        occurred_at=when,
        identifiers=[Identifier(type=t, value=v) for t, v in identifiers],
    )
    tp.traits["city"] = "Lyon"
    event_type, payload = pack_payload(tp)
    envelope = Envelope(
        event_id=tp.event_id,
        event_type=event_type,
        schema_version=1,
        occurred_at=when,
        recorded_at=when,
        producer="bench",
        customer_key=identifiers[0][1],
        payload=payload,
    )
    return tp.event_id, identifiers[0][1].encode(), envelope


async def run(stack: Stack, report: Report) -> None:
    print("profile: identity resolution", flush=True)
    topic = f"bench.touchpoints.{uuid.uuid4().hex[:6]}"
    await create_topic(stack.bootstrap_servers, topic, partitions=6)
    schema = "bench_profile"
    service = ServiceUnderTest(
        "crm_profile",
        {
            "DATABASE_URL": stack.database_url,
            "DB_SCHEMA": schema,
            "LOG_LEVEL": "WARNING",
            "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "TOUCHPOINTS_TOPIC": topic,
            "IDENTITY_CONSUMER_GROUP": "bench.identity",
            # Two identity consumers and the relay, each in a process of its own
            # (docs/reliability.md, Processes).
            "IDENTITY_CONSUMERS": "2",
            "BACKGROUND_PROCESSES": "3",
        },
        free_port(),
    )
    service.migrate()
    engine = create_engine(stack.database_url, schema)
    vault_engine = create_engine(stack.database_url, "vault", pool_size=1)
    vault = KeyVault(vault_engine)
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, linger_ms=5)
    await producer.start()
    await service.start()
    try:
        warmup = await _on_the_wire(vault, _people_touchpoints(8, "w"))
        await _publish(producer, topic, warmup)
        # Measured from here: the consumer has joined its group (seconds, on a fresh
        # broker) and resolved something; the backlogs below measure resolution alone.
        await _wait_resolved(engine, len(warmup))
        records = await _on_the_wire(vault, _people_touchpoints(THROUGHPUT_TOUCHPOINTS, "b"))
        resolved = await _backlog(
            report, f"{THROUGHPUT_TOUCHPOINTS:,} touchpoints (each pairs identifiers anew:"
            " the worst case)", producer, topic, engine, records, len(warmup))
        returning = await _on_the_wire(vault,
                                       _returning_touchpoints(THROUGHPUT_TOUCHPOINTS, "r"))
        resolved = await _backlog(
            report, f"{THROUGHPUT_TOUCHPOINTS:,} returning-visitor touchpoints (90% seen"
            " before)", producer, topic, engine, returning, resolved)
        # Steady-state traffic: the people signed up earlier (resolved before the clock
        # starts), and only their visits are in the backlog, so that every touchpoint is
        # a returning customer's: the case the fast lane exists for.
        visits = await _on_the_wire(vault, _returning_touchpoints(THROUGHPUT_TOUCHPOINTS, "v"))
        signups = visits[0::10]
        await _publish(producer, topic, signups)
        resolved += len(signups)
        await _wait_resolved(engine, resolved)
        visits = [record for n, record in enumerate(visits) if n % 10]
        resolved = await _backlog(
            report, f"{len(visits):,} returning customers' touchpoints (sign-ups resolved"
            " before)", producer, topic, engine, visits, resolved)
        for (workload, rate), make in zip(STEADY_RATES.items(),
                                          (_people_touchpoints, _returning_touchpoints),
                                          strict=True):
            steady = await _on_the_wire(vault, make(rate * STEADY_SECONDS, f"s{rate}"))
            lags = await _steady(producer, topic, engine, steady, resolved, rate)
            resolved += len(steady)
            for p in (50, 99):
                report.add(
                    Measurement(
                        "profile",
                        f"lag p{p} at a steady {rate:,}/s, {workload}",
                        lags[min(len(lags) - 1, int(p / 100 * len(lags)))],
                        "ms",
                        note="p99 reported at 2,000/s (issue 4)" if p == 99 and rate == 2_000
                        else "",
                    )
                )
    finally:
        service.stop()
        await producer.stop()
        await engine.dispose()
        await vault_engine.dispose()


async def _backlog(report: Report, what: str, producer: AIOKafkaProducer, topic: str,
                   engine: object, records: list[tuple[str, bytes, bytes]],
                   resolved_before: int) -> int:
    """Publish ``records`` at once and measure how fast they are resolved; the count of
    resolved touchpoints after them."""
    started = time.perf_counter()
    await _publish(producer, topic, records)
    await _wait_resolved(engine, resolved_before + len(records))
    report.add(Measurement("profile", f"identity resolution, backlog of {what}",
                           len(records) / (time.perf_counter() - started), "touchpoints/s",
                           note="target >= 5,000"))
    return resolved_before + len(records)


async def _publish(producer: AIOKafkaProducer, topic: str,
                   records: list[tuple[str, bytes, bytes]]) -> None:
    """A backlog onto the topic in whole record batches, as a relay publishes. Sent one by
    one, they kept this process at a quarter of a core while the service consumed them
    on the same two cores; now at 1-2%."""
    await publish_all(producer, (OutboundRecord(topic, key, value, [])
                                 for _, key, value in records))


async def _steady(
    producer: AIOKafkaProducer, topic: str, engine: object,
    records: list[tuple[str, bytes, bytes]], before: int, rate: int,
) -> list[float]:
    sent_at: dict[str, float] = {}
    start = time.time()
    for n, (event_id, key, value) in enumerate(records):
        delay = start + n / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent_at[event_id] = time.time()
        await producer.send(topic, value, key=key)
    await producer.flush()
    await _wait_resolved(engine, before + len(records))
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = await conn.execute(
            text(
                "SELECT touchpoint_id, extract(epoch FROM resolved_at) FROM identity_evidence"
                " WHERE touchpoint_id = ANY(CAST(:ids AS text[]))"
            ),
            {"ids": list(sent_at)},
        )
        return sorted((float(at) - sent_at[tp]) * 1000 for tp, at in rows)


async def _wait_resolved(engine: object, count: int, within: float = 600) -> None:
    deadline = time.monotonic() + within
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        while time.monotonic() < deadline:
            done = (await conn.execute(text("SELECT count(*) FROM identity_evidence"))).scalar_one()
            await conn.commit()
            if done >= count:
                return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"only {done} of {count} touchpoints resolved")
