"""Trace/correlation, body-size limit, access log and request metrics."""

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from crm_servicekit import ServiceSettings

PROBLEM = "application/problem+json"
INCOMING = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_echoes_a_given_correlation_id_and_makes_it_current(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/trace", headers={"X-Correlation-ID": "order-flow-77"})

    assert response.headers["x-correlation-id"] == "order-flow-77"
    assert response.json()["correlation_id"] == "order-flow-77"


async def test_generates_a_correlation_id_when_absent_or_invalid(client: httpx.AsyncClient) -> None:
    absent = await client.get("/v1/trace")
    invalid = await client.get("/v1/trace", headers={"X-Correlation-ID": "has spaces; and more"})

    for response in (absent, invalid):
        generated = response.headers["x-correlation-id"]
        assert uuid.UUID(generated)
        assert response.json()["correlation_id"] == generated
    assert absent.headers["x-correlation-id"] != invalid.headers["x-correlation-id"]


async def test_continues_an_incoming_trace_with_a_new_span(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/trace", headers={"traceparent": INCOMING})

    returned = response.headers["traceparent"]
    assert returned.split("-")[1] == INCOMING.split("-")[1]
    assert returned.split("-")[2] != INCOMING.split("-")[2]
    assert response.json()["trace_id"] == INCOMING.split("-")[1]


async def test_starts_a_new_trace_when_traceparent_is_absent_or_invalid(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/trace", headers={"traceparent": "00-zz-yy-01"})

    returned = response.headers["traceparent"]
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", returned)
    assert response.json()["trace_id"] == returned.split("-")[1]


async def test_error_responses_carry_the_correlation_headers_too(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/v1/nowhere", "/v1/boom"):
        response = await client.get(path, headers={"X-Correlation-ID": "err-1"})
        assert response.headers["x-correlation-id"] == "err-1"
        assert "traceparent" in response.headers


@pytest.fixture
async def small_limit_client(
    running, settings: ServiceSettings,  # type: ignore[no-untyped-def]
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings.model_copy(update={"max_body_bytes": 1000})) as client:
        yield client


async def test_a_declared_length_over_the_limit_is_a_413_problem(
    small_limit_client: httpx.AsyncClient,
) -> None:
    response = await small_limit_client.post("/v1/uploads", content=b"x" * 1001)

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["max_body_bytes"] == 1000
    assert body["title"] == "Content Too Large"


async def test_a_streamed_body_over_the_limit_is_a_413_problem(
    small_limit_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 300

    response = await small_limit_client.post("/v1/uploads", content=chunks())

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_bodies_within_the_limit_pass(small_limit_client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(2):
            yield b"z" * 500

    declared = await small_limit_client.post("/v1/uploads", content=b"x" * 1000)
    streamed = await small_limit_client.post("/v1/uploads", content=chunks())

    assert declared.json() == {"bytes": 1000}
    assert streamed.json() == {"bytes": 1000}


async def test_a_streamed_json_body_over_the_limit_is_413_not_a_parse_error(
    small_limit_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        yield b"n" * 2000
        yield b'", "count": 1}'

    response = await small_limit_client.post(
        "/v1/things", content=chunks(), headers={"Content-Type": "application/json"})

    # Authentication runs after the body is read, so the size limit answers first.
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_writes_an_access_log_line_with_route_status_and_duration(
    client: httpx.AsyncClient, json_logs,  # type: ignore[no-untyped-def]
) -> None:
    await client.get("/v1/things/5", headers={"X-Correlation-ID": "log-1"})

    [line] = [entry for entry in json_logs() if entry["logger"] == "crm_servicekit.access"]
    assert line["message"] == "GET /v1/things/5 401"
    assert line["route"] == "/v1/things/{thing_id}"
    assert (line["method"], line["status"], line["level"]) == ("GET", 401, "INFO")
    assert line["correlation_id"] == "log-1"
    assert isinstance(line["duration_ms"], float)


async def test_the_access_log_names_the_api_key_that_made_the_request(
    client: httpx.AsyncClient, keys: dict[str, str], json_logs,  # type: ignore[no-untyped-def]
) -> None:
    await client.get("/v1/things/5", headers={"Authorization": f"Bearer {keys['reader']}"})

    [line] = [entry for entry in json_logs() if entry["logger"] == "crm_servicekit.access"]
    assert line["api_key_id"] == keys["reader"].split("_")[1]


async def test_probe_requests_are_logged_at_debug_only(
    client: httpx.AsyncClient, json_logs,  # type: ignore[no-untyped-def]
) -> None:
    await client.get("/healthz")

    [line] = [entry for entry in json_logs() if entry["logger"] == "crm_servicekit.access"]
    assert line["level"] == "DEBUG"


async def test_metrics_count_requests_by_method_route_template_and_status(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    def count(text: str, labels: str) -> float:
        match = re.search(r"^http_requests_total\{" + re.escape(labels) + r"\} (\S+)$", text,
                          re.MULTILINE)
        return float(match[1]) if match else 0.0

    labels = 'method="GET",route="/v1/things/{thing_id}",status="200"'
    before = count((await client.get("/metrics")).text, labels)
    reader = {"Authorization": f"Bearer {keys['reader']}"}
    for thing in (1, 2, 3):
        await client.get(f"/v1/things/{thing}", headers=reader)
    await client.get("/v1/no/such/path")

    scraped = await client.get("/metrics")

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert count(scraped.text, labels) == before + 3
    assert count(scraped.text, 'method="GET",route="<unmatched>",status="404"') >= 1
    assert re.search(r'^http_request_duration_seconds_bucket\{le="0.005",method="GET",'
                     r'route="/v1/things/\{thing_id\}"\}', scraped.text, re.MULTILINE)
