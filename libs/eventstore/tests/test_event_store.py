import asyncio

import pytest
from sqlalchemy import text

from crm_devstack.testing import sample_event as event
from crm_eventstore import (
    ANY,
    NO_STREAM,
    DuplicateEvent,
    EventMetadata,
    EventStore,
    NewEvent,
    StreamAppend,
    WrongExpectedVersion,
)


async def test_appended_events_read_back_in_stream_order(store: EventStore) -> None:
    meta = EventMetadata("corr-1", "cause-1", "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "")
    first = NewEvent("test.Happened", b"\x00\x01", event().occurred_at, metadata=meta)
    await store.append("s-1", [first, event(2)], NO_STREAM)
    await store.append("s-1", [event(3)], 2)

    read = await store.read_stream("s-1")

    assert [e.stream_version for e in read] == [1, 2, 3]
    assert [e.payload for e in read] == [b"\x00\x01", b"payload-2", b"payload-3"]
    assert read[0].event_id == first.event_id
    assert read[0].metadata == meta
    assert read[0].global_position < read[1].global_position < read[2].global_position


async def test_reading_a_stream_after_a_version_skips_what_the_reader_has(
    store: EventStore,
) -> None:
    await store.append("s", [event(i) for i in range(5)])

    assert [e.stream_version for e in await store.read_stream("s", after_version=3)] == [4, 5]


async def test_no_stream_conflicts_when_the_stream_exists(store: EventStore) -> None:
    await store.append("s", [event()], NO_STREAM)

    with pytest.raises(WrongExpectedVersion) as conflict:
        await store.append("s", [event()], NO_STREAM)

    assert conflict.value.actual == 1
    assert conflict.value.retriable


async def test_an_expected_version_behind_or_ahead_of_the_stream_conflicts(
    store: EventStore,
) -> None:
    await store.append("s", [event(), event()])

    for wrong in (1, 3, 7):
        with pytest.raises(WrongExpectedVersion) as conflict:
            await store.append("s", [event()], wrong)
        assert (conflict.value.expected, conflict.value.actual) == (wrong, 2)

    assert [e.stream_version for e in await store.read_stream("s")] == [1, 2]


async def test_any_version_appends_at_the_end(store: EventStore) -> None:
    await store.append("s", [event()], ANY)
    appended = await store.append("s", [event(), event()], ANY)

    assert [a.stream_version for a in appended] == [2, 3]


async def test_an_event_id_is_stored_once(store: EventStore) -> None:
    once = event()
    await store.append("a", [once])

    with pytest.raises(DuplicateEvent) as duplicate:
        await store.append("b", [once])

    assert duplicate.value.event_ids == [str(once.event_id)]
    assert await store.read_stream("b") == []


async def test_a_conflict_in_one_stream_rolls_back_the_whole_unit_of_work(
    store: EventStore,
) -> None:
    await store.append("busy", [event()])

    with pytest.raises(WrongExpectedVersion):
        async with store.transaction() as uow:
            await uow.append("fresh", [event()], NO_STREAM)
            await uow.append("busy", [event()], NO_STREAM)

    assert await store.read_stream("fresh") == []


async def test_twenty_concurrent_appenders_at_one_version_one_wins_each_round(
    store: EventStore,
) -> None:
    rounds, writers = 10, 20
    for round_number in range(rounds):
        results = await asyncio.gather(
            *(store.append("contended", [event(w)], round_number) for w in range(writers)),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1, results
        assert all(isinstance(r, WrongExpectedVersion) for r in losers), losers

    versions = [e.stream_version for e in await store.read_stream("contended")]
    assert versions == list(range(1, rounds + 1))


async def test_outbox_rows_are_written_only_for_published_events_in_the_same_transaction(
    store: EventStore,
) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as uow:
            await uow.append("rolled-back", [event(topic="crm.t")])
            raise RuntimeError("handler failed after appending")
    appended = await store.append("s", [event(1, topic="crm.t"), event(2), event(3, topic="x")])

    async with store.engine.connect() as conn:
        queued = (await conn.execute(
            text("SELECT global_position FROM outbox ORDER BY id"))).scalars().all()
        events = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()

    assert queued == [appended[0].global_position, appended[2].global_position]
    assert events == 3


async def test_one_call_may_append_to_a_stream_several_times(store: EventStore) -> None:
    async with store.transaction() as uow:
        appended = await uow.append_streams([
            StreamAppend("s", [event(1)], NO_STREAM),
            StreamAppend("other", [event(2)]),
            StreamAppend("s", [event(3), event(4)], 1),
            StreamAppend("s", [event(5)]),
        ])

    assert [(a.stream_id, a.stream_version) for a in appended] == [
        ("s", 1), ("other", 1), ("s", 2), ("s", 3), ("s", 4)]
    with pytest.raises(WrongExpectedVersion):
        async with store.transaction() as uow:
            await uow.append_streams([StreamAppend("t", [event()], NO_STREAM),
                                      StreamAppend("t", [event()], 5)])


@pytest.mark.parametrize("shared", [True, False], ids=["shared values", "mixed values"])
async def test_every_column_is_stored_per_event_whether_the_call_shares_its_values(
    store: EventStore, shared: bool,
) -> None:
    # Columns with one value for every event of a call travel as one value: both ways
    # must store exactly what each event says.
    def made(n: int) -> NewEvent:
        varied = not shared and n % 2
        return NewEvent(
            f"test.Kind{n % 2 if varied else 0}", f"p{n}".encode(), event().occurred_at,
            topic=(None if varied else "crm.t"), schema_version=2 if varied else 1,
            metadata=EventMetadata(*(f"{name}{n if varied else ''}" for name in (
                "corr", "cause", "parent", "state"))))

    events = [made(n) for n in range(4)]
    async with store.transaction() as uow:
        await uow.append_streams([StreamAppend(f"s{n}", [e], NO_STREAM)
                                  for n, e in enumerate(events[:2])]
                                 + [StreamAppend("s-many", events[2:], ANY)])

    async with store.transaction() as uow:
        stored = await uow.read_streams(["s0", "s1", "s-many"])
    assert [(e.event_id, e.event_type, e.schema_version, e.topic, e.metadata, e.payload)
            for e in stored] == [
        (e.event_id, e.event_type, e.schema_version, e.topic, e.metadata, e.payload)
        for e in events]
    assert [(e.stream_id, e.stream_version) for e in stored] == [
        ("s0", 1), ("s1", 1), ("s-many", 1), ("s-many", 2)]


async def test_a_call_whose_events_all_share_their_values_appends_each(
    store: EventStore,
) -> None:
    events = [NewEvent("test.Same", b"p", event().occurred_at, topic="crm.t") for _ in range(3)]
    async with store.transaction() as uow:
        appended = await uow.append_streams([StreamAppend(f"s{n}", [e], NO_STREAM)
                                             for n, e in enumerate(events)])

    assert [a.stream_version for a in appended] == [1, 1, 1]
    async with store.transaction() as uow:
        stored = await uow.read_streams(["s0", "s1", "s2"])
    assert {e.event_id for e in stored} == {e.event_id for e in events}
