"""``make run-compose-local``: the services of docker-compose.yml as local processes, no Docker.

Reads docker-compose.yml (default profile) and runs what it declares:

- ``postgres`` (an official ``postgres`` image) becomes the embedded Postgres in
  ``$CRM_DATA_DIR/compose-local/postgres`` on ``POSTGRES_PORT``; the init scripts the
  file mounts at ``/docker-entrypoint-initdb.d`` run against it with its environment,
  so every service gets the very role and database the container would create.
  (They run on every start; they are idempotent. The embedded server trusts local
  connections, so passwords are carried along but not checked.)
- ``kafka`` (an ``apache/kafka`` image) becomes one embedded broker on ``KAFKA_PORT``.
  Other images have no local equivalent and are skipped with a note.
- ``<postgres service>:5432`` and ``<kafka service>:9092`` in environment values and
  command arguments are rewritten to the local servers; everything else is used as
  written, with ``python`` meaning this interpreter. A process sees only the
  environment the file gives it, plus PATH, HOME, LANG and what the image sets.
- One-shot jobs (services another one waits for with ``service_completed_successfully``)
  run first, to completion, in dependency order. Then every other service starts and
  is awaited like the image's HEALTHCHECK: ``GET /readyz`` on its ``HTTP_PORT`` is 200.

Variables are interpolated as compose does (``${X}``, ``${X:-d}``, ``${X-d}``, ``${X:?e}``,
``${X?e}``, ``$$``) from the environment, then the env file (``--env-file``; default
``.env`` beside the compose file, else ``deploy/.env.example``); as with compose, a
variable of your shell wins (e.g. a ``KAFKA_BOOTSTRAP_SERVERS`` left over for another
tool). A required ``*_PASSWORD`` that is still unset gets a throwaway value.
``CRM_PORT_OFFSET`` shifts every ``HTTP_PORT``; ``--scale name=N`` starts N replicas,
replica i on ``HTTP_PORT + 100 * (i - 1)``. ``CRM_DATA_DIR``, ``POSTGRES_PORT`` and
``KAFKA_PORT`` are read as by ``make run`` (see ``config.py``); the cluster lives in
``$CRM_DATA_DIR/compose-local/`` like the compose file's named volume.
"""

from __future__ import annotations

import argparse
import graphlib
import os
import re
import secrets
import shlex
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from crm_devstack.broker import EmbeddedBroker
from crm_devstack.config import LocalConfig
from crm_devstack.errors import DevStackError
from crm_devstack.postgres import EmbeddedPostgres, _bin_dir
from crm_devstack.supervisor import Child, Supervisor

__all__ = ["ComposeProject", "ComposeService", "interpolate", "load_compose", "main",
           "read_env_file"]

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_]\w*))")
_INITDB = "/docker-entrypoint-initdb.d"
_IMAGE_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
_HOST_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
_REPLICA_PORT_STEP = 100


@dataclass(frozen=True)
class ComposeService:
    """One service of the compose file, after interpolation."""

    name: str
    image: str | None
    built: bool
    command: tuple[str, ...]
    environment: Mapping[str, str]
    depends_on: Mapping[str, str]
    volumes: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    env_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComposeProject:
    """The services of a compose file and the folder its relative paths start from."""

    root: Path
    services: Mapping[str, ComposeService]
    notes: tuple[str, ...] = field(default=())

    def active(self, profiles: Sequence[str] = ()) -> list[ComposeService]:
        """Services that run with ``profiles`` enabled, in dependency order."""
        chosen = {n: s for n, s in self.services.items()
                  if not s.profiles or set(s.profiles) & set(profiles)}
        graph = {n: [d for d in s.depends_on if d in chosen] for n, s in chosen.items()}
        return [chosen[n] for n in graphlib.TopologicalSorter(graph).static_order()]

    def jobs(self) -> set[str]:
        """Names of one-shot jobs: services others wait for to complete successfully."""
        return {dependency for s in self.services.values()
                for dependency, condition in s.depends_on.items()
                if condition == "service_completed_successfully"}


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a compose env file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Substitute compose variables in ``text``; ``DevStackError`` for a missing required one."""
    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        value, op, arg = env.get(name), match["op"] or "", match["arg"] or ""
        missing = value is None or (op.startswith(":") and value == "")
        if op.endswith("?") and missing:
            raise DevStackError(f"required variable {name} is not set: {arg}")
        if op.endswith("-") and missing:
            return arg
        return value or ""

    return _VARIABLE.sub(substitute, text)


def load_compose(path: Path, env: Mapping[str, str]) -> ComposeProject:
    """Parse the compose file at ``path``, interpolating with ``env``."""
    raw = path.read_text()
    env, notes = _with_throwaway_passwords(raw, env)
    document = yaml.safe_load(raw)
    services = {name: _service(name, spec, env)
                for name, spec in (document.get("services") or {}).items()}
    return ComposeProject(path.parent.resolve(), services, tuple(notes))


def _with_throwaway_passwords(
    raw: str, env: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    filled, notes = dict(env), []
    for match in _VARIABLE.finditer(raw):
        name = match["braced"] or ""
        if name.endswith("_PASSWORD") and (match["op"] or "").endswith("?") and not env.get(name):
            filled[name] = secrets.token_hex(16)
            notes.append(f"{name} unset: a throwaway value is used (local connections are trusted)")
    return filled, sorted(set(notes))


def _service(name: str, spec: Mapping[str, Any], env: Mapping[str, str]) -> ComposeService:
    def text(value: object) -> str:
        return interpolate(str(value), env)

    command = spec.get("command") or ()
    if isinstance(command, str):
        command = shlex.split(text(command))
    environment = spec.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    depends_on = spec.get("depends_on") or {}
    if isinstance(depends_on, list):
        depends_on = {d: "service_started" for d in depends_on}
    env_files = spec.get("env_file") or ()
    return ComposeService(
        name=name,
        image=text(spec["image"]) if "image" in spec else None,
        built="build" in spec,
        command=tuple(text(arg) for arg in command),
        environment={k: text(v) for k, v in environment.items() if v is not None},
        depends_on={d: (c or {}).get("condition", "service_started")
                    for d, c in depends_on.items()},
        volumes=tuple(text(v) for v in spec.get("volumes") or () if isinstance(v, str)),
        profiles=tuple(spec.get("profiles") or ()),
        env_files=tuple(f if isinstance(f, str) else f["path"]
                        for f in ([env_files] if isinstance(env_files, str) else env_files)),
    )


@dataclass
class _Local:
    """The local stand-ins for the file's infrastructure and how to address them."""

    hosts: dict[str, str] = field(default_factory=dict)

    def rewrite(self, value: str) -> str:
        for address, local in self.hosts.items():
            value = re.sub(rf"(?<![\w.-]){re.escape(address)}(?!\d)", local, value)
        return value


class _Stop(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m crm_devstack compose-local``: run until Ctrl-C; returns the exit code."""
    args = _parser().parse_args(argv)
    config = LocalConfig.from_env()
    supervisor = Supervisor()
    try:
        project = load_compose(args.file, _interpolation_env(args.file, args.env_file))
        with ExitStack() as stack:
            _run(project, config, dict(args.scale), supervisor, stack)
    except DevStackError as exc:
        print(f"compose-local: {exc}", file=sys.stderr)
        return 1
    except _Stop:
        supervisor.say("stopped")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crm_devstack compose-local",
        description="Run docker-compose.yml's services as local processes.")
    parser.add_argument("--file", "-f", type=Path, default=Path("docker-compose.yml"))
    parser.add_argument("--env-file", type=Path, default=None)
    parser.add_argument("--scale", action="append", default=[], type=_scale,
                        metavar="SERVICE=N", help="replicas of a service (repeatable)")
    return parser


def _scale(value: str) -> tuple[str, int]:
    name, _, count = value.partition("=")
    if not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"expected SERVICE=N with N >= 1, got {value!r}")
    return name, int(count)


def _interpolation_env(compose_file: Path, env_file: Path | None) -> dict[str, str]:
    root = compose_file.parent
    if env_file is None:
        env_file = next((p for p in (root / ".env", root / "deploy" / ".env.example")
                         if p.exists()), None)
    from_file = read_env_file(env_file) if env_file else {}
    return from_file | dict(os.environ)


def _run(project: ComposeProject, config: LocalConfig, scale: Mapping[str, int],
         supervisor: Supervisor, stack: ExitStack) -> None:
    _stop_on_signals()
    for note in project.notes:
        supervisor.say(note)
    home = config.data_dir / "compose-local"
    (home / "logs").mkdir(parents=True, exist_ok=True)
    services = project.active()
    jobs = project.jobs()
    local = _start_infrastructure(project, services, config, home, supervisor, stack)
    stack.callback(supervisor.stop_all)
    for service in (s for s in services if s.built and s.name in jobs):
        _run_job(service, local, supervisor)
    replicas = [replica for s in services if s.built and s.name not in jobs
                for replica in _start(s, scale.get(s.name, 1), config, local, supervisor)]
    _wait_ready(replicas)
    for child, port in replicas:
        supervisor.say(f"{child.name:<16} http://127.0.0.1:{port}  ready")
    supervisor.say("every service of the compose file is ready; Ctrl-C stops everything")
    _watch([child for child, _ in replicas])


def _stop_on_signals() -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _start_infrastructure(
    project: ComposeProject, services: list[ComposeService], config: LocalConfig,
    home: Path, supervisor: Supervisor, stack: ExitStack,
) -> _Local:
    local = _Local()
    bootstrap: str | None = None
    for service in (s for s in services if not s.built):
        image = service.image or ""
        if image.startswith("postgres"):
            port = _start_postgres(project, service, config, home, supervisor, stack)
            local.hosts[f"{service.name}:5432"] = f"127.0.0.1:{port}"
        elif image.startswith("apache/kafka"):
            bootstrap = bootstrap or _start_broker(config, home, stack)
            supervisor.say(f"{service.name}: embedded Kafka-protocol broker on {bootstrap}")
        else:
            supervisor.say(f"{service.name}: image {image} has no local equivalent; skipped")
    for service in project.services.values():  # every broker of every profile: the one broker
        if bootstrap and (service.image or "").startswith("apache/kafka"):
            local.hosts[f"{service.name}:9092"] = bootstrap
    return local


def _start_postgres(
    project: ComposeProject, service: ComposeService, config: LocalConfig, home: Path,
    supervisor: Supervisor, stack: ExitStack,
) -> int:
    log = stack.enter_context(open(home / "logs" / "postgres.log", "ab"))  # noqa: SIM115
    postgres = EmbeddedPostgres(home / "postgres", config.postgres_port, log=log)
    postgres.start()
    stack.callback(postgres.stop)
    supervisor.say(f"{service.name}: embedded Postgres on 127.0.0.1:{config.postgres_port}")
    env = _base_env() | dict(service.environment) | {
        "POSTGRES_USER": "postgres", "POSTGRES_DB": "postgres", "PGHOST": "127.0.0.1",
        "PGPORT": str(config.postgres_port),
        "PATH": f"{_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for script in _init_scripts(project, service):
        command = (["bash", str(script)] if script.suffix == ".sh" else
                   ["psql", "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "-f", str(script)])
        _check(f"{service.name}-init", command, env, supervisor)
    return config.postgres_port


def _init_scripts(project: ComposeProject, service: ComposeService) -> list[Path]:
    scripts: list[Path] = []
    for volume in service.volumes:
        source, _, rest = volume.partition(":")
        if rest.split(":")[0] == _INITDB and source.startswith("."):
            folder = (project.root / source).resolve()
            scripts += sorted(p for p in folder.iterdir() if p.suffix in (".sh", ".sql"))
    return scripts


def _start_broker(config: LocalConfig, home: Path, stack: ExitStack) -> str:
    log = stack.enter_context(open(home / "logs" / "broker.log", "ab"))  # noqa: SIM115
    broker = EmbeddedBroker(config.kafka_port, log=log)
    broker.start()
    stack.callback(broker.stop)
    return broker.bootstrap_servers


def _base_env() -> dict[str, str]:
    return {k: os.environ[k] for k in _HOST_ENV if k in os.environ} | _IMAGE_ENV


def _process(service: ComposeService, local: _Local) -> tuple[list[str], dict[str, str]]:
    if not service.command:
        raise DevStackError(f"{service.name} declares no command")
    command = [local.rewrite(arg) for arg in service.command]
    if command[0] == "python":
        command[0] = sys.executable
    env = _base_env() | {k: local.rewrite(v) for k, v in service.environment.items()}
    return command, env


def _run_job(service: ComposeService, local: _Local, supervisor: Supervisor) -> None:
    command, env = _process(service, local)
    _check(service.name, command, env, supervisor)


def _check(name: str, command: list[str], env: dict[str, str], supervisor: Supervisor) -> None:
    child = supervisor.start(name, command, env)
    code = child.process.wait()
    child.pump.join(5)
    if code != 0:
        raise DevStackError(f"{name} exited with code {code} (its output is above)")


def _start(service: ComposeService, replicas: int, config: LocalConfig, local: _Local,
           supervisor: Supervisor) -> list[tuple[Child, int]]:
    command, env = _process(service, local)
    if "HTTP_PORT" not in env:
        raise DevStackError(f"{service.name} sets no HTTP_PORT: its readiness cannot be checked")
    started: list[tuple[Child, int]] = []
    for index in range(replicas):
        port = int(env["HTTP_PORT"]) + config.port_offset + _REPLICA_PORT_STEP * index
        name = service.name if replicas == 1 else f"{service.name}-{index + 1}"
        child = supervisor.start(name, command, env | {"HTTP_PORT": str(port)})
        started.append((child, port))
    return started


def _wait_ready(replicas: list[tuple[Child, int]], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(replicas)
    while waiting:
        for child, _ in waiting:
            if child.process.poll() is not None:
                raise DevStackError(f"{child.name} exited with code {child.process.returncode}")
        if time.monotonic() > deadline:
            names = ", ".join(child.name for child, _ in waiting)
            raise DevStackError(f"not ready after {timeout:.0f}s: {names}")
        waiting = [(child, port) for child, port in waiting if not _ready(port)]
        time.sleep(0.2)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _watch(children: list[Child]) -> None:
    while True:
        for child in children:
            if child.process.poll() is not None:
                raise DevStackError(f"{child.name} exited with code {child.process.returncode}")
        time.sleep(0.5)
