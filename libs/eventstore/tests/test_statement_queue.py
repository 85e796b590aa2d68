"""The statement queue: calls made in order, in the background, within the transaction."""

import asyncio
from functools import partial

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_eventstore import StatementQueue, driver_connection


@pytest.fixture
async def notes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(
            "CREATE TABLE notes (n bigint GENERATED ALWAYS AS IDENTITY, body text NOT NULL)"))


async def _bodies(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT body FROM notes ORDER BY n"))).scalars())


async def test_calls_are_made_in_the_order_put_and_commit_with_the_transaction(
    engine: AsyncEngine, notes: None,
) -> None:
    async with engine.begin() as conn:
        driver = await driver_connection(conn)
        async with StatementQueue() as queue:
            for n in range(20):
                # Each waits a little, so that later ones are put while it runs.
                await queue.put(partial(driver.execute,
                                        "INSERT INTO notes (body) SELECT $1 FROM pg_sleep(0.002)",
                                        f"note {n}"))
        # The block is left once every call was made: the connection is free again.
        await conn.execute(text("INSERT INTO notes (body) VALUES ('after the queue')"))

    assert await _bodies(engine) == [f"note {n}" for n in range(20)] + ["after the queue"]


async def test_a_call_is_sent_when_put_if_the_connection_is_free() -> None:
    started: list[str] = []
    release = asyncio.Event()

    async def call(name: str) -> None:
        started.append(name)
        await release.wait()

    async with StatementQueue() as queue:
        await queue.put(partial(call, "first"))
        assert started == ["first"], "sent before the caller goes on computing"
        await queue.put(partial(call, "second"))
        assert started == ["first"], "one call at a time: the first has not answered"
        release.set()
        await queue.breathe()
        assert started == ["first", "second"]


async def test_a_failed_call_skips_the_rest_and_is_raised_when_the_block_is_left(
    engine: AsyncEngine, notes: None,
) -> None:
    with pytest.raises(asyncpg.NotNullViolationError):
        async with engine.begin() as conn:
            driver = await driver_connection(conn)
            async with StatementQueue() as queue:
                await queue.put(partial(driver.execute,
                                        "INSERT INTO notes (body) VALUES ('kept?')"))
                await queue.put(partial(driver.execute,
                                        "INSERT INTO notes (body) VALUES (NULL)"))
                await queue.put(partial(driver.execute,
                                        "INSERT INTO notes (body) VALUES ('skipped')"))

    assert await _bodies(engine) == [], "the transaction rolled back"


async def test_a_put_after_a_failure_raises_that_failure(engine: AsyncEngine, notes: None) -> None:
    with pytest.raises(asyncpg.NotNullViolationError):
        async with engine.begin() as conn:
            driver = await driver_connection(conn)
            async with StatementQueue() as queue:
                await queue.put(partial(driver.execute, "INSERT INTO notes (body) VALUES (NULL)"))
                while True:  # the caller goes on until the queue tells it
                    await queue.put(partial(driver.execute,
                                            "INSERT INTO notes (body) VALUES ('more')"))


async def test_leaving_by_an_exception_waits_for_the_call_in_flight_and_raises_the_exception(
    engine: AsyncEngine, notes: None,
) -> None:
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with engine.begin() as conn:
            driver = await driver_connection(conn)
            async with StatementQueue() as queue:
                await queue.put(partial(
                    driver.execute, "INSERT INTO notes (body) SELECT 'slow' FROM pg_sleep(0.05)"))
                await queue.put(partial(driver.execute,
                                        "INSERT INTO notes (body) VALUES ('never sent')"))
                raise Abandoned
            # Not reached; the rollback that follows needs the connection free, and is.

    assert await _bodies(engine) == []
    async with engine.begin() as conn:  # the pool's connection is usable
        await conn.execute(text("INSERT INTO notes (body) VALUES ('fine')"))
    assert await _bodies(engine) == ["fine"]


async def test_the_queue_must_be_entered_before_use() -> None:
    async def call() -> None:
        pass

    with pytest.raises(RuntimeError, match="context manager"):
        await StatementQueue().put(call)
