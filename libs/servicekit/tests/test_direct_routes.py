"""Direct routes: answered without FastAPI's router, inside the kit's own middleware, with
the same key check and problem documents as a declared route."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from crm_servicekit import Problem, ServiceSettings, create_app
from crm_servicekit.apikeys import ApiKey, ApiKeyStore, require_scope
from crm_servicekit.direct_routes import DirectRoute

PROBLEM = "application/problem+json"

notes = APIRouter(prefix="/v1/notes")


@notes.post("", status_code=202)
async def post_note_via_router(
    key: Annotated[ApiKey, Depends(require_scope("touchpoints:write"))],
) -> dict[str, str]:
    # The declared twin: documents the route; answers only if the direct route did not.
    return {"via": "router"}


async def post_note(request: Request, key: ApiKey) -> Response:
    body = await request.body()
    if body == b"refuse":
        raise Problem(422, "Invalid note", "notes may not say refuse", slug="invalid-note")
    if body == b"crash":
        raise RuntimeError("secret internals")
    return JSONResponse({"via": "direct", "key_id": key.key_id, "bytes": len(body)},
                        status_code=202)


DIRECT = DirectRoute("POST", "/v1/notes", "touchpoints:write", post_note)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def client(running: Any, settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings.model_copy(update={"max_body_bytes": 1000}),
                       routers=[notes], direct=[DIRECT]) as client:
        yield client


async def test_the_direct_endpoint_answers_with_the_key_as_principal(
    client: httpx.AsyncClient, keys: dict[str, str], store: ApiKeyStore,
) -> None:
    response = await client.post("/v1/notes", content=b"hello", headers=bearer(keys["writer"]))

    writer = await store.authenticate(keys["writer"])
    assert writer is not None
    assert response.status_code == 202
    assert response.json() == {"via": "direct", "key_id": writer.key_id, "bytes": 5}


async def test_no_key_is_401_and_a_key_without_the_scope_is_403(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    missing = await client.post("/v1/notes", content=b"x")
    unknown = await client.post("/v1/notes", content=b"x",
                                headers=bearer(f"crm_unknownkey12_{'s' * 43}"))
    lacking = await client.post("/v1/notes", content=b"x", headers=bearer(keys["reader"]))

    assert (missing.status_code, unknown.status_code, lacking.status_code) == (401, 401, 403)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in unknown.headers["www-authenticate"]
    assert lacking.headers["content-type"] == PROBLEM
    assert lacking.json()["required_scope"] == "touchpoints:write"


async def test_a_problem_raised_by_the_endpoint_is_a_problem_document(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    response = await client.post("/v1/notes", content=b"refuse",
                                 headers=bearer(keys["writer"]) | {"X-Correlation-ID": "note-1"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:crm:problem:invalid-note"
    assert body["instance"] == "/v1/notes"
    assert body["correlation_id"] == "note-1"  # inside the trace middleware
    assert response.headers["x-correlation-id"] == "note-1"


async def test_a_crash_is_a_500_problem_that_hides_the_internals(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    response = await client.post("/v1/notes", content=b"crash", headers=bearer(keys["writer"]))

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "secret" not in response.text


async def test_the_body_size_limit_still_applies(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    response = await client.post("/v1/notes", content=b"x" * 1001, headers=bearer(keys["writer"]))

    assert response.status_code == 413
    assert response.json()["max_body_bytes"] == 1000


async def test_other_methods_and_paths_go_to_the_router(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    other_method = await client.get("/v1/notes", headers=bearer(keys["writer"]))
    other_path = await client.post("/v1/notes/", content=b"x", headers=bearer(keys["writer"]))
    declared = await client.get("/v1/things/3", headers=bearer(keys["reader"]))

    assert other_method.status_code == 405
    assert other_method.headers["content-type"] == PROBLEM
    # The router's own answer to a trailing slash: a redirect to the route.
    assert other_path.status_code == 307
    assert other_path.headers["location"].endswith("/v1/notes")
    assert declared.json()["id"] == 3


async def test_the_access_log_and_metrics_name_the_direct_route(
    client: httpx.AsyncClient, keys: dict[str, str], json_logs,  # type: ignore[no-untyped-def]
) -> None:
    await client.post("/v1/notes", content=b"hello", headers=bearer(keys["writer"]))

    [line] = [entry for entry in json_logs() if entry["logger"] == "crm_servicekit.access"]
    assert line["route"] == "/v1/notes"
    assert line["status"] == 202
    scraped = (await client.get("/metrics")).text
    assert 'method="POST",route="/v1/notes",status="202"' in scraped


def test_a_direct_route_must_be_declared_on_a_router(settings: ServiceSettings) -> None:
    undeclared = DirectRoute("POST", "/v1/undeclared", "touchpoints:write", post_note)

    with pytest.raises(ValueError, match="POST /v1/undeclared is not declared"):
        create_app(settings, routers=[notes], direct=[undeclared])
    create_app(settings, routers=[notes], direct=[DIRECT])  # declared: accepted


def test_the_openapi_description_documents_the_direct_route(settings: ServiceSettings) -> None:
    app = create_app(settings, routers=[notes], direct=[DIRECT])

    assert "post" in app.openapi()["paths"]["/v1/notes"]
