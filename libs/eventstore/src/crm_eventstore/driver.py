"""Statements sent straight through asyncpg, inside a SQLAlchemy connection's transaction.

SQLAlchemy's ``execute`` costs about 100-170 us of CPU per statement here on top of
asyncpg's 80-90 us (bind processing, the result wrapper, a greenlet switch). Code that
sends many small statements per message (identity resolution: a dozen per chunk, most
chunks small when traffic is light) sends them through the driver, in the same
transaction, with asyncpg's own ``$1`` parameters and prepared-statement cache.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["driver_connection"]


async def driver_connection(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under ``connection``; what it runs is part of the same
    transaction. SQLAlchemy sends its BEGIN with the transaction's first statement, so
    send one through ``connection`` first: before that, a statement sent here would run
    (and commit) on its own, and this raises ``RuntimeError`` instead."""
    raw = (await connection.get_raw_connection()).driver_connection
    if not isinstance(raw, asyncpg.Connection):
        raise TypeError("driver_connection needs an engine of the asyncpg dialect")
    if connection.in_transaction() and not raw.is_in_transaction():
        raise RuntimeError("the transaction has not begun on the server yet: send a "
                           "statement through SQLAlchemy first")
    return raw
