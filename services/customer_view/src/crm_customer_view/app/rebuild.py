"""Rebuild: replay crm.profiles.v1 from the beginning into a fresh schema, compare every
record's digest with the live view, and (on request) replace the live records.

``python -m crm_customer_view.app.rebuild [--replace]`` with the service's environment.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.common.v1.envelope_pb2 import Envelope
from crm_contracts import ContractError, decode_envelope
from crm_customer_view.adapters.view_store import (
    EventRows,
    EventToFile,
    RecordRows,
    ViewStore,
)
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
from crm_eventstore import EventStore, create_engine
from crm_messaging import KeyVault
from crm_messaging.reading import records_to_end
from crm_servicekit.gc_policy import cyclic_collection_paused

__all__ = ["Comparison", "RebuildResult", "compare", "rebuild"]

T = TypeVar("T")

_BATCH = 500
_EVENT_CHUNK = 2_000  # events a worker process encodes at a time
_RECORD_CHUNK = 500  # customers a worker process folds at a time
_OPEN_TOGETHER = 5_000  # envelopes opened with one vault query
_DIGESTS = text("SELECT customer_id, coalesce(digest, 'redirect:' || survivor_id)"
                " FROM customer_records")
_TABLES = ("view_events", "view_event_keys", "customer_records", "customer_identifiers")


@dataclass(frozen=True)
class RebuildResult:
    schema: str
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Comparison:
    equal: int
    different: tuple[str, ...]
    only_live: tuple[str, ...]
    only_rebuilt: tuple[str, ...]

    @property
    def identical(self) -> bool:
        return not (self.different or self.only_live or self.only_rebuilt)


async def rebuild(settings: CustomerViewSettings, schema: str) -> RebuildResult:
    """Replay the topic, up to its end at the start, into ``schema`` (emptied first).

    History is read whole, filed in bulk, and every customer's record is folded once
    (not once per event that touches it, as the live projection must), by worker
    processes forked from this one (Linux: the fork start method). Erasures scrub the
    stored facts here as they do live (``scrubbed_events``).
    """
    from crm_customer_view.bootstrap import SERVICE

    engine = create_engine(settings.database_url, schema)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await SERVICE.migrate(settings.model_copy(update={"db_schema": schema}))
    with cyclic_collection_paused():
        try:
            return await _replay(settings, engine, schema)
        finally:
            await engine.dispose()


async def _replay(settings: CustomerViewSettings, engine: AsyncEngine,
                  schema: str) -> RebuildResult:
    started = time.perf_counter()
    history = await _read_history(settings)
    # Worker processes encode the events and fold the records; this one files their rows
    # as they come, events and records each on a connection (and transaction) of its own.
    # The events erasures scrubbed are rewritten before their transaction commits.
    async with _filing(engine, ViewStore.copy_events) as events, \
            _filing(engine, ViewStore.copy_records) as records:
        # aclosing: a failure here stops the workers at once, not when collected.
        async with aclosing(_prepared(history, settings.projection_config())) as prepared:
            async for rows, scrubbed in prepared:
                if isinstance(rows, EventRows):
                    await events.file(rows)
                else:
                    await records.file(rows)
                history.scrubbed.update(scrubbed)
        await events.close()
        await events.store.rewrite_events(history.scrubbed)
    return RebuildResult(schema, len(history.events), time.perf_counter() - started)


async def _read_history(settings: CustomerViewSettings) -> _History:
    """The topic's events, opened (a few thousand per vault query), with their facts."""
    history = _History()
    vault_engine = create_engine(settings.vault_database_url, settings.vault_schema,
                                 pool_size=1)
    vault = KeyVault(vault_engine)
    try:
        pending: list[Envelope] = []
        async for batch in _history(settings):
            pending += batch
            if len(pending) >= _OPEN_TOGETHER:
                history.add(*await _opened(vault, pending))
                pending = []
        history.add(*await _opened(vault, pending))
    finally:
        await vault_engine.dispose()
    return history


# What the worker processes inherit (they are forked): set while they run.
_FORKED: tuple[_History, ProjectionConfig] | None = None
_Prepared = tuple[EventRows | RecordRows, dict[str, tuple[Fact, ...]]]


async def _prepared(history: _History, config: ProjectionConfig
                    ) -> AsyncGenerator[_Prepared, None]:
    """Every event and every customer's record as rows to file, a chunk at a time in any
    order, with the events erasures scrubbed for those records. One worker process per
    core: each inherits ``history`` by fork, so only chunk numbers go to them, and rows
    (text) come back."""
    global _FORKED
    customers = len(history.customers)  # listed before the fork, once for every worker
    _FORKED = (history, config)
    loop = asyncio.get_running_loop()
    pool = ProcessPoolExecutor(len(os.sched_getaffinity(0)),
                               mp_context=multiprocessing.get_context("fork"))
    try:
        # Events first: Postgres files them while the workers fold.
        chunks = [loop.run_in_executor(pool, _event_rows, start)
                  for start in range(0, len(history.to_file), _EVENT_CHUNK)]
        chunks += [loop.run_in_executor(pool, _record_rows, start)
                   for start in range(0, customers, _RECORD_CHUNK)]
        for chunk in asyncio.as_completed(chunks):
            yield await chunk
    finally:
        _FORKED = None
        pool.shutdown(cancel_futures=True)


def _event_rows(start: int) -> _Prepared:
    """In a worker process: the rows of the events from ``start`` on (a chunk of them)."""
    history, _ = _inherited()
    return EventRows.of(history.to_file[start:start + _EVENT_CHUNK]), {}


def _record_rows(start: int) -> _Prepared:
    """In a worker process: the records of the customers from ``start`` on (a chunk of
    them), and the events scrubbed for them."""
    history, config = _inherited()
    history.scrubbed.clear()  # what this worker scrubbed before was handed over already
    results = [history.record(customer_id, config)
               for customer_id in history.customers[start:start + _RECORD_CHUNK]]
    return RecordRows.of(results, datetime.now(UTC)), dict(history.scrubbed)


def _inherited() -> tuple[_History, ProjectionConfig]:
    assert _FORKED is not None, "a rebuild worker runs forked from the rebuild"
    return _FORKED


class _History:
    """Every event of the topic, its facts, and the events filed by index key."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[Fact, ...]] = {}
        self.to_file: list[EventToFile] = []  # every event, as the store files it
        self.scrubbed: dict[str, tuple[Fact, ...]] = {}  # events an erasure scrubbed
        self._by_key: dict[str, list[str]] = defaultdict(list)

    def add(self, envelopes: list[Envelope], sealed_by: dict[str, str]) -> None:
        """Take ``envelopes`` (opened; ``sealed_by``: the key that sealed each sealed one)."""
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
            for key in keys:
                self._by_key[key].append(event_id)
            self.to_file.append(EventToFile(event_id, facts, keys, sealed_by.get(event_id, "")))

    @cached_property
    def customers(self) -> list[str]:
        """Every customer id the events name, in order (once the history is read)."""
        prefix = customer_key("")
        return sorted(k.removeprefix(prefix) for k in self._by_key if k.startswith(prefix))

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
                for event_id in self._by_key.get(key, ()):
                    facts += self.events[event_id]
            loaded |= keys
            keys = keys_to_load(customer_id, facts) | loaded
        return facts


class _Filer(Generic[T]):
    """Saves chunks in the background, in the order given, on one connection: Postgres
    stores a chunk while the caller prepares the next."""

    def __init__(self, store: ViewStore, save: Callable[[ViewStore, T], Awaitable[None]]
                 ) -> None:
        self.store, self._save = store, save
        self._chunks: asyncio.Queue[T | None] = asyncio.Queue()
        self._closed = False
        self._worker = asyncio.create_task(self._work())

    async def file(self, chunk: T) -> None:
        """Queue ``chunk`` to save; raises what made an earlier chunk fail."""
        if self._worker.done():
            self._worker.result()
        self._chunks.put_nowait(chunk)
        await asyncio.sleep(0)  # the worker starts on it before the caller goes on

    async def close(self) -> None:
        """Wait until every chunk queued is saved; raises what made one fail. Closing
        again only waits again."""
        if not self._closed:
            self._closed = True
            self._chunks.put_nowait(None)
        await self._worker

    def abandon(self) -> None:
        """Stop saving (the transaction is rolled back)."""
        self._worker.cancel()

    async def _work(self) -> None:
        while (chunk := await self._chunks.get()) is not None:
            await self._save(self.store, chunk)


@asynccontextmanager
async def _filing(engine: AsyncEngine, save: Callable[[ViewStore, T], Awaitable[None]]
                  ) -> AsyncIterator[_Filer[T]]:
    """A :class:`_Filer` in a transaction that commits once every chunk is saved."""
    async with EventStore(engine).transaction() as uow:
        filer = _Filer(ViewStore(uow.connection), save)
        try:
            yield filer
        except BaseException:
            filer.abandon()
            raise
        await filer.close()


async def compare(live: AsyncEngine, rebuilt: AsyncEngine) -> Comparison:
    """Record-for-record comparison of two views by digest (redirects by survivor)."""
    a, b = await _digests(live), await _digests(rebuilt)
    return Comparison(
        equal=sum(1 for k in a.keys() & b.keys() if a[k] == b[k]),
        different=tuple(sorted(k for k in a.keys() & b.keys() if a[k] != b[k])),
        only_live=tuple(sorted(a.keys() - b.keys())),
        only_rebuilt=tuple(sorted(b.keys() - a.keys())),
    )


async def replace_live(live: AsyncEngine, rebuilt_schema: str) -> None:
    """Make the live tables equal to the rebuilt ones, in one transaction."""
    async with live.begin() as conn:
        for table in _TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
            await conn.execute(text(
                f'INSERT INTO {table} SELECT * FROM "{rebuilt_schema}".{table}'))


async def _history(settings: CustomerViewSettings) -> AsyncIterator[list[Envelope]]:
    # A short fetch wait: the reader's last fetches find nothing new (see ConsumerSettings).
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.profiles_topic, p)
                      for p in consumer.partitions_for_topic(settings.profiles_topic) or ()]
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


async def _digests(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        return {str(k): str(v) for k, v in await conn.execute(_DIGESTS)}


async def _main(replace: bool) -> int:
    settings = CustomerViewSettings()  # type: ignore[call-arg]  # from the environment
    result = await rebuild(settings, f"{settings.db_schema}_rebuild")
    print(f"rebuilt {result.events} events in {result.seconds:.1f}s ({result.rate:,.0f}/s)")
    live = create_engine(settings.database_url, settings.db_schema)
    rebuilt = create_engine(settings.database_url, result.schema)
    try:
        outcome = await compare(live, rebuilt)
        print(f"identical records: {outcome.equal}; different: {len(outcome.different)}; "
              f"only live: {len(outcome.only_live)}; only rebuilt: {len(outcome.only_rebuilt)}")
        if replace:
            await replace_live(live, result.schema)
            print("live view replaced by the rebuilt one")
    finally:
        await live.dispose()
        await rebuilt.dispose()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Rebuild the customer view from history.")
    parser.add_argument("--replace", action="store_true",
                        help="replace the live records with the rebuilt ones")
    raise SystemExit(asyncio.run(_main(parser.parse_args().replace)))


if __name__ == "__main__":
    main()
