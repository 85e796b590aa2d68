"""Settings every service reads from its environment.

There is no prefix: ``DATABASE_URL``, ``DB_SCHEMA``, ``HTTP_PORT`` ... are read as
they are, and each service subclasses :class:`ServiceSettings` to set its own
defaults (name, port) and add its own fields.
"""

from __future__ import annotations

import logging

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm_eventstore.db import validate_schema_name

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """Configuration shared by every service process."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str
    database_url: str = Field(description="postgresql:// URL of the service's database")
    db_schema: str = Field(
        default="", description="Postgres schema the service owns; defaults to the service name"
    )
    vault_database_url: str = Field(
        default="", description="postgresql:// URL of the key vault's database; defaults to "
                                "database_url (one server holding every schema)")
    vault_schema: str = Field(default="vault", description="schema of the key vault")
    kafka_bootstrap_servers: str = "localhost:9092"
    http_host: str = "0.0.0.0"  # noqa: S104 - services listen on every interface in containers
    http_port: int
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=1_048_576 + 65_536, ge=0)
    api_key_cache_seconds: float = Field(default=5.0, ge=0)
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    consumer_session_timeout_ms: int = Field(
        default=10_000, ge=1_000,
        description="how long a consumer group waits for a silent member before giving its "
                    "partitions to the others; the broker (Tansu) also holds a new member's "
                    "first join for half of it, so it sets how long a consumer takes to start")
    http_workers: int = Field(
        default=1, ge=1, le=64, description="HTTP worker processes (each runs the workers too)")
    background_processes: int = Field(
        default=1, ge=1, le=16,
        description="processes for the background workers (relays, consumers); each runs "
                    "its share of them, in the order the service lists them")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}")
        return level

    @model_validator(mode="after")
    def _default_schema(self) -> ServiceSettings:
        if not self.db_schema:
            self.db_schema = self.service_name.replace("-", "_")
        validate_schema_name(self.db_schema)
        validate_schema_name(self.vault_schema)
        if not self.vault_database_url:
            self.vault_database_url = self.database_url
        return self
