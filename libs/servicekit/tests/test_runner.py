"""``serve`` in a real process: JSON logs, HTTP on the configured port, clean SIGTERM."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import httpx

from crm_devstack.ports import free_port

SERVICE = textwrap.dedent("""
    import asyncio, logging
    from crm_servicekit import ServiceSettings, create_app, serve

    async def heartbeat(ctx):
        try:
            await asyncio.Event().wait()
        finally:
            logging.getLogger("demo").info("heartbeat stopped")

    settings = ServiceSettings(service_name="demo")
    serve(create_app(settings, workers=[heartbeat]), settings)
""")


def _wait_for_health(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the service did not come up")


def test_serves_until_sigterm_then_shuts_down_gracefully_and_exits_0(
    postgres_url: str, kafka_bootstrap: str, schema_name: str,
) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": postgres_url, "DB_SCHEMA": schema_name,
           "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "HTTP_HOST": "127.0.0.1",
           "HTTP_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-c", SERVICE], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_health(port, process)
        response = httpx.get(f"http://127.0.0.1:{port}/nowhere", timeout=5,
                             headers={"X-Correlation-ID": "runner-1"})
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert response.status_code == 404
    assert "server" not in response.headers
    assert process.returncode == 0, stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert all(line["service"] == "demo" for line in lines)
    messages = [line["message"] for line in lines]
    assert "demo started" in messages
    assert "heartbeat stopped" in messages
    assert messages.index("demo stopping") < messages.index("heartbeat stopped")
    [access] = [line for line in lines if line["logger"] == "crm_servicekit.access"]
    assert (access["status"], access["correlation_id"]) == (404, "runner-1")
