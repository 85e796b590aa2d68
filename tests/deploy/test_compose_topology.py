"""docker-compose.yml's topology, run for real without Docker (``make run-compose-local``).

The very services, commands and environments of the file run as local processes
against the embedded Postgres and broker: the init script makes one role and
database per service, the topics and migrations jobs run to completion, every
service (customer_view twice, as with ``--scale``) answers ``/readyz`` with 200.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from crm_devstack.compose_local import ComposeProject
from crm_devstack.ports import free_port
from crm_devstack.testing import free_offset
from crm_messaging.topics import ALL_TOPICS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "every service of the compose file is ready"
# Settings the shell may hold (make run uses some): compose would interpolate them.
SHELL_SETTINGS = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "DB_SCHEMA", "HTTP_PORT",
                  "LOG_LEVEL", "COMPOSE_PROFILES", "KAFKA_REPLICATION_FACTOR")


@dataclass
class Stack:
    process: subprocess.Popen[str]
    lines: list[str]
    offset: int
    postgres_port: int
    kafka_port: int


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    offset = free_offset(port + step for port in range(8001, 8006) for step in (0, 100, 200))
    postgres_port, kafka_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in SHELL_SETTINGS} | {
        "CRM_DATA_DIR": str(tmp_path_factory.mktemp("compose-local")),
        "POSTGRES_PORT": str(postgres_port), "KAFKA_PORT": str(kafka_port),
        "CRM_PORT_OFFSET": str(offset),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "crm_devstack", "compose-local", "--scale", "customer_view=2"],
        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = _read_until_ready(process)
    # Keep reading, or the services block once the pipe is full.
    threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True).start()
    try:
        yield Stack(process, lines, offset, postgres_port, kafka_port)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _read_until_ready(process: subprocess.Popen[str], timeout: float = 150) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if READY_LINE in line:
            break
    return lines


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def service_ports(compose: ComposeProject, offset: int) -> dict[str, int]:
    """Where each replica of the file's services listens (HTTP_PORT + offset)."""
    ports = {}
    for name in ("touchpoint", "profile", "segmentation", "campaign", "customer_view"):
        port = int(compose.services[name].environment["HTTP_PORT"]) + offset
        if name == "customer_view":
            ports |= {"customer_view-1": port, "customer_view-2": port + 100}
        else:
            ports[name] = port
    return ports


def test_every_service_of_the_compose_file_becomes_ready_as_a_local_process(
    stack: Stack, compose: ComposeProject,
) -> None:
    output = "".join(stack.lines)
    assert READY_LINE in output, output[-5000:]
    for job in ("topics", *(f"migrate-{s}" for s in ("touchpoint", "profile",
                                                    "segmentation", "campaign",
                                                    "customer_view"))):
        assert f"[{job}]" in output, f"the {job} job did not run"
    for name, port in service_ports(compose, stack.offset).items():
        assert _status(f"http://127.0.0.1:{port}/readyz") == 200, name
        assert f"{name}" in output and f":{port}  ready" in output


def test_each_service_owns_its_database_and_cannot_open_another(stack: Stack) -> None:
    async def check() -> None:
        for service in ("touchpoint", "profile", "segmentation", "campaign", "customer_view"):
            conn = await asyncpg.connect(host="127.0.0.1", port=stack.postgres_port,
                                         user=service, database=service)
            try:
                owner = await conn.fetchval(
                    "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1",
                    service)
                assert owner == service
                assert await conn.fetchval(
                    f"SELECT count(*) FROM {service}.schema_migrations") > 0
            finally:
                await conn.close()
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(host="127.0.0.1", port=stack.postgres_port,
                                  user="profile", database="touchpoint")

    asyncio.run(check())


def test_the_topics_job_created_every_topic_and_its_dead_letter_topic(stack: Stack) -> None:
    async def topics() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{stack.kafka_port}")
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    assert set(ALL_TOPICS) <= asyncio.run(topics())


def test_ctrl_c_stops_every_process_of_the_stack(stack: Stack) -> None:
    children = psutil.Process(stack.process.pid).children(recursive=True)
    assert len(children) >= 8, "postgres, the broker and six service processes"

    stack.process.send_signal(signal.SIGINT)

    assert stack.process.wait(timeout=60) == 0
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"left running: {[p.pid for p in alive]}"
