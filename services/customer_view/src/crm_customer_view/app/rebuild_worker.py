"""The rebuild's worker processes: each reads a share of the topic's partitions, turns its
events into rows to file, and folds the records of the customers it is given.

Forked (Linux: the fork start method), one per core, each with a pipe to the rebuild. What
goes through the pipes, in this order (:class:`Workers` is the rebuild's side):

1. worker: :class:`Read` (the events and the index keys it holds);
2. rebuild: :class:`Shared` (its keys other workers hold too); worker: :class:`Groups`;
3. rebuild: :class:`Plan`; worker: :class:`Shipment` (events for other workers), then its
   events as :class:`~crm_customer_view.adapters.view_store.EventRows`;
4. rebuild: :class:`Imports`; worker: :class:`Records` chunks, then :class:`Done`.

The reading, the facts and the folds run in the workers, so they run on every core; the
rebuild files what they send (see :mod:`crm_customer_view.app.rebuild_plan` for who folds
what).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import traceback
from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from crm.common.v1.envelope_pb2 import Envelope
from crm_contracts import ContractError, decode_envelope
from crm_customer_view.adapters.view_store import EventRows, EventToFile, RecordRows
from crm_customer_view.app.rebuild_plan import components
from crm_customer_view.domain import (
    CustomerRecord,
    Fact,
    InvalidEvent,
    ProjectionConfig,
    Redirect,
    customer_key,
    facts_from_envelope,
    index_keys,
    keys_to_load,
    record_of,
    scrubbed_events,
)
from crm_customer_view.settings import CustomerViewSettings
from crm_eventstore import create_engine
from crm_messaging import KeyVault
from crm_messaging.reading import records_to_end
from crm_servicekit import event_loop

__all__ = ["Done", "Groups", "Imports", "Plan", "Read", "Records", "Shared",
           "Shipment", "Workers"]

_BATCH = 500
_EVENT_CHUNK = 2_000  # events turned into rows and sent at a time
_RECORD_CHUNK = 500  # records folded and sent at a time
_OPEN_TOGETHER = 5_000  # envelopes opened with one vault query


@dataclass(frozen=True)
class Read:
    """A worker's share, read: the ids of its events and the index keys they are under."""

    event_ids: frozenset[str]
    keys: frozenset[str]


@dataclass(frozen=True)
class Shared:
    """The worker's keys that another worker holds too."""

    keys: frozenset[str]


@dataclass(frozen=True)
class Groups:
    """The worker's components around its shared keys (as far as its events go)."""

    groups: list[frozenset[str]]


@dataclass(frozen=True)
class Plan:
    """What the worker files, sends and folds."""

    file_elsewhere: frozenset[str]  # event ids a worker before this one files
    exports: Mapping[int, frozenset[str]]  # keys whose events go to another worker
    foreign: frozenset[str]  # keys of components another worker folds


@dataclass(frozen=True)
class Shipment:
    """The events a worker sends to others, to fold there."""

    envelopes: dict[int, list[bytes]]  # opened envelopes, by the worker they go to


@dataclass(frozen=True)
class Imports:
    """The events others sent this worker, to fold here."""

    envelopes: list[bytes]


@dataclass(frozen=True)
class Records:
    """A chunk of folded records, as rows to file."""

    rows: RecordRows
    scrubbed: dict[str, tuple[Fact, ...]]  # events an erasure scrubbed for these records


@dataclass(frozen=True)
class Done:
    """The worker has sent everything."""


@dataclass(frozen=True)
class _Failed:
    trace: str


class Workers:
    """The rebuild's side of the worker processes: started (forked) on entry, stopped on
    exit, whatever state they are in. A worker's failure is raised here with its trace."""

    def __init__(self, settings: CustomerViewSettings, config: ProjectionConfig,
                 count: int) -> None:
        self._start = (settings, config, count)
        self._pipes: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []

    def __enter__(self) -> Workers:
        settings, config, count = self._start
        context = multiprocessing.get_context("fork")
        try:
            for number in range(count):
                ours, theirs = context.Pipe()
                self._pipes.append(ours)
                process = context.Process(target=_serve, daemon=True,
                                          args=(theirs, settings, config, number, count))
                process.start()
                theirs.close()
                self._processes.append(process)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        for process in self._processes:
            process.kill()
        for process in self._processes:
            process.join()
        for pipe in self._pipes:
            pipe.close()

    async def each(self) -> list[Any]:
        """The next message of every worker, in worker order."""
        messages = await asyncio.gather(*map(_received, self._pipes), return_exceptions=True)
        for message in messages:
            if isinstance(message, BaseException):
                raise message
        return messages

    async def send(self, messages: Sequence[object]) -> None:
        """``messages[n]`` to worker ``n``."""
        await asyncio.gather(*(asyncio.to_thread(pipe.send, message)
                               for pipe, message in zip(self._pipes, messages, strict=True)))

    async def until_done(self) -> AsyncGenerator[Any, None]:
        """What the workers send, as it comes, until each has sent :class:`Done`."""
        waiting = {asyncio.ensure_future(_received(pipe)): pipe for pipe in self._pipes}
        try:
            while waiting:
                arrived, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in arrived:
                    pipe = waiting.pop(task)
                    if not isinstance(message := task.result(), Done):
                        waiting[asyncio.ensure_future(_received(pipe))] = pipe
                        yield message
        finally:
            for task in waiting:
                task.cancel()


async def _received(pipe: Connection) -> Any:
    try:
        message = await asyncio.to_thread(pipe.recv)
    except EOFError:
        raise RuntimeError("a rebuild worker ended without a word") from None
    if isinstance(message, _Failed):
        raise RuntimeError(f"a rebuild worker failed:\n{message.trace}")
    return message


# --- in a worker process ---------------------------------------------------------------


def _serve(pipe: Connection, settings: CustomerViewSettings, config: ProjectionConfig,
           number: int, count: int) -> None:
    try:
        _work(pipe, settings, config, number, count)
    except BaseException:
        pipe.send(_Failed(traceback.format_exc()))
        raise


def _work(pipe: Connection, settings: CustomerViewSettings, config: ProjectionConfig,
          number: int, count: int) -> None:
    history = event_loop.run(_read(settings, number, count))
    pipe.send(Read(frozenset(history.events), frozenset(history.events_by_key)))
    shared: Shared = pipe.recv()
    pipe.send(Groups(history.components(shared.keys)))
    plan: Plan = pipe.recv()
    pipe.send(Shipment({to: history.envelopes_under(keys) for to, keys in plan.exports.items()}))
    to_file = [e for e in history.to_file if e.event_id not in plan.file_elsewhere]
    for start in range(0, len(to_file), _EVENT_CHUNK):
        pipe.send(EventRows.of(to_file[start:start + _EVENT_CHUNK]))
    imports: Imports = pipe.recv()
    history.add([Envelope.FromString(e) for e in imports.envelopes], {}, to_file=False)
    customers = history.customers(excluding=plan.foreign)
    for start in range(0, len(customers), _RECORD_CHUNK):
        results = [history.record(customer_id, config)
                   for customer_id in customers[start:start + _RECORD_CHUNK]]
        pipe.send(Records(RecordRows.of(results, datetime.now(UTC)), history.scrubbed))
        history.scrubbed = {}
    pipe.send(Done())


async def _read(settings: CustomerViewSettings, number: int, count: int) -> _History:
    """Worker ``number``'s share of the topic (every ``count``-th partition), opened (a few
    thousand events per vault query), with the facts of its events."""
    history = _History()
    vault_engine = create_engine(settings.vault_database_url, settings.vault_schema,
                                 pool_size=1)
    vault = KeyVault(vault_engine)
    try:
        pending: list[Envelope] = []
        async for batch in _envelopes(settings, number, count):
            pending += batch
            if len(pending) >= _OPEN_TOGETHER:
                history.add(*await _opened(vault, pending))
                pending = []
        history.add(*await _opened(vault, pending))
    finally:
        await vault_engine.dispose()
    return history


async def _envelopes(settings: CustomerViewSettings, number: int, count: int
                     ) -> AsyncIterator[list[Envelope]]:
    # A short fetch wait: the reader's last fetches find nothing new (see ConsumerSettings).
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    try:
        topic = settings.profiles_topic
        partitions = [TopicPartition(topic, p)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())
                      if p % count == number]
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async for records in records_to_end(consumer, partitions, max_records=_BATCH):
            batch = [e for e in map(_envelope, records) if e is not None]
            if batch:
                yield batch
    finally:
        await consumer.stop()


async def _opened(vault: KeyVault, batch: list[Envelope]
                  ) -> tuple[list[Envelope], dict[str, str]]:
    """The batch with sealed payloads opened, without what cannot be: a destroyed key (an
    erasure; the live view dropped those events too) or a broken seal (the live consumer
    dead-lettered it); and the key that sealed each sealed one."""
    sealed_by = {e.event_id: e.sealed_by for e in batch if e.sealed_by}
    return [e for e in await vault.open(batch) if isinstance(e, Envelope)], sealed_by


def _envelope(record: ConsumerRecord) -> Envelope | None:
    try:
        return decode_envelope(record.value)
    except ContractError:
        return None  # the live consumer dead-lettered it too


class _History:
    """A worker's events: their facts, the events filed under each index key, and the
    opened envelopes (to send to another worker)."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[Fact, ...]] = {}
        self.to_file: list[EventToFile] = []  # the events read, as the store files them
        self.scrubbed: dict[str, tuple[Fact, ...]] = {}  # events an erasure scrubbed
        self.events_by_key: dict[str, list[str]] = defaultdict(list)
        self._keys: dict[str, frozenset[str]] = {}
        self._envelopes: dict[str, Envelope] = {}

    def add(self, envelopes: list[Envelope], sealed_by: dict[str, str],
            to_file: bool = True) -> None:
        """Take ``envelopes`` (opened; ``sealed_by``: the key that sealed each sealed one),
        to file unless ``to_file`` is false (another worker files them)."""
        for envelope in envelopes:
            event_id = envelope.event_id
            if event_id in self.events:
                continue
            try:
                facts = facts_from_envelope(envelope)
            except (ContractError, InvalidEvent):
                continue  # the live consumer dead-lettered it
            keys = frozenset().union(*(index_keys(f) for f in facts))
            self.events[event_id] = facts
            self._keys[event_id] = keys
            self._envelopes[event_id] = envelope
            for key in keys:
                self.events_by_key[key].append(event_id)
            if to_file:
                self.to_file.append(
                    EventToFile(event_id, facts, keys, sealed_by.get(event_id, "")))

    def customers(self, excluding: frozenset[str]) -> list[str]:
        """The ids of the customers these events name, in order, but for those whose
        keys are in ``excluding``."""
        prefix = customer_key("")
        return sorted(key.removeprefix(prefix) for key in self.events_by_key
                      if key.startswith(prefix) and key not in excluding)

    def components(self, keys: frozenset[str]) -> list[frozenset[str]]:
        """The keys connected to each of ``keys`` by these events, each component once."""
        return components(keys, self.events_by_key, self._keys)

    def envelopes_under(self, keys: frozenset[str]) -> list[bytes]:
        """The opened envelopes of the events filed under ``keys``, each once."""
        event_ids = dict.fromkeys(event_id for key in sorted(keys)
                                  for event_id in self.events_by_key.get(key, ()))
        return [self._envelopes[e].SerializeToString() for e in event_ids]

    def record(self, customer_id: str, config: ProjectionConfig) -> CustomerRecord | Redirect:
        """The record of ``customer_id``; an erasure in its lineage scrubs the events it
        covers (as the live projection does), from then on and in :attr:`scrubbed`."""
        facts = self._lineage(customer_id)
        scrubbed = scrubbed_events(facts)
        self.events.update(scrubbed)
        self.scrubbed.update(scrubbed)
        return record_of(customer_id, facts, config)

    def _lineage(self, customer_id: str) -> list[Fact]:
        """What :func:`record_of` needs for ``customer_id`` (as ``load_lineage``, in memory)."""
        keys: frozenset[str] = frozenset({customer_key(customer_id)})
        loaded: frozenset[str] = frozenset()
        facts: list[Fact] = []
        while keys - loaded:
            for key in keys - loaded:
                for event_id in self.events_by_key.get(key, ()):
                    facts += self.events[event_id]
            loaded |= keys
            keys = keys_to_load(customer_id, facts) | loaded
        return facts
