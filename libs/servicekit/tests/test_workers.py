import asyncio
import logging

import pytest

from crm_servicekit.workers import WorkerGroup


async def test_stopping_gives_up_on_a_worker_that_ignores_cancellation_and_says_where_it_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    released = asyncio.Event()

    async def stubborn(_ctx: object) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await released.wait()  # a cleanup that never finishes on its own

    group = WorkerGroup([stubborn])
    group.start(None)  # type: ignore[arg-type]  # the worker needs no context
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="crm_servicekit.workers"):
        await asyncio.wait_for(group.stop(within=0.2), 5)

    (report,) = [r for r in caplog.records if "did not stop" in r.getMessage()]
    assert "stubborn" in report.getMessage()
    assert "released.wait()" in report.getMessage()  # the stack shows where it is stuck
    released.set()
    await asyncio.sleep(0)


async def test_stopping_waits_for_workers_that_finish_their_cleanup() -> None:
    cleaned = []

    async def tidy(_ctx: object) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.05)
            cleaned.append("done")

    group = WorkerGroup([tidy])
    group.start(None)  # type: ignore[arg-type]
    await asyncio.sleep(0)
    await group.stop(within=5)

    assert cleaned == ["done"]
