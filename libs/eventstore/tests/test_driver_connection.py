"""Statements sent through the driver belong to the SQLAlchemy connection's transaction."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_eventstore import autocommit, driver_connection


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one())


@pytest.fixture
async def notes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (body text NOT NULL)"))


async def test_what_the_driver_writes_commits_and_rolls_back_with_the_transaction(
    engine: AsyncEngine, notes: None,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes VALUES ('through sqlalchemy')"))
        await (await driver_connection(conn)).execute("INSERT INTO notes VALUES ($1)", "raw")
    assert await _count(engine) == 2

    with pytest.raises(ZeroDivisionError):
        async with engine.begin() as conn:
            await conn.execute(text("SELECT 1"))
            await (await driver_connection(conn)).execute("INSERT INTO notes VALUES ('x')")
            raise ZeroDivisionError
    assert await _count(engine) == 2


async def test_a_transaction_not_begun_on_the_server_is_begun_by_the_driver_statement(
    engine: AsyncEngine, notes: None,
) -> None:
    async with engine.begin() as conn:
        await (await driver_connection(conn)).execute("INSERT INTO notes VALUES ('first')")
        await conn.execute(text("INSERT INTO notes VALUES ('then sqlalchemy')"))
    assert await _count(engine) == 2

    with pytest.raises(ZeroDivisionError):
        async with engine.begin() as conn:
            await (await driver_connection(conn)).execute("INSERT INTO notes VALUES ('x')")
            await conn.execute(text("INSERT INTO notes VALUES ('y')"))
            raise ZeroDivisionError
    assert await _count(engine) == 2


async def test_on_an_autocommit_connection_each_statement_commits_alone(
    engine: AsyncEngine, notes: None,
) -> None:
    async with autocommit(engine).connect() as conn:
        driver = await driver_connection(conn)
        assert not driver.is_in_transaction()
        await driver.execute("INSERT INTO notes VALUES ('alone')")
        await conn.execute(text("SELECT 1"))
        await (await driver_connection(conn)).execute("INSERT INTO notes VALUES ('alone too')")
        assert await _count(engine) == 2  # seen from another connection: committed


async def test_an_invalidated_connection_hands_out_a_fresh_driver_connection(
    engine: AsyncEngine, notes: None,
) -> None:
    async with engine.connect() as conn:
        first = await driver_connection(conn)
        await conn.invalidate()  # as after a lost connection: the next use reconnects
        second = await driver_connection(conn)
        assert second is not first and first.is_closed()
        await second.execute("INSERT INTO notes VALUES ('after reconnecting')")
    assert await _count(engine) == 1
