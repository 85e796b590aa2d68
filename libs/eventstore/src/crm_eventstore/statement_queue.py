"""Database calls sent in order by a task of their own while the caller goes on computing.

A handler that prepares a large write in parts (events built for a thousand touchpoints,
say) would otherwise alternate: Python works while Postgres waits, then Postgres works
while Python waits. Queued here, each part's statement runs while the next part is being
prepared, so the two overlap (they run on different cores).

The calls share one connection, which runs one statement at a time: the queue sends them
one after another, in the order they were put, and the caller must not use the
connection itself until the queue's block is left. The queue's task runs only when the
caller awaits: ``put`` and ``breathe`` let it send the next call if the previous one has
answered.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from types import TracebackType

__all__ = ["StatementQueue"]

Call = Callable[[], Awaitable[object]]


class StatementQueue:
    """Runs queued database calls in order, in the background, until one fails.

    Used as an async context manager: leaving the block waits for every queued call and
    raises the first failure. Leaving it by an exception waits for the call in flight
    only (so the connection is free again, ready to roll back) and skips the rest.
    """

    def __init__(self) -> None:
        self._calls: deque[Call] = deque()
        self._wake = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StatementQueue:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        if error is None:
            await self._close()
            return
        self._calls.clear()
        with suppress(Exception):  # the block's own exception is the one to report
            await self._close()

    async def put(self, call: Call) -> None:
        """Queue ``call`` (a database call to make), then let the queue's task run once,
        so that it sends the call if the connection is free. Raises the failure of an
        earlier call, if one failed."""
        task = self._started()
        if task.done():
            await task  # raises the failure that stopped it
        if self._closed:
            raise RuntimeError("the statement queue is finished")
        self._calls.append(call)
        self._wake.set()
        await self.breathe()

    async def breathe(self) -> None:
        """Let the queue's task run: if the call in flight answered, it sends the next.
        A caller computing for long calls this every few milliseconds."""
        # Two turns of the loop: one for an answer that arrived to wake the task up,
        # one for the task to send its next call.
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    def _started(self) -> asyncio.Task[None]:
        if self._task is None:
            raise RuntimeError("use the statement queue as an async context manager")
        return self._task

    async def _close(self) -> None:
        self._closed = True
        self._wake.set()
        await self._started()

    async def _run(self) -> None:
        while True:
            if not self._calls:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            call = self._calls.popleft()
            try:
                await call()
            except BaseException:
                self._calls.clear()
                self._closed = True
                raise
