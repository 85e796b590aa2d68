"""Idempotent appends: each event id claimed in a ledger and its event appended by one
statement, or skipped when the ledger already holds the id."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import text

from crm_devstack.testing import sample_event as event
from crm_eventstore import ANY, NO_STREAM, EventStore, StreamAppend

LEDGER = "test_ledger"


@pytest.fixture
async def ledger(store: EventStore) -> AsyncIterator[str]:
    async with store.engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {LEDGER} (event_id uuid PRIMARY KEY,"
                                " content_hash bytea NOT NULL)"))
    yield LEDGER


async def _ledger_rows(store: EventStore) -> dict[str, bytes]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(text(f"SELECT event_id, content_hash FROM {LEDGER}"))
        return {str(i): bytes(h) for i, h in rows}


async def _outbox_size(store: EventStore) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one())


async def test_new_ids_are_claimed_with_their_fingerprints_and_their_events_appended(
    store: EventStore, ledger: str
) -> None:
    a, b = event(1, topic="t"), event(2, topic="t")

    appended = await store.append_once(
        [StreamAppend("s-a", [a], NO_STREAM), StreamAppend("s-b", [b], NO_STREAM)],
        {a.event_id: b"hash-a", b.event_id: b"hash-b"}, ledger)

    assert appended == {a.event_id, b.event_id}
    assert await _ledger_rows(store) == {str(a.event_id): b"hash-a", str(b.event_id): b"hash-b"}
    assert [e.event_id for e in await store.read_stream("s-a")] == [a.event_id]
    assert await _outbox_size(store) == 2


async def test_an_id_the_ledger_holds_is_skipped_and_the_others_still_appended(
    store: EventStore, ledger: str
) -> None:
    seen, new = event(1, topic="t"), event(2, topic="t")
    await store.append_once([StreamAppend("s-seen", [seen], NO_STREAM)],
                            {seen.event_id: b"first"}, ledger)

    again = replace(seen, payload=b"other content")  # the same id, sent again
    appended = await store.append_once(
        [StreamAppend("s-seen-2", [again], NO_STREAM), StreamAppend("s-new", [new], ANY)],
        {seen.event_id: b"second", new.event_id: b"new"}, ledger)

    assert appended == {new.event_id}
    assert (await _ledger_rows(store))[str(seen.event_id)] == b"first"  # first claim stands
    assert await store.read_stream("s-seen-2") == []
    assert await _outbox_size(store) == 2


async def test_an_exact_expected_version_is_refused(store: EventStore, ledger: str) -> None:
    one = event(1)
    with pytest.raises(ValueError, match="NO_STREAM or ANY"):
        await store.append_once([StreamAppend("s", [one], 3)], {one.event_id: b"h"}, ledger)


async def test_of_concurrent_claims_of_one_id_exactly_one_appends(
    store: EventStore, ledger: str
) -> None:
    one = event(1, topic="t")

    results = await asyncio.gather(*(
        store.append_once([StreamAppend(f"s-{n}", [replace(one)], NO_STREAM)],
                          {one.event_id: b"h"}, ledger) for n in range(8)))

    assert sorted(len(r) for r in results) == [0] * 7 + [1]
    assert await _outbox_size(store) == 1
