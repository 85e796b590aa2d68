"""The public surface of crm_servicekit is what we mean it to be."""

import crm_servicekit
import crm_servicekit.apikeys


def test_the_service_kit_exports() -> None:
    assert sorted(crm_servicekit.__all__) == sorted([
        "PROBLEM_MEDIA_TYPE", "JsonFormatter", "NotReadyError", "Problem", "ProblemDocument",
        "ProblemResponse", "ReadinessCheck", "ServiceApp", "ServiceContext", "ServiceSettings",
        "Worker", "configure_logging", "create_app", "get_context", "problem_responses", "serve",
    ])
    assert all(hasattr(crm_servicekit, name) for name in crm_servicekit.__all__)


def test_the_api_keys_exports() -> None:
    exported = set(crm_servicekit.apikeys.__all__)
    assert {"API_KEYS_MIGRATIONS", "ApiKey", "ApiKeyStore", "require_scope", "ALL_SCOPES",
            "UnknownScopeError", "ApiKeyConflictError", "InvalidApiKeyError"} <= exported
    assert all(hasattr(crm_servicekit.apikeys, name) for name in exported)
    assert len(crm_servicekit.apikeys.ALL_SCOPES) == 12


def test_the_api_keys_migrations_ship_inside_the_package() -> None:
    [migration] = crm_servicekit.apikeys.API_KEYS_MIGRATIONS.migrations()
    assert (migration.version, migration.name) == (1, "api_keys")
    assert "secret_hash" in migration.sql


def test_importing_connects_to_nothing() -> None:
    import subprocess
    import sys

    code = ("import socket\n"
            "def refuse(*a, **k): raise AssertionError('connected at import time')\n"
            "socket.socket.connect = refuse\n"
            "import crm_servicekit, crm_servicekit.apikeys.cli")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
