"""The commands of deploy/RUNBOOK.md, run locally against the real Postgres and broker.

Compose runs them with ``docker compose run --rm <service> ...`` or ``exec postgres``;
here the same programs run on this machine. (Dead-letter drains: test_dlq_tool.py.)
"""

import asyncio
import importlib.util
import re
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_devstack.compose_local import ComposeProject
from crm_devstack.postgres import _bin_dir
from crm_devstack.testing import envelope_bytes, eventually, sample_event
from crm_eventstore import (
    EVENT_STORE_MIGRATIONS,
    NO_STREAM,
    EventStore,
    UnitOfWork,
    create_engine,
    migrate,
)
from crm_messaging import Consumer, ConsumerSettings, InboundMessage
from crm_servicekit.apikeys.keys import parse_key
from crm_servicekit.apikeys.store import ApiKeyStore

ROOT = Path(__file__).resolve().parents[2]


async def run(*command: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return await process.wait(), out.decode(), err.decode()


async def apikeys(*args: str) -> tuple[int, str, str]:
    return await run(sys.executable, "-m", "crm_servicekit.apikeys", *args)


# --- Rotating an API key -------------------------------------------------------------


async def test_rotating_an_api_key_create_new_roll_out_revoke_old_within_the_cache_ttl(
    postgres_url: str, schema_name: str,
) -> None:
    where = ("--database-url", postgres_url, "--schema", schema_name)
    code, old, _ = await apikeys("create", "--name", "pos-2026-q1", "--scope",
                                 "touchpoints:write", *where)
    assert code == 0
    engine = create_engine(postgres_url, schema_name)
    now = [0.0]
    instance = ApiKeyStore(engine, cache_seconds=5, clock=lambda: now[0])  # a running service
    try:
        assert await instance.authenticate(old.strip())

        code, new, _ = await apikeys("create", "--name", "pos-2026-q2", "--scope",
                                     "touchpoints:write", *where)
        assert code == 0 and await instance.authenticate(new.strip())
        code, listing, _ = await apikeys("list", *where)
        assert listing.count("\tactive") == 2

        code, _, said = await apikeys("revoke", parse_key(old.strip())[0], *where)
        assert code == 0 and "revoked key" in said
        assert await instance.authenticate(old.strip()), "cached until the TTL passes"
        now[0] += 5.1
        assert await instance.authenticate(old.strip()) is None
        assert await instance.authenticate(new.strip())
        code, listing, _ = await apikeys("list", *where)
        assert listing.count("\tactive") == 1 and listing.count("\trevoked") == 1
    finally:
        await engine.dispose()


# --- Running migrations on upgrade -----------------------------------------------------


async def test_the_migrations_jobs_apply_pending_migrations_and_can_run_again(
    compose: ComposeProject, postgres_url: str,
) -> None:
    jobs = [s for s in compose.services.values() if s.name.startswith("migrate-")]

    async def migrate_twice(job_command: tuple[str, ...], schema: str) -> tuple[str, str]:
        env = {"DATABASE_URL": postgres_url, "DB_SCHEMA": schema, "PATH": "/usr/bin:/bin"}
        command = [sys.executable, *job_command[1:]]
        first, second = await run(*command, env=env), await run(*command, env=env)
        assert first[0] == 0 and second[0] == 0, first[2] + second[2]
        return first[2], second[2]

    outcomes = await asyncio.gather(*(
        migrate_twice(job.command, f"t_{uuid.uuid4().hex[:12]}") for job in jobs))

    for first, second in outcomes:
        assert "none pending" not in first and "eventstore:0001" in first
        assert "0 migration(s) applied" in second and "none pending" in second


# --- Backup and restore of one service database ------------------------------------------


@pytest.fixture
async def service_database(postgres_url: str) -> AsyncIterator[str]:
    """A database of its own, like each service's in compose; dropped afterwards."""
    name = f"svc_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, "public")
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"CREATE DATABASE {name}"))
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    await admin.dispose()


async def test_a_service_database_restored_from_its_dump_holds_every_event(
    service_database: str, tmp_path: Path,
) -> None:
    engine = create_engine(service_database, "touchpoint")
    await migrate(engine, "touchpoint", [EVENT_STORE_MIGRATIONS])
    events = [sample_event(n) for n in range(3)]
    await EventStore(engine).append("customer-1", events, NO_STREAM)
    dump = tmp_path / "touchpoint.dump"
    bins = _bin_dir()

    code, _, err = await run(str(bins / "pg_dump"), "--format=custom", "--file", str(dump),
                             "--dbname", service_database)
    assert code == 0, err
    async with engine.begin() as conn:  # the accident
        await conn.execute(text("DROP TABLE events CASCADE"))
    code, _, err = await run(str(bins / "pg_restore"), "--clean", "--if-exists",
                             "--dbname", service_database, str(dump))
    assert code == 0, err

    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT payload FROM events ORDER BY global_position"))
        assert [bytes(r[0]) for r in rows] == [e.payload for e in events]
    await engine.dispose()


# --- Replaying a projection: reset its consumer group, apply everything again ---------------


@pytest.fixture
async def view_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE view (event_id text PRIMARY KEY, kind text)"))


async def project(message: InboundMessage, uow: UnitOfWork) -> None:
    await uow.connection.execute(text("INSERT INTO view VALUES (:id, :kind)"),
                                 {"id": message.event_id, "kind": message.envelope.event_type})


async def view(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        return [(r[0], r[1]) for r in await conn.execute(text("SELECT * FROM view ORDER BY 1"))]


async def consume_until(store: EventStore, producer: AIOKafkaProducer, bootstrap: str,
                        topic: str, engine: AsyncEngine, rows: int) -> None:
    consumer = Consumer(bootstrap_servers=bootstrap, group_id="projection", topics=[topic],
                        handler=project, store=store, producer=producer,
                        settings=ConsumerSettings(poll_timeout_ms=100, session_timeout_ms=6_000,
                                                  heartbeat_interval_ms=1_000))
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: _rows(engine, rows), within=30)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 15)


async def _rows(engine: AsyncEngine, count: int) -> bool:
    return len(await view(engine)) >= count


async def reset_to_earliest(bootstrap: str, group: str, topic: str) -> None:
    """What ``kafka-consumer-groups.sh --reset-offsets --to-earliest --execute`` does.

    Done as the group's only member (every instance of the projection is stopped).
    """
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False, session_timeout_ms=6_000,
                                heartbeat_interval_ms=1_000)
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        partitions = list(consumer.assignment())
        await consumer.commit(dict(await consumer.beginning_offsets(partitions)))
    finally:
        await consumer.stop()


@pytest.mark.usefixtures("view_table")
async def test_a_projection_dropped_and_replayed_from_a_reset_group_is_identical(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    for n in range(6):
        await producer.send_and_wait(topic, envelope_bytes(f"k{n}"), key=f"c-{n}".encode())
    await consume_until(store, producer, kafka_bootstrap, topic, engine, rows=6)
    before = await view(engine)

    async with engine.begin() as conn:  # drop the projection and what it had applied
        await conn.execute(text("TRUNCATE view"))
        await conn.execute(text("DELETE FROM inbox WHERE consumer_group = 'projection'"))
    await reset_to_earliest(kafka_bootstrap, "projection", topic)
    await consume_until(store, producer, kafka_bootstrap, topic, engine, rows=6)

    assert await view(engine) == before


# --- The runbook names only what exists ----------------------------------------------------

RUNBOOK = (ROOT / "deploy" / "RUNBOOK.md").read_text()


def test_every_python_command_of_the_runbook_is_a_module_of_the_project() -> None:
    modules = {m for m in re.findall(r"python -m ([\w.]+)", RUNBOOK) if not m.endswith("_")}
    assert {"crm_messaging.dlq", "crm_servicekit.apikeys"} <= modules
    for module in modules:
        assert importlib.util.find_spec(module) is not None, module


def compose_services_named(runbook: str) -> list[str]:
    """The service of each ``docker compose run|stop|start|exec|restart|port ...``."""
    words = runbook.replace("\\\n", " ").replace("`", " ").split()
    named = []
    for i, word in enumerate(words[:-2]):
        if word == "docker" and words[i + 1] == "compose" and words[i + 2] in (
                "run", "stop", "start", "exec", "restart", "port"):
            rest = iter(words[i + 3:])
            for token in rest:
                if token == "-e":
                    next(rest)
                elif not token.startswith("-"):
                    named.append(token)
                    break
    return named


def test_every_compose_service_the_runbook_names_exists(compose: ComposeProject) -> None:
    named = set(compose_services_named(RUNBOOK)) - {"<service>"}
    assert {"postgres", "kafka", "touchpoint", "migrate-touchpoint"} <= named
    assert named <= set(compose.services)


def test_every_test_the_runbook_cites_as_proof_exists() -> None:
    cited = set(re.findall(r"`(test_\w+)`", RUNBOOK))
    files = [*(ROOT / "tests").rglob("test_*.py"), *(ROOT / "services").rglob("test_*.py")]
    defined = {name for path in files
               for name in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M)}
    assert cited and cited <= defined, cited - defined
