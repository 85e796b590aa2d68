"""The OpenAPI description documents errors as problem documents."""

import httpx

PROBLEM = "application/problem+json"
REF = {"$ref": "#/components/schemas/ProblemDocument"}


async def test_openapi_is_served_with_the_problem_schema(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    problem = spec["components"]["schemas"]["ProblemDocument"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    assert "FieldError" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


async def test_validation_errors_and_declared_problems_point_at_the_problem_schema(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()

    create = spec["paths"]["/v1/things"]["post"]["responses"]
    read = spec["paths"]["/v1/things/{thing_id}"]["get"]["responses"]
    assert create["422"]["content"] == {PROBLEM: {"schema": REF}}
    assert read["403"]["content"] == {PROBLEM: {"schema": REF}}
    assert read["401"]["description"] == "Unauthorized"


async def test_routes_with_require_scope_declare_bearer_security(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert spec["paths"]["/v1/things"]["post"]["security"] == [{"ApiKey": []}]
