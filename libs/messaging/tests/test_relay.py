import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_contracts import decode_envelope
from crm_devstack.broker import EmbeddedBroker
from crm_devstack.ports import free_port
from crm_devstack.testing import create_topic, eventually, read_topic, touchpoint_event
from crm_eventstore import ANY, NO_STREAM, EventStore, Outbox, StreamAppend
from crm_messaging import OutboxRelay
from crm_messaging import relay as relay_module
from crm_messaging.envelopes import OutboundRecord
from crm_messaging.publishing import publish_all


@asynccontextmanager
async def running_relay(
    engine: AsyncEngine, producer: AIOKafkaProducer, bootstrap: str, batch_size: int = 1_000
) -> AsyncIterator[OutboxRelay]:
    relay = OutboxRelay(engine, producer, producer_name="test", bootstrap_servers=bootstrap,
                        batch_size=batch_size)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def relayed(engine: AsyncEngine, producer: AIOKafkaProducer, bootstrap: str,
                  topic: str, count: int, batch_size: int) -> list[ConsumerRecord]:
    """The ``count`` records a relay publishes from the outbox, once it is empty."""
    async with running_relay(engine, producer, bootstrap, batch_size):
        records = await read_topic(bootstrap, topic, at_least=count)
        await eventually(lambda: outbox_is_empty(engine))
    return records


async def outbox_is_empty(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 0


async def test_relay_never_skips_a_position_held_by_a_slow_transaction(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    holding, release = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> None:
        async with store.transaction() as uow:
            await uow.append("slow-stream", [touchpoint_event(topic, "k-slow")])
            holding.set()
            await release.wait()

    async with running_relay(engine, producer, kafka_bootstrap):
        slow = asyncio.create_task(slow_writer())
        await holding.wait()
        for n in range(20):
            for key in range(10):
                await store.append(f"stream-{key}", [touchpoint_event(topic, f"k{key}", n)])
        fast = await read_topic(kafka_bootstrap, topic, at_least=200)
        assert len(fast) == 200, "later commits are published while a lower position is open"
        release.set()
        await slow
        records = await read_topic(kafka_bootstrap, topic, at_least=201)
        await eventually(lambda: outbox_is_empty(engine))

    envelopes = [decode_envelope(r.value) for r in records]
    assert len({e.event_id for e in envelopes}) == len(envelopes) == 201
    versions_by_key: dict[str, list[int]] = defaultdict(list)
    for record, envelope in zip(records, envelopes, strict=True):
        assert record.key == envelope.customer_key.encode()
        versions_by_key[envelope.customer_key].append(envelope.stream_version)
    assert versions_by_key["k-slow"] == [1]
    assert all(v == sorted(v) for v in versions_by_key.values())
    async with engine.connect() as conn:  # what a broker that lost its data is checked by
        assert await Outbox(conn).published_counts() == {topic: 201}


async def test_relay_republishes_history_into_a_broker_that_lost_it(
    store: EventStore, engine: AsyncEngine, topic_name: str,
) -> None:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    for generation in range(2):
        broker = EmbeddedBroker(port)
        broker.start()
        try:
            await create_topic(bootstrap, topic_name)
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
            await producer.start()
            try:
                async with running_relay(engine, producer, bootstrap):
                    await store.append(f"s-{generation}", [
                        touchpoint_event(topic_name, f"k{i}", i) for i in range(5)])
                    records = await read_topic(bootstrap, topic_name, at_least=5 * (generation + 1))
            finally:
                await producer.stop()
        finally:
            broker.stop()

    streams = sorted(decode_envelope(r.value).stream_id for r in records)
    assert streams == ["s-0"] * 5 + ["s-1"] * 5, "the fresh broker got the whole history"


async def test_a_commit_wakes_the_idle_relay_at_once(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    # A fallback poll of a minute: only the outbox trigger's notification can publish
    # the event within the test's wait.
    relay = OutboxRelay(engine, producer, producer_name="test",
                        bootstrap_servers=kafka_bootstrap, idle_interval=60.0)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.is_leader.wait(), 10)
        await store.append("stream-1", [touchpoint_event(topic, "k1")])
        await eventually(lambda: outbox_is_empty(engine), within=10)
        await store.append("stream-2", [touchpoint_event(topic, "k2")])
        records = await read_topic(kafka_bootstrap, topic, at_least=2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert len(records) == 2


async def test_an_outbox_found_empty_is_not_fetched_again_before_a_wake_up(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A commit wakes the relay: one read takes its event, the next (with the
    # acknowledgement) finds the outbox empty, and the relay then waits for the next
    # wake-up: a third read would cost a statement per batch and find nothing.
    fetches = 0
    fetch, acknowledge_and_fetch = Outbox.fetch, Outbox.acknowledge_and_fetch

    async def counted(outbox: Outbox, limit: int, passing_over: Sequence[object] = ()
                      ) -> list[object]:
        nonlocal fetches
        fetches += 1
        return await fetch(outbox, limit, passing_over)  # type: ignore[arg-type]

    async def counted_with_acknowledgement(outbox: Outbox, published: Sequence[object],
                                           limit: int) -> list[object]:
        nonlocal fetches
        fetches += 1
        return await acknowledge_and_fetch(outbox, published, limit)  # type: ignore[arg-type]

    monkeypatch.setattr(Outbox, "fetch", counted)
    monkeypatch.setattr(Outbox, "acknowledge_and_fetch", counted_with_acknowledgement)
    relay = OutboxRelay(engine, producer, producer_name="test",
                        bootstrap_servers=kafka_bootstrap, idle_interval=60.0)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.is_leader.wait(), 10)
        await eventually(lambda: fetches == 1)  # the outbox was empty at the start
        await asyncio.sleep(0.2)
        fetches = 0
        await store.append("stream-1", [touchpoint_event(topic, "k1")])
        await read_topic(kafka_bootstrap, topic, at_least=1)
        await eventually(lambda: outbox_is_empty(engine), within=10)
        await asyncio.sleep(0.3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert fetches == 2


async def test_batch_after_batch_goes_out_in_order_without_repeats(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    # Batches of 50: the next one is fetched while the one before is in flight.
    for n in range(12):
        async with store.transaction() as uow:
            await uow.append_streams([StreamAppend(f"stream-{key}", [
                touchpoint_event(topic, f"k{key}", n * 10 + i) for i in range(10)], ANY)
                for key in range(5)])
    records = await relayed(engine, producer, kafka_bootstrap, topic, 600, batch_size=50)

    envelopes = [decode_envelope(r.value) for r in records]
    assert len({e.event_id for e in envelopes}) == len(envelopes) == 600
    versions_by_key: dict[str, list[int]] = defaultdict(list)
    for envelope in envelopes:
        versions_by_key[envelope.customer_key].append(envelope.stream_version)
    assert {key: len(v) for key, v in versions_by_key.items()} == {f"k{k}": 120 for k in range(5)}
    assert all(v == sorted(v) for v in versions_by_key.values())


async def test_what_commits_while_a_batch_is_on_its_way_goes_out_next_once_and_in_order(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str,
) -> None:
    # Caught up, the relay reads the next batch with the acknowledgement of the one before:
    # appends keep coming meanwhile, in batches short of the batch size.
    async def append_while_relaying() -> None:
        for n in range(40):
            await store.append(f"stream-{n % 4}", [touchpoint_event(topic, f"k{n % 4}", n)],
                               expected_version=ANY)
            await asyncio.sleep(0.005)

    async with running_relay(engine, producer, kafka_bootstrap, batch_size=1_000):
        await append_while_relaying()
        records = await read_topic(kafka_bootstrap, topic, at_least=40)
        await eventually(lambda: outbox_is_empty(engine))

    envelopes = [decode_envelope(r.value) for r in records]
    assert len({e.event_id for e in envelopes}) == len(envelopes) == 40
    versions_by_key: dict[str, list[int]] = defaultdict(list)
    for envelope in envelopes:
        versions_by_key[envelope.customer_key].append(envelope.stream_version)
    assert versions_by_key == {f"k{k}": list(range(1, 11)) for k in range(4)}


async def test_a_failed_send_drops_the_prepared_batch_and_sends_both_again(
    store: EventStore, engine: AsyncEngine, producer: AIOKafkaProducer,
    kafka_bootstrap: str, topic: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with store.transaction() as uow:
        await uow.append_streams([StreamAppend("stream", [
            touchpoint_event(topic, "k", n) for n in range(100)], NO_STREAM)])
    sent: list[list[int]] = []  # the stream versions of each call, failed or not

    async def second_call_fails(producer: AIOKafkaProducer,
                                records: Sequence[OutboundRecord]) -> None:
        sent.append([decode_envelope(r.value).stream_version for r in records])
        if len(sent) == 2:
            raise KafkaConnectionError("the broker went away")
        await publish_all(producer, records)

    monkeypatch.setattr(relay_module, "publish_all", second_call_fails)
    records = await relayed(engine, producer, kafka_bootstrap, topic, 100, batch_size=25)

    # The batch after the failed one was prepared meanwhile, but never sent before it.
    assert sent[:3] == [list(range(1, 26)), list(range(26, 51)), list(range(26, 51))]
    assert [decode_envelope(r.value).stream_version for r in records] == list(range(1, 101))
