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
