"""Versioned schema migrations, applied per service schema.

A *migration set* is a folder of ``NNNN_description.sql`` files shipped inside a
package. Shared libs contribute their own sets (the event store's tables, the
consumer inbox, API keys) and each service adds its own; every set is recorded
under its component name in ``schema_migrations``, so sets evolve independently.
Applied files are checksummed: editing a migration that already ran is an error,
not a silent drift. Concurrent migrators are serialised by an advisory lock.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_eventstore.db import validate_schema_name

__all__ = ["Migration", "MigrationError", "MigrationSet", "migrate"]

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """A migration set is inconsistent with what the database already applied."""


@dataclass(frozen=True)
class Migration:
    """One versioned SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationSet:
    """The migrations of one component, read from ``package``/``folder``."""

    component: str
    package: str
    folder: str = "migrations"

    def migrations(self) -> list[Migration]:
        root = resources.files(self.package).joinpath(self.folder)
        found: list[Migration] = []
        for entry in root.iterdir():
            match = _FILE_NAME.match(entry.name)
            if match:
                found.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
        found.sort(key=lambda m: m.version)
        versions = [m.version for m in found]
        if len(set(versions)) != len(versions):
            raise MigrationError(f"{self.component}: duplicate migration versions {versions}")
        return found


_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component  text        NOT NULL,
    version    integer     NOT NULL,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""


async def migrate(engine: AsyncEngine, schema: str, sets: list[MigrationSet]) -> list[str]:
    """Create ``schema`` if needed and apply every pending migration of ``sets``.

    Returns the applied migrations as ``component:NNNN_name`` strings.
    """
    validate_schema_name(schema)
    applied: list[str] = []
    async with engine.begin() as conn:
        # One migrator per schema at a time; others wait here, then find nothing to do.
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": schema})
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        await conn.execute(text(_BOOKKEEPING))
        for migration_set in sets:
            applied += await _apply_set(conn, migration_set)
    return applied


async def _run_script(conn: AsyncConnection, sql: str) -> None:
    # A migration file holds several statements: send it through asyncpg's simple
    # query protocol, on the same connection and so in the same transaction.
    raw = await conn.get_raw_connection()
    await raw.driver_connection.execute(sql)  # type: ignore[union-attr]  # asyncpg conn


async def _apply_set(conn: AsyncConnection, migration_set: MigrationSet) -> list[str]:
    rows = await conn.execute(
        text("SELECT version, checksum FROM schema_migrations WHERE component = :c"),
        {"c": migration_set.component},
    )
    done = {int(version): str(checksum) for version, checksum in rows}
    applied: list[str] = []
    for migration in migration_set.migrations():
        label = f"{migration_set.component}:{migration.version:04d}_{migration.name}"
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                raise MigrationError(f"{label} was changed after it was applied")
            continue
        await _run_script(conn, migration.sql)
        await conn.execute(
            text(
                "INSERT INTO schema_migrations (component, version, name, checksum)"
                " VALUES (:c, :v, :n, :k)"
            ),
            {"c": migration_set.component, "v": migration.version,
             "n": migration.name, "k": migration.checksum},
        )
        applied.append(label)
    return applied
