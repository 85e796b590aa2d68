"""Statements sent straight through asyncpg, inside a SQLAlchemy connection's transaction.

SQLAlchemy's ``execute`` costs about 100-170 us of CPU per statement here on top of
asyncpg's 80-90 us (bind processing, the result wrapper, a greenlet switch). The
statements every message or request pays for (event appends, the inbox, the outbox, the
key vault, identity resolution's dozen per chunk) go through the driver, in the same
transaction, with asyncpg's own ``$1`` parameters and prepared-statement cache.

Errors then come as asyncpg's own (``asyncpg.PostgresError`` with its ``sqlstate``),
not wrapped in SQLAlchemy's.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine.interfaces import PoolProxiedConnection
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["driver_connection"]


async def driver_connection(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under ``connection``; what it runs is part of the same
    transaction (on an AUTOCOMMIT connection, each statement commits on its own).

    SQLAlchemy sends its BEGIN with the transaction's first statement; if none was sent
    yet, the transaction is begun here, as SQLAlchemy would begin it (its dialect's
    adapter keeps the asyncpg transaction it commits or rolls back later)."""
    proxied = await _pooled(connection)
    raw = proxied.driver_connection
    if not isinstance(raw, asyncpg.Connection):
        raise TypeError("driver_connection needs an engine of the asyncpg dialect")
    if connection.in_transaction() and not raw.is_in_transaction():
        adapter: Any = proxied.dbapi_connection
        # AsyncAdapt_asyncpg_connection (SQLAlchemy 2.0-2.1); it does nothing under
        # AUTOCOMMIT. The tests of this module pin the behaviour.
        await adapter._start_transaction()
    return raw


async def _pooled(connection: AsyncConnection) -> PoolProxiedConnection:
    # A connected, valid Connection hands out its pooled connection without I/O;
    # get_raw_connection would spawn a greenlet for it (30-60 us), once per statement.
    sync = connection.sync_connection
    if sync is not None and not (sync.closed or sync.invalidated):
        return sync.connection
    return await connection.get_raw_connection()
