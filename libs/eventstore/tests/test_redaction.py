from sqlalchemy import text

from crm_devstack.testing import sample_event
from crm_eventstore import EventStore, NewEvent


def _event(payload: bytes, topic: str | None = None) -> NewEvent:
    return NewEvent("test.Happened", payload, sample_event().occurred_at, topic=topic)


async def test_events_containing_a_value_are_found_wherever_it_sits(store: EventStore) -> None:
    await store.append("a", [_event(b"\x0a\x11ada@example.com\x12\x01x"), _event(b"nothing")])
    await store.append("b", [_event(b"prefix ada@example.com"), _event(b"+4915112345678")])

    async with store.transaction() as uow:
        found = await uow.containing([b"ada@example.com", b"+4915112345678", b""])

    assert [(e.stream_id, e.stream_version) for e in found] == [("a", 1), ("b", 1), ("b", 2)]


async def test_redaction_rewrites_payloads_in_place_and_marks_them(store: EventStore) -> None:
    await store.append("s", [_event(b"secret-1", topic="t"), _event(b"keep")])
    before = await store.read_stream("s")

    async with store.transaction() as uow:
        changed = await uow.redact({before[0].event_id: b"scrubbed", before[1].event_id: b"keep"})
        again = await uow.redact({before[0].event_id: b"scrubbed"})

    after = await store.read_stream("s")
    assert (changed, again) == (1, 0)
    assert [e.payload for e in after] == [b"scrubbed", b"keep"]
    assert [(e.event_id, e.global_position) for e in after] == [
        (e.event_id, e.global_position) for e in before]
    async with store.engine.connect() as connection:
        marked = (await connection.execute(text(
            "SELECT stream_version FROM events WHERE redacted_at IS NOT NULL"))).scalars().all()
    assert marked == [1]


async def test_redaction_may_replace_a_partition_key_that_is_personal(
    store: EventStore,
) -> None:
    await store.append("s", [NewEvent("t.E", b"p", sample_event().occurred_at,
                                      customer_key="ada@example.com")])
    event = (await store.read_stream("s"))[0]

    async with store.transaction() as uow:
        changed = await uow.redact({event.event_id: b"p"}, {event.event_id: "erased"})

    assert changed == 1
    assert (await store.read_stream("s"))[0].customer_key == "erased"


async def test_read_streams_returns_several_streams_in_global_order(store: EventStore) -> None:
    await store.append("x", [_event(b"1")])
    await store.append("y", [_event(b"2")])
    await store.append("x", [_event(b"3")])

    async with store.transaction() as uow:
        read = await uow.read_streams(["y", "x", "x"])

    assert [e.payload for e in read] == [b"1", b"2", b"3"]
