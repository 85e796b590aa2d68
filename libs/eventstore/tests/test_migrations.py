from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_eventstore import EVENT_STORE_MIGRATIONS, migrate
from crm_eventstore.migrations import Migration, MigrationError, MigrationSet


async def test_migrations_apply_once_and_are_recorded(
    engine: AsyncEngine, schema_name: str
) -> None:
    again = await migrate(engine, schema_name, [EVENT_STORE_MIGRATIONS])

    async with engine.connect() as conn:
        recorded = (await conn.execute(text(
            "SELECT component, version FROM schema_migrations"))).all()
    assert again == []
    assert ("eventstore", 1) in recorded


async def test_a_migration_edited_after_it_ran_is_refused(
    engine: AsyncEngine, schema_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = EVENT_STORE_MIGRATIONS.migrations()
    edited = [Migration(m.version, m.name, m.sql + "\n-- edited") for m in original]
    monkeypatch.setattr(MigrationSet, "migrations", lambda self: edited)

    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(engine, schema_name, [EVENT_STORE_MIGRATIONS])


def test_migration_files_are_numbered_without_duplicates() -> None:
    migrations = EVENT_STORE_MIGRATIONS.migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert all(Path(f"{m.version:04d}_{m.name}.sql").suffix == ".sql" for m in migrations)
