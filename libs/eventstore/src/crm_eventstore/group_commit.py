"""Group commit: many concurrent callers, one database transaction.

A commit costs a disk flush; a request that commits alone pays it alone. Here
callers hand their items to a :class:`GroupCommitter` and wait; a writer loop
takes everything queued so far (up to ``max_items``), writes it in one
transaction and hands each caller its own results. While one transaction is in
flight, new arrivals gather for the next one, so under heavy load each transaction
carries many callers' items.

Requests that come one at a time at a steady rate make small groups all the same
(a commit's worth of arrivals), and every group costs a transaction, a commit and
the relay's turn whatever its size. ``linger`` lets a group smaller than
``linger_items`` wait that long for more callers: fewer, fuller transactions, for
at most ``linger`` more before the callers are answered. A group that has reached
``linger_items`` goes at once, so callers that wait for each other's answers (a
closed loop of clients) lose nothing to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["GroupCommitter"]

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("crm.group_commit")


@dataclass
class _Unit(Generic[T, R]):
    items: Sequence[T]
    done: asyncio.Future[list[R]]


class GroupCommitter(Generic[T, R]):
    """Batches items from concurrent callers into calls of ``write``.

    ``write(items)`` must return one result per item, in order, and either commit
    all of them or raise (then every caller of that group gets the exception).
    """

    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[list[R]]],
        *,
        max_items: int = 2_000,
        writers: int = 2,
        linger: float = 0.0,
        linger_items: int = 1,
    ) -> None:
        self._write = write
        self._max_items = max_items
        self._writers = writers
        self._linger = linger
        self._linger_items = linger_items
        self._queue: asyncio.Queue[_Unit[T, R]] = asyncio.Queue()

    async def submit(self, items: Sequence[T]) -> list[R]:
        """Write ``items`` (in some group) and return their results."""
        if not items:
            return []
        unit: _Unit[T, R] = _Unit(items, asyncio.get_running_loop().create_future())
        await self._queue.put(unit)
        return await unit.done

    async def run(self) -> None:
        """The writer loops; run as a task for as long as callers may submit."""
        await asyncio.gather(*(self._writer() for _ in range(self._writers)))

    async def _writer(self) -> None:
        while True:
            await self._write_group(await self._gather())

    async def _gather(self) -> list[_Unit[T, R]]:
        """The next group: what is queued, up to ``max_items``; a group short of
        ``linger_items`` waits up to ``linger`` seconds for more."""
        group = [await self._queue.get()]
        size = len(group[0].items)
        until = time.monotonic() + self._linger
        while size < self._max_items:
            if not self._queue.empty():
                unit = self._queue.get_nowait()
            elif size >= self._linger_items or (left := until - time.monotonic()) <= 0:
                break
            else:
                try:
                    unit = await asyncio.wait_for(self._queue.get(), left)
                except TimeoutError:
                    break
                except asyncio.CancelledError:
                    for waiting in group:  # as a cancelled write does: nobody waits forever
                        waiting.done.cancel()
                    raise
            group.append(unit)
            size += len(unit.items)
        return group

    async def _write_group(self, group: list[_Unit[T, R]]) -> None:
        items = [item for unit in group for item in unit.items]
        try:
            results = await self._write(items)
        except asyncio.CancelledError:
            for unit in group:
                unit.done.cancel()
            raise
        except Exception as exc:
            log.warning("group write of %d items failed: %s", len(items), exc)
            for unit in group:
                if not unit.done.done():
                    unit.done.set_exception(exc)
            return
        start = 0
        for unit in group:
            end = start + len(unit.items)
            if not unit.done.done():  # the caller may have given up (cancelled)
                unit.done.set_result(results[start:end])
            start = end
