import asyncio

import pytest

from crm_eventstore import GroupCommitter


async def test_concurrent_callers_share_writes_and_each_gets_its_own_results() -> None:
    writes: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        writes.append(items)
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    committer: GroupCommitter[int, int] = GroupCommitter(write, writers=1)
    runner = asyncio.create_task(committer.run())
    results = await asyncio.gather(*(committer.submit([n, n + 1000]) for n in range(50)))
    runner.cancel()

    assert results == [[n * 10, (n + 1000) * 10] for n in range(50)]
    assert len(writes) < 50, "callers waiting together share a write"
    assert sorted(i for w in writes for i in w) == sorted(
        i for n in range(50) for i in (n, n + 1000))


async def test_a_failed_write_fails_every_caller_of_that_group_and_the_next_group_works() -> None:
    calls = {"n": 0}

    async def write(items: list[str]) -> list[str]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database went away")
        return items

    committer: GroupCommitter[str, str] = GroupCommitter(write, writers=1)
    runner = asyncio.create_task(committer.run())
    with pytest.raises(ConnectionError):
        await committer.submit(["a"])
    assert await committer.submit(["b"]) == ["b"]
    runner.cancel()


async def test_groups_are_bounded_by_max_items() -> None:
    sizes: list[int] = []

    async def write(items: list[int]) -> list[int]:
        sizes.append(len(items))
        await asyncio.sleep(0.005)
        return items

    committer: GroupCommitter[int, int] = GroupCommitter(write, max_items=10, writers=1)
    runner = asyncio.create_task(committer.run())
    await asyncio.gather(*(committer.submit([n] * 3) for n in range(20)))
    runner.cancel()

    assert max(sizes) <= 12  # a group stops growing once it holds max_items or more


async def _submitted_apart(committer: GroupCommitter[str, str], items: list[str],
                           gap: float) -> None:
    """Submit each item alone, ``gap`` seconds after the one before, and wait for all."""
    waiting = []
    for item in items:
        waiting.append(asyncio.create_task(committer.submit([item])))
        await asyncio.sleep(gap)
    await asyncio.gather(*waiting)


async def _groups_of(items: list[str], gap: float, linger: float = 0.0,
                     linger_items: int = 1) -> list[list[str]]:
    groups: list[list[str]] = []

    async def write(group: list[str]) -> list[str]:
        groups.append(group)
        return group

    committer: GroupCommitter[str, str] = GroupCommitter(write, writers=1, linger=linger,
                                                         linger_items=linger_items)
    runner = asyncio.create_task(committer.run())
    await _submitted_apart(committer, items, gap)
    runner.cancel()
    return groups


async def test_callers_one_at_a_time_each_get_a_group_of_their_own_without_linger() -> None:
    assert await _groups_of(["a", "b", "c"], gap=0.05) == [["a"], ["b"], ["c"]]


async def test_a_small_group_lingers_for_callers_that_come_soon_after() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    groups = await _groups_of(["a", "b", "c"], gap=0.05, linger=5.0, linger_items=3)
    assert groups == [["a", "b", "c"]]
    # It went as soon as it held linger_items, not after the whole linger.
    assert loop.time() - started < 2.0


async def test_a_group_lingers_no_longer_than_linger() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    groups = await _groups_of(["a"], gap=0, linger=0.05, linger_items=100)
    assert groups == [["a"]]
    assert 0.04 <= loop.time() - started < 2.0


async def test_callers_of_a_lingering_group_are_cancelled_with_the_writer() -> None:
    async def write(group: list[str]) -> list[str]:
        return group

    committer: GroupCommitter[str, str] = GroupCommitter(write, writers=1, linger=60.0,
                                                         linger_items=100)
    runner = asyncio.create_task(committer.run())
    caller = asyncio.create_task(committer.submit(["a"]))
    await asyncio.sleep(0.05)  # its group lingers
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(caller, 5)
