"""Schemathesis drives the service's own OpenAPI description: no input yields a 5xx."""

import asyncio
import subprocess
import sys

import pytest

from crm_devstack.ports import free_port
from crm_devstack.testing import ServiceUnderTest
from crm_eventstore import create_engine
from crm_messaging import create_topics
from crm_servicekit.apikeys import ApiKeyStore

pytestmark = pytest.mark.slow


async def test_schemathesis_finds_no_server_error_in_the_touchpoint_api(
    postgres_url: str, kafka_bootstrap: str, schema_name: str,
) -> None:
    await create_topics(kafka_bootstrap)
    service = ServiceUnderTest("crm_touchpoint", {
        "DATABASE_URL": postgres_url, "DB_SCHEMA": schema_name,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "LOG_LEVEL": "WARNING"}, free_port())
    service.migrate()
    engine = create_engine(postgres_url, schema_name)
    _, key = await ApiKeyStore(engine).create("fuzz", ["touchpoints:write", "touchpoints:read"])
    await engine.dispose()
    await service.start()
    try:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "schemathesis.cli", "run", f"{service.url}/openapi.json",
             "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing",
             "--max-examples", "60", "--seed", "1",
             "-H", f"Authorization: Bearer {key}", "--request-timeout", "10"],
            capture_output=True, text=True, timeout=600, check=False)
    finally:
        service.stop()

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
