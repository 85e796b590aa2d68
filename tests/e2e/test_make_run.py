"""``make run`` (python -m crm_devstack run) brings the platform up and down cleanly."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from crm_devstack.ports import free_port
from crm_devstack.services import SERVICES
from crm_devstack.testing import free_offset

pytestmark = pytest.mark.slow

API_KEY = "crm_e2eTestKey1_" + "s" * 43




def _get(url: str, key: str | None = None) -> int:
    request = urllib.request.Request(url)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, list[str]]]:
    offset = free_offset(s.port for s in SERVICES)
    env = os.environ | {
        "CRM_DATA_DIR": str(tmp_path / "data"), "POSTGRES_PORT": str(free_port()),
        "KAFKA_PORT": str(free_port()), "CRM_PORT_OFFSET": str(offset),
        "CRM_BOOTSTRAP_API_KEY": API_KEY,
    }
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "crm_devstack", "run"], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops everything" in line:
            break
    try:
        yield process, offset, lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_make_run_brings_up_every_service_ready_and_ctrl_c_stops_everything(
    platform: tuple[subprocess.Popen[str], int, list[str]],
) -> None:
    process, offset, lines = platform
    assert any("Ctrl-C stops everything" in line for line in lines), "".join(lines[-30:])
    children = psutil.Process(process.pid).children(recursive=True)

    for service in SERVICES:
        base = f"http://127.0.0.1:{service.port + offset}"
        assert _get(f"{base}/readyz") == 200, service.name
        assert _get(f"{base}/openapi.json") == 200, service.name

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left running: {[p.pid for p in alive]}"


def test_a_taken_port_is_reported_in_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        env = os.environ | {"CRM_DATA_DIR": str(tmp_path), "POSTGRES_PORT": str(taken),
                            "KAFKA_PORT": str(free_port()),
                            "CRM_PORT_OFFSET": str(free_offset(s.port for s in SERVICES))}
        result = subprocess.run([sys.executable, "-m", "crm_devstack", "run"], env=env,
                                capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 1
    assert f"port {taken} for Postgres is already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
