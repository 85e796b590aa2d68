import asyncio

import pytest

from crm_devstack.testing import sample_event as event
from crm_eventstore import EventStore, ReadTimeout


async def test_read_all_pages_through_every_event_in_position_order(store: EventStore) -> None:
    for stream in range(5):
        await store.append(f"s-{stream}", [event(i) for i in range(3)])

    seen, after = [], 0
    while page := await store.read_all(after, limit=4):
        seen += page
        after = page[-1].global_position

    assert len(seen) == 15
    positions = [e.global_position for e in seen]
    assert positions == sorted(positions)


async def test_read_all_never_skips_a_position_that_commits_late(store: EventStore) -> None:
    holding = asyncio.Event()
    release = asyncio.Event()

    async def slow_writer() -> None:
        async with store.transaction() as uow:
            await uow.append("slow", [event(0)])
            holding.set()
            await release.wait()

    slow = asyncio.create_task(slow_writer())
    await holding.wait()
    later = await store.append("fast", [event(1)])

    with pytest.raises(ReadTimeout):
        await store.read_all(0, timeout=0.2)
    reader = asyncio.create_task(store.read_all(0, timeout=10))
    await asyncio.sleep(0.1)
    assert not reader.done(), "read_all must wait for the lower position to commit"
    release.set()
    await slow
    read = await reader

    assert [e.stream_id for e in read] == ["slow", "fast"]
    assert read[-1].global_position == later[0].global_position


async def test_read_all_passes_over_positions_of_rolled_back_transactions(
    store: EventStore,
) -> None:
    await store.append("a", [event()])
    with pytest.raises(RuntimeError):
        async with store.transaction() as uow:
            await uow.append("gone", [event()])
            raise RuntimeError("rolled back")
    await store.append("b", [event()])

    assert [e.stream_id for e in await store.read_all(0)] == ["a", "b"]
