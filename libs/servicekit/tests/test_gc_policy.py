"""The cyclic collector's policy: paused inside a bulk job, restored after it; deferred
out of a section others wait on."""

import asyncio
import gc
from collections.abc import Iterator

import pytest

from crm_servicekit.gc_policy import collection_deferred, cyclic_collection_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_no_cyclic_collection_inside_the_block_and_collection_resumes_after_it() -> None:
    gc.enable()
    with cyclic_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_resumes_when_the_block_fails() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), cyclic_collection_paused():
        raise RuntimeError("the job failed")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    with cyclic_collection_paused():
        pass
    assert not gc.isenabled()


async def test_a_deferred_collection_resumes_at_the_loops_next_turn_not_inside() -> None:
    gc.enable()
    with collection_deferred():
        assert not gc.isenabled()
        await asyncio.sleep(0)  # a wait inside the block does not resume it
        assert not gc.isenabled()
    assert not gc.isenabled(), "not before the caller next waits"
    await asyncio.sleep(0)
    assert gc.isenabled()


async def test_a_deferred_collection_resumes_after_a_failure_too() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collection_deferred():
        raise RuntimeError("the chunk failed")
    await asyncio.sleep(0)
    assert gc.isenabled()


async def test_a_collector_disabled_before_a_deferral_stays_disabled() -> None:
    gc.disable()
    with collection_deferred():
        pass
    await asyncio.sleep(0)
    assert not gc.isenabled()
