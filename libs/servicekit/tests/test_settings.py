import pytest
from pydantic import ValidationError

from crm_servicekit import ServiceSettings


class TouchpointSettings(ServiceSettings):
    service_name: str = "touchpoint"
    http_port: int = 8001


def test_reads_unprefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/crm")
    monkeypatch.setenv("DB_SCHEMA", "tp_blue")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("HTTP_PORT", "9001")
    monkeypatch.setenv("LOG_LEVEL", "debug")

    settings = TouchpointSettings()

    assert settings.database_url == "postgresql://u@db/crm"
    assert settings.db_schema == "tp_blue"
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.http_port == 9001
    assert settings.log_level == "DEBUG"


def test_schema_defaults_to_the_service_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_SCHEMA", raising=False)
    settings = TouchpointSettings(database_url="postgresql://u@db/crm")
    assert settings.db_schema == "touchpoint"
    assert settings.max_body_bytes == 1_048_576 + 65_536
    assert settings.api_key_cache_seconds == 5.0
    assert (settings.http_host, settings.kafka_bootstrap_servers) == ("0.0.0.0", "localhost:9092")


def test_a_hyphenated_service_name_gives_an_underscored_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DB_SCHEMA", raising=False)
    settings = ServiceSettings(service_name="customer-view", database_url="x", http_port=1)
    assert settings.db_schema == "customer_view"


def test_rejects_an_unsafe_schema_name_and_an_unknown_log_level() -> None:
    with pytest.raises(ValidationError, match="invalid schema name"):
        ServiceSettings(service_name="s", database_url="x", http_port=1, db_schema="a; DROP")
    with pytest.raises(ValidationError, match="unknown log level"):
        ServiceSettings(service_name="s", database_url="x", http_port=1, log_level="LOUD")


def test_requires_a_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match="database_url"):
        TouchpointSettings()
