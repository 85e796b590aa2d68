"""The event loop a process runs on: uvloop where it is installed, else asyncio's own.

Uvicorn already serves HTTP on uvloop (its ``loop="auto"``); a process that runs only
background workers (consumers, relays) or a bulk job starts its loop here, so that it
gets the same loop. Uvloop's sockets and callbacks cost less CPU than asyncio's, which
counts for processes that spend their time talking to Postgres and Kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to its end on a new event loop (as :func:`asyncio.run`)."""
    try:
        import uvloop
    except ImportError:  # not on every platform (uvicorn[standard] leaves it out there)
        return asyncio.run(main)
    return uvloop.run(main)
