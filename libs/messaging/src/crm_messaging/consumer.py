"""The consumer kit: Kafka consumer groups whose effects happen exactly once.

For each partition, messages are applied in order, in chunks (a chunk takes what one
poll returned, across partitions, up to ``chunk_size``), each chunk in one database
transaction that also records the event ids in the inbox; offsets are committed to
Kafka only after that transaction committed. A redelivered message
finds its id in the inbox and changes nothing. If a chunk fails, its messages are
applied one by one: transient errors are retried with backoff a bounded number
of times; a message that cannot be processed goes to ``<topic>.dlq`` with the
reason and its origin in headers, and the consumer moves on.

A handler that is idempotent by itself (it keeps what it applied by event id, so that
applying a message again changes nothing) may go without the inbox (``inbox=False``):
a chunk then costs one statement and one inbox row per message less, and the inbox
table does not grow with every message of a busy topic. The kit still drops repeats of
an event id within a chunk. The customer view does.

A batch handler may leave part of its work to a follow-up (it returns one): the kit runs
it in a transaction of its own right after, before the offsets are committed. Only
without the inbox: the first transaction claims the ids, so a failed follow-up would not
be retried. Identity resolution attributes returning customers under a shared lock and
leaves the rest to a follow-up under the exclusive one.

Records polled before a rebalance are not applied: every assignment starts again from
the committed offsets, so they come again. Each chunk is decoded and opened right before
its transaction, so it sees every key destroyed while the chunks before it were applied
(suppression destroys keys).

Given a key vault, the kit opens sealed payloads (``crm_messaging.sealing``) before
handlers see them, with one vault query per chunk. A message whose key was destroyed
belongs to an erased person: it is skipped (counted as ``erased``), never applied.

A consumer that acts on a few event types of a topic says which (``event_types``): the
others are passed over (counted as ``ignored``) before any transaction, inbox row or
vault query, and before decoding when the record's ``event-type`` header names them
(our relays set it). A chunk with nothing to apply commits its offsets at most every
``idle_commit_seconds`` (with the next chunk that applies something, or at the stop):
an erasure consumer on a busy topic would otherwise send an offset commit per poll for
messages it only skips, and skipping them again after a restart is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from crm.common.v1.envelope_pb2 import Envelope
from crm_contracts import ContractError, decode_envelope
from crm_eventstore import EventStore, UnitOfWork
from crm_messaging.errors import DeadLetter, RetryLater
from crm_messaging.inbox import claim
from crm_messaging.metrics import CONSUMER_LAG, CONSUMER_MESSAGES
from crm_messaging.sealing import BrokenSeal, KeyDestroyed
from crm_messaging.topics import dead_letter_topic
from crm_messaging.tracing import TraceContext, from_headers, use_trace
from crm_messaging.vault import KeyVault, Opened

__all__ = ["BatchHandler", "Consumer", "ConsumerSettings", "FollowUp", "Handler",
           "InboundMessage"]

log = logging.getLogger("crm.consumer")

_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "08000", "08003", "08006"}


@dataclass(frozen=True)
class InboundMessage:
    """A decoded message and where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    envelope: Envelope
    trace: TraceContext
    # The vault key that sealed the payload on the topic ("" if it came in the clear); the
    # envelope no longer says once the consumer has opened it.
    sealed_by: str = ""

    @property
    def event_id(self) -> str:
        return self.envelope.event_id


Handler = Callable[[InboundMessage, UnitOfWork], Awaitable[None]]
# The rest of a batch handler's work, in a transaction of its own that follows.
FollowUp = Callable[[UnitOfWork], Awaitable[None]]
# Applies several messages (of one partition, in order) in one transaction: for
# handlers whose per-message cost is dominated by round trips that a batch can share.
# It may leave part of the work to a follow-up transaction (returned), which the kit
# runs before the offsets are committed: only without the inbox (see the module doc).
BatchHandler = Callable[[list[InboundMessage], UnitOfWork], Awaitable[FollowUp | None]]


@dataclass(frozen=True)
class ConsumerSettings:
    """Tuning of one consumer; the defaults suit a service on a small machine."""

    chunk_size: int = 1_000
    max_attempts: int = 5
    backoff_initial: float = 0.05
    backoff_max: float = 2.0
    poll_timeout_ms: int = 500
    # How long the broker may hold a fetch that finds nothing new. Kafka answers a held
    # fetch as soon as data arrives; Tansu (the embedded broker) was measured to answer
    # ~130 ms late on average at 500 ms, ~17 ms at 50 ms, at ~2.5% of a core per idle
    # consumer. Every hop of the pipeline pays it, so it is a freshness setting.
    fetch_max_wait_ms: int = 50
    max_poll_records: int = 1_000
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    idle_commit_seconds: float = 1.0


class _WaitForChunk(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped base
    """On revocation, let the chunk in progress finish and commit its offsets, and those
    of skipped chunks not committed yet (the partitions are still ours until this
    returns)."""

    def __init__(self, lock: asyncio.Lock, commit: Callable[[], Awaitable[None]],
                 rebalanced: Callable[[], None]) -> None:
        self._lock = lock
        self._commit = commit
        self._rebalanced = rebalanced

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        async with self._lock:
            await self._commit()
            self._rebalanced()

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        self._rebalanced()


class Consumer:
    """One member of a consumer group, applying messages through ``handler``."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        topics: Sequence[str],
        handler: Handler | None = None,
        store: EventStore,
        batch_handler: BatchHandler | None = None,
        producer: AIOKafkaProducer,
        settings: ConsumerSettings | None = None,
        client_id: str | None = None,
        vault: KeyVault | None = None,
        event_types: Collection[str] | None = None,
        inbox: bool = True,
    ) -> None:
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler and batch_handler")
        self.group_id = group_id
        self.topics = list(topics)
        self.handler = handler
        self.batch_handler = batch_handler
        self.store = store
        self.producer = producer
        self.settings = settings or ConsumerSettings()
        self.vault = vault
        self.event_types = None if event_types is None else frozenset(event_types)
        self.inbox = inbox
        self._chunk_lock = asyncio.Lock()
        # Counts rebalances: records polled before one are not applied (see _consume_chunk).
        self._generation = 0
        self._stopping = asyncio.Event()
        self._committed: dict[TopicPartition, int] = {}
        # Offsets of chunks that applied nothing, not committed yet (see the module doc).
        self._uncommitted: dict[TopicPartition, int] = {}
        # Never committed: the first idle chunk commits. Not 0.0: monotonic time starts
        # near zero at boot, so a host up for less than the interval would wait.
        self._last_commit = -math.inf
        self._kafka = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=client_id or group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.settings.max_poll_records,
            fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
        )

    def assignment(self) -> set[TopicPartition]:
        """The partitions this member currently owns."""
        return set(self._kafka.assignment())

    def stop(self) -> None:
        """Finish the chunk in progress, commit, leave the group."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until :meth:`stop` is called or the task is cancelled."""
        self._kafka.subscribe(self.topics, listener=_WaitForChunk(self._chunk_lock,
                                                                 self._commit_uncommitted,
                                                                 self._rebalanced))
        try:
            # Inside the try: start() waits for the group to assign partitions, and a task
            # cancelled in that wait must still close the client and its background tasks.
            await self._kafka.start()
            while not self._stopping.is_set():
                batches, generation = await self._poll()
                for records in _chunks(batches, self.settings.chunk_size):
                    if self._stopping.is_set():
                        break
                    await self._consume_chunk(records, generation)
                self._report_lag()
            await self._commit_uncommitted()
        finally:
            await self._kafka.stop()

    def _rebalanced(self) -> None:
        self._generation += 1

    async def _poll(self) -> tuple[dict[TopicPartition, list[ConsumerRecord]], int]:
        """The next records by partition, and the rebalance count they belong to."""
        batches = await self._kafka.getmany(
            timeout_ms=self.settings.poll_timeout_ms,
            max_records=self.settings.max_poll_records,
        )
        # What a poll returns belongs to the assignment of that moment (no await between).
        return batches, self._generation

    async def _consume_chunk(self, records: list[ConsumerRecord], generation: int) -> None:
        async with self._chunk_lock:
            if generation != self._generation:
                # Polled before a rebalance: a revoked partition's new owner starts from
                # our last commit, and one we keep starts again from it too (each
                # assignment does), so these records come again.
                return
            chunk = await self._prepare(records)
            applied = await self._apply_chunk(chunk)
            # Only once the chunk is done: a failed one must never be committed later.
            self._uncommitted.update(_next_offsets(records))
            if applied or time.monotonic() - self._last_commit >= self.settings.idle_commit_seconds:
                await self._commit_uncommitted()

    async def _commit_uncommitted(self) -> None:
        if self._uncommitted:
            offsets, self._uncommitted = self._uncommitted, {}
            self._last_commit = time.monotonic()
            await self._commit(offsets)

    async def _prepare(self, records: list[ConsumerRecord]) -> _Prepared:
        """A chunk decoded, filtered (``event_types``) and opened; what is passed over is
        counted when the chunk is applied."""
        skipped: Counter[tuple[str, str]] = Counter()
        if self.event_types is not None:
            wanted = [record for record in records if self._maybe_wanted(record, skipped)]
            decoded = [(record, _decode(record)) for record in wanted]
            decoded = [(record, m) for record, m in decoded if self._wanted(record, m, skipped)]
        else:
            decoded = [(record, _decode(record)) for record in records]
        opened = await self._open_sealed([m for _, m in decoded])
        pairs: list[tuple[ConsumerRecord, InboundMessage | str]] = []
        for (record, _), message in zip(decoded, opened, strict=True):
            if isinstance(message, _Erased):
                skipped[record.topic, "erased"] += 1
            else:
                pairs.append((record, message))
        return _Prepared(pairs, skipped)

    async def _apply_chunk(self, chunk: _Prepared) -> bool:
        """Apply a chunk; whether it had anything to apply (or dead-letter)."""
        pairs = chunk.pairs
        self._count(chunk.skipped)
        messages = [m for _, m in pairs if isinstance(m, InboundMessage)]
        if not pairs:
            return False
        if len(messages) == len(pairs):
            try:
                await self._apply_together(messages)
                return True
            except Exception:
                log.debug("chunk failed; applying its messages one by one", exc_info=True)
        for record, message in pairs:
            if isinstance(message, InboundMessage):
                await self._apply_alone(record, message)
            else:
                await self._dead_letter(record, message)
        return True

    def _maybe_wanted(self, record: ConsumerRecord, ignored: Counter[tuple[str, str]]) -> bool:
        """False for a record whose ``event-type`` header names a type this consumer does
        not act on (counted in ``ignored``); without the header, decoding decides."""
        assert self.event_types is not None
        for name, value in record.headers or ():
            if name == "event-type":
                if value.decode(errors="replace") in self.event_types:
                    return True
                ignored[record.topic, "ignored"] += 1
                return False
        return True

    def _wanted(self, record: ConsumerRecord, message: InboundMessage | str,
                ignored: Counter[tuple[str, str]]) -> bool:
        """Whether ``message`` is of a type this consumer acts on (an undecodable one is:
        it goes to the dead-letter topic); counts the others in ``ignored``."""
        assert self.event_types is not None
        if isinstance(message, str) or message.envelope.event_type in self.event_types:
            return True
        ignored[record.topic, "ignored"] += 1
        return False

    async def _open_sealed(
        self, messages: list[InboundMessage | str]
    ) -> list[InboundMessage | str | _Erased]:
        """Open the sealed payloads among ``messages`` in place: what cannot be opened
        becomes the reason (dead-lettered), or ``_ERASED`` if its key was destroyed."""
        decoded = [m for m in messages if isinstance(m, InboundMessage)]
        if self.vault is None or not any(m.envelope.sealed_by for m in decoded):
            return list(messages)
        opened = iter(await self._vault_open(self.vault, [m.envelope for m in decoded]))
        return [_outcome(m, next(opened)) if isinstance(m, InboundMessage) else m
                for m in messages]

    async def _vault_open(self, vault: KeyVault, envelopes: list[Envelope]) -> list[Opened]:
        """A chunk's envelopes opened. Without the vault nothing can be applied, and
        nothing may be dead-lettered for its absence: wait for it (the partitions stay
        put)."""
        delay = self.settings.backoff_initial
        attempt = 1
        while True:
            try:
                return await vault.open(envelopes)
            except Exception as exc:
                if not _is_transient(exc):
                    raise
                log.warning("key vault unavailable (attempt %d): %s", attempt, _reason(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.backoff_max)
                attempt += 1

    async def _apply_together(self, messages: list[InboundMessage]) -> None:
        follow_up = await self._apply_in_one_transaction(messages)
        if follow_up is not None:
            async with self.store.transaction() as uow:
                await follow_up(uow)

    async def _apply_in_one_transaction(self, messages: list[InboundMessage]) -> FollowUp | None:
        async with self.store.transaction() as uow:
            ids = [m.event_id for m in messages]
            fresh = await claim(uow, self.group_id, ids) if self.inbox else set(ids)
            outcomes: Counter[tuple[str, str]] = Counter()
            todo: list[InboundMessage] = []
            for message in messages:
                if message.event_id in fresh:
                    fresh.discard(message.event_id)
                    todo.append(message)
                    outcomes[message.topic, "processed"] += 1
                else:
                    outcomes[message.topic, "duplicate"] += 1
            follow_up = await self._handle(todo, uow)
            if follow_up is not None and self.inbox:
                # This transaction claims the ids: a failed follow-up would not be retried.
                raise RuntimeError("a batch handler's follow-up needs inbox=False")
        self._count(outcomes)
        return follow_up

    def _count(self, outcomes: Counter[tuple[str, str]]) -> None:
        """Add a chunk's outcomes (topic, outcome) to the metric: once per kind, not per
        message (a labelled increment costs more than a message's share of the chunk)."""
        for (topic, outcome), count in outcomes.items():
            CONSUMER_MESSAGES.labels(self.group_id, topic, outcome).inc(count)

    async def _handle(self, messages: list[InboundMessage], uow: UnitOfWork) -> FollowUp | None:
        if self.batch_handler is not None:
            if not messages:
                return None
            with use_trace(messages[0].trace):
                return await self.batch_handler(messages, uow)
        assert self.handler is not None
        for message in messages:
            with use_trace(message.trace):
                await self.handler(message, uow)
        return None

    async def _apply_alone(self, record: ConsumerRecord, message: InboundMessage) -> None:
        delay = self.settings.backoff_initial
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                await self._apply_together([message])
                return
            except Exception as exc:
                if not _is_transient(exc):
                    await self._dead_letter(record, _reason(exc))
                    return
                if attempt == self.settings.max_attempts:
                    await self._dead_letter(
                        record, f"gave up after {attempt} attempts: {_reason(exc)}")
                    return
                CONSUMER_MESSAGES.labels(self.group_id, message.topic, "retried").inc()
                log.warning("transient failure (attempt %d): %s", attempt, _reason(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.backoff_max)

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        headers = [
            *(record.headers or ()),
            ("dlq.reason", reason.encode()),
            ("dlq.origin.topic", record.topic.encode()),
            ("dlq.origin.partition", str(record.partition).encode()),
            ("dlq.origin.offset", str(record.offset).encode()),
            ("dlq.consumer.group", self.group_id.encode()),
            ("dlq.failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        # Awaited: the offset is committed only once the dead letter is safely stored.
        delivery = await self.producer.send(
            dead_letter_topic(record.topic), record.value, key=record.key, headers=headers)
        await delivery
        CONSUMER_MESSAGES.labels(self.group_id, record.topic, "dead_lettered").inc()
        log.error("dead-lettered %s[%d]@%d: %s", record.topic, record.partition,
                  record.offset, reason)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._kafka.commit(offsets)
            self._committed.update(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # Lost a partition in a rebalance: the new owner redelivers, and the
            # inbox makes that harmless.
            log.warning("offset commit failed for %s: %s", sorted(offsets), exc)

    def _report_lag(self) -> None:
        for partition in self._kafka.assignment():
            end = self._kafka.highwater(partition)
            done = self._committed.get(partition)
            if end is not None and done is not None:
                CONSUMER_LAG.labels(self.group_id, partition.topic, partition.partition).set(
                    max(end - done, 0))


def _chunks(
    batches: dict[TopicPartition, list[ConsumerRecord]], size: int
) -> Iterator[list[ConsumerRecord]]:
    """One poll's records in chunks of at most ``size``, across partitions: each
    partition's records stay in order (a chunk may hold several partitions; nothing
    orders records of different partitions). Fewer, fuller transactions: one poll of
    six partitions was six transactions of ~170 messages, now one of ~1,000."""
    records = [record for partition_records in batches.values() for record in partition_records]
    for start in range(0, len(records), size):
        yield records[start:start + size]


def _next_offsets(records: list[ConsumerRecord]) -> dict[TopicPartition, int]:
    """The offsets to commit once ``records`` are applied: each partition's last + 1."""
    return {TopicPartition(r.topic, r.partition): r.offset + 1 for r in records}


def _decode(record: ConsumerRecord) -> InboundMessage | str:
    """The decoded message, or the reason it cannot be decoded."""
    if record.value is None:
        return "message has no value"
    try:
        envelope = decode_envelope(record.value)
    except ContractError as exc:
        return f"undecodable envelope: {exc}"
    return InboundMessage(record.topic, record.partition, record.offset, record.key,
                          envelope, from_headers(record.headers), envelope.sealed_by)


@dataclass(frozen=True)
class _Prepared:
    """A chunk decoded and opened, not applied yet."""

    # What to apply, or the reason to dead-letter it; passed-over records are left out.
    pairs: list[tuple[ConsumerRecord, InboundMessage | str]]
    skipped: Counter[tuple[str, str]]  # (topic, "ignored" | "erased")


class _Erased:
    """A message sealed by a destroyed key: its person was erased."""


_ERASED = _Erased()


def _outcome(message: InboundMessage, opened: Opened) -> InboundMessage | str | _Erased:
    if isinstance(opened, KeyDestroyed):
        return _ERASED
    if isinstance(opened, BrokenSeal):
        return str(opened)
    return message


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DeadLetter):
        return False
    if isinstance(exc, RetryLater) or getattr(exc, "retriable", False):
        return True
    if isinstance(exc, OperationalError | InterfaceError | asyncpg.InterfaceError):
        return True
    if isinstance(exc, asyncpg.PostgresError):  # a statement sent through the driver
        return exc.sqlstate in _TRANSIENT_SQLSTATES
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(
            getattr(exc.orig, "__cause__", None), "sqlstate", None)
        return exc.connection_invalidated or sqlstate in _TRANSIENT_SQLSTATES
    return isinstance(exc, ConnectionError | TimeoutError)


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:1_000]
