"""The outbox relay: publishes committed events to Kafka, after commit, in order.

One relay per service schema is the leader (a Postgres advisory lock held by
its connection); others wait to take over. The leader repeatedly takes the
oldest outbox entries, sends them, waits for Kafka's acknowledgement and only
then deletes them, reading the next batch in the same statement (with a backlog, it
reads and seals the next while Kafka acknowledges). A crash at any point leaves the
entries in the outbox, so they are sent again (at least once); consumers deduplicate
by event id.

The embedded broker keeps topics in memory. When the relay becomes leader, and
now and then after, it compares what it has published with what the broker
holds; a topic that is empty although we published to it is requeued whole.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_eventstore import Outbox, PendingEvent, create_engine
from crm_messaging.envelopes import OutboundRecord, outbound_record
from crm_messaging.metrics import (
    OUTBOX_PENDING,
    RELAY_BATCH_SECONDS,
    RELAY_PUBLISHED,
    RELAY_REPUBLISHED,
)
from crm_messaging.publishing import publish_all
from crm_messaging.sealing import SealPolicy
from crm_messaging.vault import KeyVault

__all__ = ["OutboxRelay", "topic_is_empty"]

log = logging.getLogger("crm.relay")

_TRY_LOCK = text("SELECT pg_try_advisory_lock(hashtext('crm-outbox-relay:' || current_schema()))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtext('crm-outbox-relay:' || current_schema()))")
_CHANNEL = text("SELECT outbox_channel()")


class OutboxRelay:
    """Moves events from one service's outbox to Kafka."""

    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        *,
        producer_name: str,
        bootstrap_servers: str,
        batch_size: int = 1_000,
        idle_interval: float = 1.0,
        broker_check_interval: float = 30.0,
        seal: SealPolicy | None = None,
        vault: KeyVault | None = None,
    ) -> None:
        if (seal is None) != (vault is None):
            raise ValueError("a seal policy needs a vault, and a vault a seal policy")
        self.engine = engine
        self.producer = producer
        self.producer_name = producer_name
        self.bootstrap_servers = bootstrap_servers
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.broker_check_interval = broker_check_interval
        self.seal = seal
        self.vault = vault
        self.is_leader = asyncio.Event()
        self._woken = asyncio.Event()

    async def run(self) -> None:
        """Publish until cancelled, recovering from broker and database errors."""
        while True:
            try:
                await self._lead_when_possible()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("relay failed; retrying in 1s")
                self.is_leader.clear()
                await asyncio.sleep(1.0)

    async def _lead_when_possible(self) -> None:
        async with self.engine.connect() as connection:
            # Every query of the relay is a statement on its own: with autocommit, none
            # pays a BEGIN and a COMMIT round trip (its commit() calls do nothing).
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            if not (await connection.execute(_TRY_LOCK)).scalar_one():
                await connection.commit()
                await asyncio.sleep(1.0)
                return
            channel = str((await connection.execute(_CHANNEL)).scalar_one())
            await connection.commit()
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None  # an open connection of the asyncpg dialect
            await raw.add_listener(channel, self._wake)
            try:
                self.is_leader.set()
                log.info("outbox relay is leader", extra={"producer": self.producer_name})
                await self._publish_forever(Outbox(connection))
            finally:
                self.is_leader.clear()
                with contextlib.suppress(Exception):  # the connection may be gone
                    await raw.remove_listener(channel, self._wake)
                await _release(connection)

    def _wake(self, *_: object) -> None:
        """A commit queued events (the outbox trigger's notification)."""
        self._woken.set()

    async def _publish_forever(self, outbox: Outbox) -> None:
        next_check = 0.0
        while True:
            if time.monotonic() >= next_check:
                await self.republish_lost_topics(outbox)
                OUTBOX_PENDING.labels(self.producer_name).set(await outbox.pending())
                next_check = time.monotonic() + self.broker_check_interval
            # Cleared before the fetch: a commit after it wakes the wait below.
            self._woken.clear()
            run = await self._publish_while_pending(outbox, until=next_check)
            if run.drained:
                # The last fetch found nothing, and the wake was cleared before it: only a
                # commit since (the outbox trigger's wake-up) can have queued more. The
                # interval only bounds a lost wake-up.
                OUTBOX_PENDING.labels(self.producer_name).set(0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self.idle_interval)

    async def _publish_while_pending(self, outbox: Outbox, until: float) -> _Run:
        """Publish batch after batch until the outbox is empty or ``until`` (monotonic) has
        passed; how many events were published, and whether the outbox was found empty.

        A batch goes out only once the one before is acknowledged, so records go out in
        the same order as one batch at a time; if a send fails, nothing after it goes out.
        Caught up (a batch short of ``batch_size``), the next batch is read once Kafka has
        acknowledged, with the acknowledgement, in one statement: it takes every entry
        committed while the batch was on its way. Behind (a full batch), the next one is
        read and sealed while Kafka acknowledges (passing over the entries in flight),
        throughput first; if the send fails, it is dropped and stays in the outbox.
        """
        published = 0
        batch = await self._prepare(outbox, passing_over=())
        drained = not batch.pending
        while batch.pending:
            fetching = time.monotonic() < until
            sending = asyncio.ensure_future(self._send(batch))
            following: _Batch | None = None
            if fetching and len(batch.pending) >= self.batch_size:
                try:
                    self._woken.clear()
                    following = await self._prepare(outbox, passing_over=batch.pending)
                except BaseException:
                    sending.cancel()  # its entries stay in the outbox, to be sent again
                    with contextlib.suppress(BaseException):
                        await sending
                    raise
            await sending  # raises if the send failed: nothing after it goes out
            if following is None:
                self._woken.clear()
                following = await self._acknowledge(outbox, batch, fetch_next=fetching)
            else:
                await self._acknowledge(outbox, batch, fetch_next=False)
            published += len(batch.pending)
            drained = fetching and not following.pending
            batch = following
        return _Run(published, drained)

    async def publish_batch(self, outbox: Outbox) -> int:
        """Publish the oldest outbox entries; return how many were published."""
        run = await self._publish_while_pending(outbox, until=-math.inf)  # one batch
        return run.published

    async def _prepare(self, outbox: Outbox, passing_over: Sequence[PendingEvent]) -> _Batch:
        """The next entries and their records (sealed where the policy says)."""
        pending = await outbox.fetch(self.batch_size, passing_over)
        await outbox.connection.commit()
        return _Batch(pending, await self._records(pending))

    async def _send(self, batch: _Batch) -> None:
        started = time.perf_counter()
        await publish_all(self.producer, batch.records)
        RELAY_BATCH_SECONDS.labels(self.producer_name).observe(time.perf_counter() - started)

    async def _acknowledge(self, outbox: Outbox, batch: _Batch, *, fetch_next: bool) -> _Batch:
        """Remove the entries of ``batch`` (Kafka acknowledged them); the next batch, read
        in the same statement, if ``fetch_next``."""
        if fetch_next:
            pending = await outbox.acknowledge_and_fetch(batch.pending, self.batch_size)
        else:
            await outbox.acknowledge(batch.pending)
            pending = []
        for topic, count in Counter(p.event.topic for p in batch.pending).items():
            RELAY_PUBLISHED.labels(self.producer_name, topic or "").inc(count)
        return _Batch(pending, await self._records(pending))

    async def _records(self, pending: Sequence[PendingEvent]) -> list[OutboundRecord]:
        if self.seal is None or self.vault is None:
            return [outbound_record(p.event, self.producer_name) for p in pending]
        key_ids = [self.seal(p.event) for p in pending]
        # One vault round trip per batch: the keys are issued (or found) together.
        secrets = await self.vault.issue({k for k in key_ids if k is not None})
        return [outbound_record(p.event, self.producer_name,
                                None if key_id is None else (key_id, secrets[key_id]))
                for p, key_id in zip(pending, key_ids, strict=True)]

    async def republish_lost_topics(self, outbox: Outbox) -> list[str]:
        """Requeue the history of every topic the broker has lost; return their names."""
        lost = []
        for topic, published in (await outbox.published_counts()).items():
            if await topic_is_empty(self.bootstrap_servers, topic):
                queued = await outbox.requeue_topic(topic)
                RELAY_REPUBLISHED.labels(self.producer_name, topic).inc(queued)
                log.warning(
                    "broker has lost topic %s (we had published %d events): "
                    "republishing %d events from the event store", topic, published, queued)
                lost.append(topic)
        return lost


@dataclass(frozen=True)
class _Batch:
    """Outbox entries and the records that publish them, in the same order."""

    pending: list[PendingEvent]
    records: list[OutboundRecord]


@dataclass(frozen=True)
class _Run:
    """What a run of batches did: events published, and whether its last fetch found the
    outbox empty (rather than stopping at its deadline)."""

    published: int
    drained: bool


async def topic_is_empty(bootstrap_servers: str, topic: str) -> bool:
    """Whether ``topic`` is missing or has never held a record, per the broker."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        await consumer.start()
        if topic not in await consumer.topics():  # fetches fresh metadata
            return True
        partitions = consumer.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return bool(sum(ends.values()) == 0)
    finally:
        await consumer.stop()


async def _release(connection: AsyncConnection) -> None:
    try:
        await connection.rollback()
        await connection.execute(_UNLOCK)
        await connection.commit()
    except Exception:  # the connection is gone, and with it the session lock
        log.debug("could not release relay lock explicitly", exc_info=True)


async def _main(args: argparse.Namespace) -> None:
    engine = create_engine(args.database_url, args.schema, pool_size=2)
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap_servers, acks="all", linger_ms=5,
        enable_idempotence=False,
    )
    await producer.start()
    try:
        await OutboxRelay(engine, producer, producer_name=args.producer,
                          bootstrap_servers=args.bootstrap_servers).run()
    finally:
        await producer.stop()
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    """Run a relay on its own: ``python -m crm_messaging.relay --schema touchpoint ...``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--producer", required=True, help="service name put on envelopes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
