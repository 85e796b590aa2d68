"""``serve_processes`` for real: HTTP processes that share the load, one background
process for the background workers, a graceful stop, and no orphans after a SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from crm_devstack.ports import free_port
from crm_devstack.testing import eventually
from crm_servicekit import ServiceSettings, create_app
from crm_servicekit.app import ProcessRole
from crm_servicekit.context import ServiceContext
from crm_servicekit.workers import Worker

# Imported by every spawned process: the factory must be importable, not defined in -c.
DEMO_MODULE = textwrap.dedent("""
    import asyncio, logging, os
    from fastapi import APIRouter
    from crm_servicekit import ServiceSettings, create_app

    router = APIRouter()

    @router.get("/pid")
    async def pid():
        return {"pid": os.getpid()}

    async def request_helper(ctx):
        logging.getLogger("demo").info("request helper in %s", os.getpid())
        await asyncio.Event().wait()

    async def consumer(ctx):
        logging.getLogger("demo").info("consumer in %s", os.getpid())
        logging.getLogger("demo").info(
            "loop of the consumer: %s", type(asyncio.get_running_loop()).__module__)
        if os.environ.get("DEMO_MARKS"):
            open(os.path.join(os.environ["DEMO_MARKS"], "consumer"), "w").close()
        if os.environ.get("DEMO_CRASH"):
            await asyncio.sleep(0.5)
            raise RuntimeError("consumer broke")
        await asyncio.Event().wait()

    async def relay(ctx):
        logging.getLogger("demo").info("relay in %s", os.getpid())
        if os.environ.get("DEMO_MARKS"):  # for a test that cannot read the log yet
            open(os.path.join(os.environ["DEMO_MARKS"], "relay"), "w").close()
        await asyncio.Event().wait()

    def build():
        settings = ServiceSettings(service_name="demo")
        return create_app(settings, routers=[router], workers=[request_helper],
                          background=[consumer, relay])
""")

MAIN = textwrap.dedent("""
    from crm_servicekit import ServiceSettings
    from crm_servicekit.runner import serve_processes
    from demo_service import build
    serve_processes(build, ServiceSettings(service_name="demo"))
""")


@pytest.fixture
def demo(tmp_path: Path, postgres_url: str, kafka_bootstrap: str,
         schema_name: str) -> Iterator[tuple[dict[str, str], int]]:
    (tmp_path / "demo_service.py").write_text(DEMO_MODULE)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": postgres_url, "DB_SCHEMA": schema_name,
           "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "HTTP_HOST": "127.0.0.1",
           "HTTP_PORT": str(port), "HTTP_WORKERS": "2",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    yield env, port


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", MAIN], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _listeners(process: subprocess.Popen[str], port: int) -> set[int]:
    found = set()
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
                   for c in child.net_connections(kind="tcp")):
                found.add(child.pid)
        except psutil.Error:
            continue
    return found


def _wait_for_listeners(process: subprocess.Popen[str], port: int, count: int) -> set[int]:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        listening = _listeners(process, port)
        if len(listening) >= count:
            return listening
        time.sleep(0.1)
    raise AssertionError("the HTTP processes did not come up")


def _background_pids(process: subprocess.Popen[str], http_pids: set[int]) -> set[int]:
    return {p.pid for p in psutil.Process(process.pid).children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())} - http_pids


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_connections_spread_over_the_http_processes_and_background_work_runs_once(
    demo: tuple[dict[str, str], int],
) -> None:
    env, port = demo
    process = _start(env)
    try:
        http_pids = _wait_for_listeners(process, port, 2)
        answered_by = set()
        for _ in range(24):  # a new connection each time: the kernel picks a listener
            with httpx.Client() as client:
                answered_by.add(client.get(f"http://127.0.0.1:{port}/pid").json()["pid"])
        background = _background_pids(process, http_pids)
    finally:
        stdout, stderr = _stop(process)

    assert process.returncode == 0, stderr
    assert answered_by == http_pids  # both HTTP processes took connections
    [background_pid] = background
    messages = [json.loads(line)["message"] for line in stdout.splitlines()]
    assert sorted(m for m in messages if m.startswith("request helper")) == sorted(
        f"request helper in {pid}" for pid in http_pids)
    assert [m for m in messages if m.startswith(("consumer", "relay"))] == [
        f"consumer in {background_pid}", f"relay in {background_pid}"]


def test_background_workers_share_the_background_processes(
    demo: tuple[dict[str, str], int], tmp_path: Path,
) -> None:
    env, port = demo
    marks = tmp_path / "marks"
    marks.mkdir()
    process = _start({**env, "BACKGROUND_PROCESSES": "2", "DEMO_MARKS": str(marks)})
    try:
        http_pids = _wait_for_listeners(process, port, 2)
        deadline = time.monotonic() + 40
        while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        background = _background_pids(process, http_pids)
    finally:
        stdout, stderr = _stop(process)

    assert process.returncode == 0, stderr
    messages = [json.loads(line)["message"] for line in stdout.splitlines()]
    started = {m.split(" in ")[0]: int(m.split(" in ")[1]) for m in messages
               if m.startswith(("consumer", "relay"))}
    assert len([m for m in messages if m.startswith(("consumer", "relay"))]) == 2
    assert set(started) == {"consumer", "relay"}
    assert started["consumer"] != started["relay"]
    assert set(started.values()) == background
    # As uvicorn's HTTP processes, the background ones run on uvloop.
    assert "loop of the consumer: uvloop" in messages



def test_a_crashed_background_worker_stops_the_service_with_status_1(
    demo: tuple[dict[str, str], int],
) -> None:
    env, _ = demo
    process = _start({**env, "DEMO_CRASH": "1"})
    try:
        process.wait(timeout=60)
    finally:
        stdout, _ = _stop(process)

    assert process.returncode == 1
    messages = [json.loads(line)["message"] for line in stdout.splitlines()]
    assert "a background worker crashed: the background process ends" in messages


def test_killing_the_parent_takes_every_process_with_it(
    demo: tuple[dict[str, str], int],
) -> None:
    env, port = demo
    process = _start(env)
    try:
        _wait_for_listeners(process, port, 2)
        children = psutil.Process(process.pid).children(recursive=True)
        process.kill()
        process.wait()
        _, alive = psutil.wait_procs(children, timeout=10)
    finally:
        _stop(process)

    assert alive == []
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/pid", timeout=2)


@pytest.mark.parametrize(("role", "started"), [
    (ProcessRole.ALL, {"request", "background"}),
    (ProcessRole.HTTP, {"request"}),
    (ProcessRole.BACKGROUND, {"background"}),
])
async def test_the_process_role_decides_which_workers_start(
    role: ProcessRole, started: set[str], postgres_url: str, kafka_bootstrap: str,
    schema_name: str,
) -> None:
    ran: set[str] = set()

    def worker(name: str) -> Worker:
        async def run(_: ServiceContext) -> None:
            ran.add(name)
        return run

    settings = ServiceSettings(service_name="demo", database_url=postgres_url,
                               db_schema=schema_name, kafka_bootstrap_servers=kafka_bootstrap,
                               http_port=0)
    app = create_app(settings, workers=[worker("request")], background=[worker("background")])
    app.process_role = role
    async with app.router.lifespan_context(app):
        # Every worker that starts runs at once; a second is plenty to see any start.
        with contextlib.suppress(TimeoutError):
            await eventually(lambda: ran == {"request", "background"}, within=1.0)

    assert ran == started

