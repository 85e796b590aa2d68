"""Long-running coroutines (outbox relay, consumers) started with the app.

A worker that crashes is logged with its traceback and reported by ``/readyz``;
the process keeps serving so that the orchestrator, not a crash loop, decides.
"""

from __future__ import annotations

import asyncio
import linecache
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from crm_servicekit.context import ServiceContext

__all__ = ["Worker", "WorkerGroup", "worker_name"]

Worker = Callable[[ServiceContext], Awaitable[None]]

_log = logging.getLogger("crm_servicekit.workers")


def worker_name(worker: Worker) -> str:
    """A readable name for ``worker`` (its function name)."""
    name = getattr(worker, "__qualname__", None) or getattr(worker, "__name__", None)
    return str(name) if name else type(worker).__name__


class WorkerGroup:
    """Runs workers as tasks; cancels and awaits them on stop."""

    def __init__(self, workers: Sequence[Worker]) -> None:
        self._workers = tuple(workers)
        self._tasks: list[asyncio.Task[None]] = []
        self._crashed: dict[str, BaseException] = {}
        self._crash = asyncio.Event()

    def keep_share(self, index: int, count: int) -> None:
        """Keep only this process's share of the workers: every ``count``-th from
        ``index`` (before :meth:`start`)."""
        self._workers = self._workers[index::count]

    def start(self, ctx: ServiceContext) -> None:
        """Start every worker as a task of the running loop."""
        for worker in self._workers:
            name = worker_name(worker)
            task = asyncio.create_task(_run(worker, ctx), name=f"worker:{name}")
            task.add_done_callback(self._on_done)
            self._tasks.append(task)

    async def stop(self, within: float = 10.0) -> None:
        """Cancel the workers and wait until each has finished, at most ``within`` seconds:
        a worker still running then is logged with where it is stuck and left behind, so
        that one stuck worker cannot hang the shutdown of the process."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=within)
            for task in stuck:
                name = task.get_name().removeprefix("worker:")
                _log.error("worker %s did not stop within %.1fs; stuck at:\n%s", name, within,
                           _where(task), extra={"worker": name})
        self._tasks.clear()

    def crashed(self) -> dict[str, BaseException]:
        """Workers that ended with an exception, by name."""
        return dict(self._crashed)

    async def until_crash(self) -> None:
        """Return once a worker has crashed."""
        await self._crash.wait()

    def _on_done(self, task: asyncio.Task[None]) -> None:
        name = task.get_name().removeprefix("worker:")
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            _log.info("worker %s finished", name, extra={"worker": name})
            return
        self._crashed[name] = error
        self._crash.set()
        _log.error("worker %s crashed", name, exc_info=error, extra={"worker": name})


def _where(task: asyncio.Task[None]) -> str:
    """The chain of awaits ``task`` is suspended in, outermost first (``Task.get_stack``
    shows only the task's own coroutine, not what that coroutine awaits)."""
    lines = []
    awaited: Any = task.get_coro()
    while (frame := getattr(awaited, "cr_frame", None)) is not None:
        code = frame.f_code
        source = linecache.getline(code.co_filename, frame.f_lineno).strip()
        lines.append(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}: {source}")
        awaited = awaited.cr_await
    return "\n".join(lines)


async def _run(worker: Worker, ctx: ServiceContext) -> None:
    await worker(ctx)
