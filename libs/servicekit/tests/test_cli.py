"""``python -m crm_servicekit.apikeys``: create, list, revoke, register across schemas."""

import os
import subprocess
import sys
import uuid

import pytest

from crm_eventstore.db import create_engine
from crm_servicekit.apikeys import ApiKeyStore, parse_key
from crm_servicekit.apikeys.cli import main_async


async def _authenticate(postgres_url: str, schema: str, plaintext: str) -> object:
    engine = create_engine(postgres_url, schema, pool_size=1)
    try:
        return await ApiKeyStore(engine, cache_seconds=0).authenticate(plaintext)
    finally:
        await engine.dispose()


@pytest.fixture
def schemas() -> list[str]:
    return [f"cli_{uuid.uuid4().hex[:10]}" for _ in range(2)]


def _db(postgres_url: str, schemas: list[str]) -> list[str]:
    return ["--database-url", postgres_url, *(arg for s in schemas for arg in ("--schema", s))]


async def test_create_prints_the_key_once_and_stores_it_in_every_schema(
    postgres_url: str, schemas: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    status = await main_async(["create", "--name", "web shop", "--scope", "touchpoints:write",
                               "--channel", "web", *_db(postgres_url, schemas)])

    out, err = capsys.readouterr()
    assert status == 0
    plaintext = out.strip()
    parse_key(plaintext)
    assert "cannot be shown again" in err
    for schema in schemas:
        key = await _authenticate(postgres_url, schema, plaintext)
        assert key is not None, schema
        assert key.channels == {"web"}  # type: ignore[attr-defined]


async def test_list_shows_keys_but_never_their_secrets(
    postgres_url: str, schemas: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    await main_async(["create", "--name", "analyst", "--scope", "customers:read",
                      *_db(postgres_url, schemas[:1])])
    plaintext = capsys.readouterr().out.strip()
    key_id, secret = parse_key(plaintext)

    status = await main_async(["list", *_db(postgres_url, schemas[:1])])

    out = capsys.readouterr().out
    assert status == 0
    assert key_id in out and "analyst" in out and "customers:read" in out and "active" in out
    assert secret not in out


async def test_revoke_stops_the_key_working_in_the_given_schemas(
    postgres_url: str, schemas: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    await main_async(["create", "--name", "temp", "--scope", "admin", *_db(postgres_url, schemas)])
    plaintext = capsys.readouterr().out.strip()
    key_id, _ = parse_key(plaintext)

    status = await main_async(["revoke", key_id, *_db(postgres_url, schemas)])

    assert status == 0
    assert "revoked" in capsys.readouterr().err
    for schema in schemas:
        assert await _authenticate(postgres_url, schema, plaintext) is None
    assert await main_async(["list", *_db(postgres_url, schemas[:1])]) == 0
    assert "revoked" in capsys.readouterr().out


async def test_revoking_an_unknown_key_fails_with_status_1(
    postgres_url: str, schemas: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    assert await main_async(["revoke", "nosuchkey", *_db(postgres_url, schemas[:1])]) == 1
    assert "no key nosuchkey" in capsys.readouterr().err


async def test_register_stores_a_given_key_with_every_scope_idempotently(
    postgres_url: str, schemas: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    plaintext = "crm_devbootstrap_local-only-0123456789"
    argv = ["register", "--key", plaintext, "--name", "bootstrap", "--all-scopes",
            *_db(postgres_url, schemas)]

    assert await main_async(argv) == 0
    assert await main_async(argv) == 0

    for schema in schemas:
        key = await _authenticate(postgres_url, schema, plaintext)
        assert key is not None and key.has_scope("customers:read:pii")  # type: ignore[attr-defined]
    assert plaintext not in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["create", "--name", "x", "--scope", "touchpoint:write"], "unknown scope"),
    (["create", "--name", "x"], "--scope"),
    (["register", "--key", "not-a-key", "--name", "x", "--all-scopes"], "crm_<key id"),
    (["list", "--schema", "Bad-Schema"], "invalid schema name"),
    (["frobnicate"], "invalid choice"),
])
async def test_bad_usage_exits_with_status_2_and_says_why(
    postgres_url: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    full = [*argv, "--database-url", postgres_url]
    if "--schema" not in argv and argv[0] != "frobnicate":
        full += ["--schema", "cli_usage"]

    assert await main_async(full) == 2
    assert message in capsys.readouterr().err


async def test_missing_database_and_schema_are_usage_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_SCHEMA", raising=False)
    assert await main_async(["list", "--schema", "a"]) == 2
    assert "DATABASE_URL" in capsys.readouterr().err

    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost/x")
    assert await main_async(["list"]) == 2
    assert "DB_SCHEMA" in capsys.readouterr().err


async def test_an_unreachable_database_fails_with_status_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from crm_devstack.ports import free_port

    url = f"postgresql://u@127.0.0.1:{free_port()}/x"
    assert await main_async(["list", "--database-url", url, "--schema", "a"]) == 1
    assert "cannot use the database" in capsys.readouterr().err


def test_runs_as_a_module_reading_the_environment(postgres_url: str, schemas: list[str]) -> None:
    env = {**os.environ, "DATABASE_URL": postgres_url, "DB_SCHEMA": schemas[0]}

    created = subprocess.run(
        [sys.executable, "-m", "crm_servicekit.apikeys", "create", "--name", "ops",
         "--scope", "segments:read"], env=env, capture_output=True, text=True, timeout=60)
    listed = subprocess.run([sys.executable, "-m", "crm_servicekit.apikeys", "list"],
                            env=env, capture_output=True, text=True, timeout=60)
    bad = subprocess.run([sys.executable, "-m", "crm_servicekit.apikeys", "revoke"],
                         env=env, capture_output=True, text=True, timeout=60)

    assert created.returncode == 0, created.stderr
    key_id, _ = parse_key(created.stdout.strip())
    assert listed.returncode == 0 and key_id in listed.stdout
    assert bad.returncode == 2 and "key_id" in bad.stderr
