"""``make run``: the whole platform on this machine, no Docker.

Starts a real Postgres and a real Kafka-protocol broker, creates the topics,
migrates every service's schema, registers the bootstrap API key, starts every
service as its own process with prefixed logs, waits until each ``/readyz``
answers 200, and on Ctrl-C stops everything in reverse order.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from crm_devstack.broker import EmbeddedBroker
from crm_devstack.config import LocalConfig
from crm_devstack.errors import DevStackError
from crm_devstack.ports import ensure_port_free
from crm_devstack.postgres import EmbeddedPostgres
from crm_devstack.services import SERVICES, ServiceProcess
from crm_devstack.supervisor import Supervisor
from crm_messaging.topics import create_topics

__all__ = ["main"]


class _Stop(Exception):
    pass


def main() -> int:
    """Run until Ctrl-C; return the process exit code."""
    config = LocalConfig.from_env()
    supervisor = Supervisor()
    try:
        with ExitStack() as stack:
            _run(config, supervisor, stack)
    except DevStackError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    except _Stop:
        supervisor.say("stopped")
    return 0


def _run(config: LocalConfig, supervisor: Supervisor, stack: ExitStack) -> None:
    _stop_on_signals()
    services = [s.shifted(config.port_offset) for s in SERVICES]
    logs = config.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for service in services:
        ensure_port_free(service.port, f"the {service.name} service")
    database_url = config.external_database_url or _start_postgres(config, logs, stack, supervisor)
    kafka = config.external_kafka or _start_broker(config, logs, stack, supervisor)
    created = asyncio.run(create_topics(kafka))
    supervisor.say(f"topics ready ({len(created)} created)")
    env = _service_env(database_url, kafka)
    for service in services:
        _migrate(service, env)
    api_key = _bootstrap_key(config, database_url, services)
    stack.callback(supervisor.stop_all)
    for service in services:
        supervisor.start(service.name, [sys.executable, "-m", service.module, "serve"],
                         env | {"DB_SCHEMA": service.schema, "HTTP_PORT": str(service.port)})
    _wait_ready(supervisor, services)
    _announce(supervisor, config, api_key, services)
    _watch(supervisor)


def _stop_on_signals() -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _start_postgres(
    config: LocalConfig, logs: Path, stack: ExitStack, supervisor: Supervisor
) -> str:
    log = stack.enter_context(open(logs / "postgres.log", "ab"))  # noqa: SIM115
    postgres = EmbeddedPostgres(config.data_dir / "postgres", config.postgres_port, log=log)
    postgres.start()
    stack.callback(postgres.stop)
    supervisor.say(f"postgres ready on 127.0.0.1:{config.postgres_port}"
                   f" (data in {config.data_dir / 'postgres'})")
    return postgres.url


def _start_broker(
    config: LocalConfig, logs: Path, stack: ExitStack, supervisor: Supervisor
) -> str:
    log = stack.enter_context(open(logs / "broker.log", "ab"))  # noqa: SIM115
    broker = EmbeddedBroker(config.kafka_port, log=log)
    broker.start()
    stack.callback(broker.stop)
    supervisor.say(f"kafka broker (Tansu, in memory) ready on {broker.bootstrap_servers}")
    return broker.bootstrap_servers


def _service_env(database_url: str, kafka: str) -> dict[str, str]:
    return dict(os.environ) | {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "PYTHONUNBUFFERED": "1",
    }


def _migrate(service: ServiceProcess, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", service.module, "migrate"],
        env=env | {"DB_SCHEMA": service.schema, "HTTP_PORT": str(service.port)},
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise DevStackError(f"migrating {service.name} failed:\n{result.stderr or result.stdout}")


def _bootstrap_key(
    config: LocalConfig, database_url: str, services: list[ServiceProcess]
) -> str:
    from crm_servicekit.apikeys.cli import main as apikeys
    from crm_servicekit.apikeys.keys import generate_key

    saved = config.data_dir / "bootstrap-api-key"
    key = config.bootstrap_api_key
    if key is None:
        key = saved.read_text().strip() if saved.exists() else generate_key()
        saved.write_text(key + "\n")
        saved.chmod(0o600)
    schemas = [arg for s in services for arg in ("--schema", s.schema)]
    code = apikeys(["register", "--key", key, "--name", "bootstrap", "--all-scopes",
                    "--database-url", database_url, *schemas])
    if code != 0:
        raise DevStackError("could not register the bootstrap API key (see above)")
    return key


def _wait_ready(
    supervisor: Supervisor, services: list[ServiceProcess], timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(services)
    while waiting:
        if dead := supervisor.exited():
            raise DevStackError(f"{dead[0].name} exited with code {dead[0].process.returncode}")
        if time.monotonic() > deadline:
            names = ", ".join(s.name for s in waiting)
            raise DevStackError(f"not ready after {timeout:.0f}s: {names}")
        waiting = [s for s in waiting if not _ready(s.port)]
        time.sleep(0.2)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _announce(
    supervisor: Supervisor, config: LocalConfig, api_key: str, services: list[ServiceProcess]
) -> None:
    for service in services:
        supervisor.say(f"{service.name:<14} http://127.0.0.1:{service.port}  ready")
    supervisor.say(f"API key (every scope): {api_key}")
    if config.bootstrap_api_key is None:
        supervisor.say(f"  (generated; kept in {config.data_dir / 'bootstrap-api-key'})")
    supervisor.say("Ctrl-C stops everything")


def _watch(supervisor: Supervisor) -> None:
    while True:
        if dead := supervisor.exited():
            raise DevStackError(f"{dead[0].name} exited with code {dead[0].process.returncode}")
        time.sleep(0.5)
