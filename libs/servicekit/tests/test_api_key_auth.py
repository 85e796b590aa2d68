"""Scope checks through HTTP: require_scope on the routes of an app made by create_app."""

import httpx

from crm_servicekit.apikeys import ApiKeyStore

PROBLEM = "application/problem+json"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_key_with_the_scope_is_let_through_and_becomes_the_principal(
    client: httpx.AsyncClient, keys: dict[str, str], store: ApiKeyStore,
) -> None:
    response = await client.get("/v1/things/7", headers=bearer(keys["reader"]))

    assert response.status_code == 200
    reader = await store.authenticate(keys["reader"])
    assert reader is not None
    assert response.json() == {"id": 7, "key_id": reader.key_id}


async def test_admin_may_call_every_route(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    read = await client.get("/v1/things/1", headers=bearer(keys["admin"]))
    write = await client.post("/v1/things", json={"name": "a", "count": 1},
                              headers=bearer(keys["admin"]))
    assert (read.status_code, write.status_code) == (200, 201)


async def test_a_missing_authorization_header_is_401_with_a_bearer_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/things/1")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert body["type"] == "urn:crm:problem:unauthorized"
    assert body["instance"] == "/v1/things/1"


async def test_other_schemes_and_malformed_keys_are_401(client: httpx.AsyncClient) -> None:
    for authorization in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-key"]:
        response = await client.get("/v1/things/1", headers={"Authorization": authorization})
        assert response.status_code == 401, authorization
        assert response.headers["content-type"] == PROBLEM
        assert "Bearer" in response.headers["www-authenticate"]


async def test_an_unknown_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/things/1", headers=bearer(f"crm_unknownkey12_{'s' * 43}"))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_revoked_key_is_401(
    client: httpx.AsyncClient, keys: dict[str, str], store: ApiKeyStore,
) -> None:
    reader = await store.authenticate(keys["reader"])
    assert reader is not None
    await store.revoke(reader.key_id)

    response = await client.get("/v1/things/1", headers=bearer(keys["reader"]))

    assert response.status_code == 401


async def test_a_key_lacking_the_scope_is_403_naming_the_missing_scope(
    client: httpx.AsyncClient, keys: dict[str, str],
) -> None:
    response = await client.post("/v1/things", json={"name": "a", "count": 1},
                                 headers=bearer(keys["reader"]))

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["required_scope"] == "touchpoints:write"
    assert "touchpoints:write" in body["detail"]
    assert body["type"] == "urn:crm:problem:missing-scope"


def test_requiring_an_unknown_scope_fails_when_the_route_is_defined() -> None:
    import pytest

    from crm_servicekit.apikeys import UnknownScopeError, require_scope

    with pytest.raises(UnknownScopeError):
        require_scope("touchpoint:write")
