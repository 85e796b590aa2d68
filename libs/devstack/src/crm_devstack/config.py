"""Configuration of ``make run``, from the environment, with documented defaults.

``CRM_DATA_DIR`` (default ``.data``) holds everything the local stack writes:
``postgres/`` (the cluster), ``logs/`` (Postgres and broker logs) and
``bootstrap-api-key`` (the generated key, when none was given).
``POSTGRES_PORT`` (5432) and ``KAFKA_PORT`` (9092) place the embedded servers;
``CRM_PORT_OFFSET`` (0) shifts every service port (8001-8005) to run a second
stack beside the first. If
``DATABASE_URL`` or ``KAFKA_BOOTSTRAP_SERVERS`` is set, that server is used and
the embedded one is not started.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalConfig"]


@dataclass(frozen=True)
class LocalConfig:
    data_dir: Path
    postgres_port: int
    kafka_port: int
    external_database_url: str | None
    external_kafka: str | None
    bootstrap_api_key: str | None
    port_offset: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> LocalConfig:
        return cls(
            data_dir=Path(env.get("CRM_DATA_DIR", ".data")).resolve(),
            postgres_port=int(env.get("POSTGRES_PORT", "5432")),
            kafka_port=int(env.get("KAFKA_PORT", "9092")),
            external_database_url=env.get("DATABASE_URL") or None,
            external_kafka=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            bootstrap_api_key=env.get("CRM_BOOTSTRAP_API_KEY") or None,
            port_offset=int(env.get("CRM_PORT_OFFSET", "0")),
        )
