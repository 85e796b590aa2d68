"""Engines bound to one service schema.

Every service owns one Postgres schema. The engine pins ``search_path`` to it on
every connection, so SQL in libs and services is written unqualified and the same
code runs against a schema of the embedded server or a database of its own.
"""

from __future__ import annotations

import re

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["async_url", "autocommit", "create_engine", "validate_schema_name"]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def validate_schema_name(schema: str) -> str:
    """Return ``schema`` if it is a safe identifier, else raise ``ValueError``."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}: use lower-case letters, digits, _")
    return schema


def async_url(url: str) -> str:
    """Normalise a ``postgresql://`` URL to the asyncpg dialect SQLAlchemy needs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, schema: str, *, pool_size: int = 10) -> AsyncEngine:
    """Create an async engine whose connections all use ``schema`` as search path."""
    validate_schema_name(schema)
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip per checkout. A connection that died is
        # reported as a transient error, which callers retry (the consumer kit does).
        pool_recycle=1800,
        connect_args={"server_settings": {"search_path": schema, "application_name": schema}},
    )


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` (sharing its pool) running each statement as a transaction of its own.

    For a lone statement, or reads: a query is then one round trip, without the BEGIN
    and COMMIT (or ROLLBACK) around it, which here cost about as much CPU as the query
    (a loopback round trip, and SQLAlchemy's transaction handling). Each statement sees
    what was committed when it began, as in a READ COMMITTED transaction.
    """
    return engine.execution_options(isolation_level="AUTOCOMMIT")
