"""Every error an app made by create_app answers is an RFC 9457 problem document."""

import httpx

PROBLEM = "application/problem+json"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["type"], str) and body["type"]
    return body


async def test_an_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/nowhere"), 404)

    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["instance"] == "/v1/nowhere"


async def test_a_framework_http_exception_keeps_its_detail(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/customers/c-1"), 404)

    assert body["detail"] == "Customer c-1 was not found."
    assert body["type"] == "about:blank"


async def test_a_wrong_method_is_a_405_problem_listing_the_allowed_ones(
    client: httpx.AsyncClient,
) -> None:
    response = await client.delete("/v1/things")

    body = assert_problem(response, 405)
    assert response.headers["allow"] == "POST"
    assert "POST" in str(body["detail"])


async def test_an_invalid_body_is_a_422_problem_naming_each_field_and_rule(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    response = await client.post("/v1/things", json={"name": "", "count": -1, "tags": [1]},
                                 headers=bearer(keys["writer"]))

    body = assert_problem(response, 422)
    assert body["type"] == "urn:crm:problem:validation-error"
    errors = {e["field"]: e for e in body["errors"]}  # type: ignore[attr-defined]
    assert errors["name"]["rule"] == "string_too_short"
    assert errors["count"]["rule"] == "greater_than_equal"
    assert errors["tags[0]"]["rule"] == "string_type"
    assert {e["location"] for e in errors.values()} == {"body"}
    assert all(e["message"] for e in errors.values())
    assert body["detail"] == "3 fields are invalid"


async def test_a_missing_field_and_a_bad_path_parameter_are_422_with_their_location(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    missing = await client.post("/v1/things", json={"name": "a"}, headers=bearer(keys["writer"]))
    bad_path = await client.get("/v1/things/abc", headers=bearer(keys["reader"]))

    [error] = assert_problem(missing, 422)["errors"]  # type: ignore[misc]
    assert error == {"field": "count", "location": "body", "rule": "missing",
                     "message": "Field required"}
    [error] = assert_problem(bad_path, 422)["errors"]  # type: ignore[misc]
    assert (error["field"], error["location"], error["rule"]) == (
        "thing_id", "path", "int_parsing")


async def test_malformed_json_is_a_400_problem(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    response = await client.post(
        "/v1/things", content=b'{"name": "a", "count": ',
        headers={**bearer(keys["writer"]), "Content-Type": "application/json"},
    )

    body = assert_problem(response, 400)
    assert body["type"] == "urn:crm:problem:malformed-json"
    assert "not valid JSON" in str(body["detail"])


async def test_a_problem_raised_by_a_route_keeps_its_type_and_extensions(
    client: httpx.AsyncClient,
) -> None:
    body = assert_problem(await client.get("/v1/conflict"), 409)

    assert body["type"] == "urn:crm:problem:version-conflict"
    assert body["title"] == "Version conflict"
    assert body["detail"] == "Expected version 3, found 4."
    assert body["expected_version"] == 3


async def test_an_unhandled_error_is_a_generic_500_problem_logged_with_its_traceback(
    client: httpx.AsyncClient, json_logs,  # type: ignore[no-untyped-def]
) -> None:
    response = await client.get("/v1/boom", headers={"X-Correlation-ID": "boom-1"})

    body = assert_problem(response, 500)
    assert "db-internal-7" not in response.text and "RuntimeError" not in response.text
    assert body["correlation_id"] == "boom-1"
    assert response.headers["x-correlation-id"] == "boom-1"
    [logged] = [line for line in json_logs() if line["level"] == "ERROR"]
    assert logged["correlation_id"] == "boom-1"
    assert "RuntimeError: connection to db-internal-7" in logged["exception"]


async def test_every_problem_carries_the_correlation_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nowhere", headers={"X-Correlation-ID": "abc-123"})

    assert assert_problem(response, 404)["correlation_id"] == "abc-123"
