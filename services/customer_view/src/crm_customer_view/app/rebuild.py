"""Rebuild: replay crm.profiles.v1 from the beginning into a fresh schema, compare every
record's digest with the live view, and (on request) replace the live records.

``python -m crm_customer_view.app.rebuild [--replace]`` with the service's environment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_customer_view.adapters.view_store import EventRows, ViewStore
from crm_customer_view.app.rebuild_plan import assign, held_before, held_elsewhere
from crm_customer_view.app.rebuild_worker import (
    Groups,
    Imports,
    Plan,
    Read,
    Shared,
    Shipment,
    Workers,
)
from crm_customer_view.domain import Fact
from crm_customer_view.settings import CustomerViewSettings
from crm_eventstore import EventStore, create_engine
from crm_servicekit.gc_policy import cyclic_collection_paused

__all__ = ["Comparison", "RebuildResult", "compare", "rebuild"]

T = TypeVar("T")

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


async def rebuild(settings: CustomerViewSettings, schema: str, workers: int | None = None
                  ) -> RebuildResult:
    """Replay the topic, up to its end at the start, into ``schema`` (emptied first).

    History is read whole, filed in bulk, and every customer's record is folded once
    (not once per event that touches it, as the live projection must). Worker processes
    forked from this one (Linux: the fork start method; ``workers``, one per core unless
    given) each read a share of the partitions and fold what they read (see
    :mod:`.rebuild_worker`). Erasures scrub the stored facts here as they do live
    (``scrubbed_events``).
    """
    from crm_customer_view.bootstrap import SERVICE

    engine = create_engine(settings.database_url, schema)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await SERVICE.migrate(settings.model_copy(update={"db_schema": schema}))
    await _unlogged(engine)
    with cyclic_collection_paused():
        try:
            return await _replay(settings, engine, schema,
                                 workers or len(os.sched_getaffinity(0)))
        finally:
            await engine.dispose()


async def _unlogged(engine: AsyncEngine) -> None:
    """The rebuilt tables skip the write-ahead log: they are a copy to compare and to copy
    from (:func:`replace_live` writes the live tables, logged), so a crash that empties them
    costs a rerun. Postgres then writes each row once instead of twice (~30% of its CPU in
    a rebuild), and the facts an erasure scrubs before the commit reach no WAL either."""
    async with engine.begin() as conn:
        for table in _TABLES:
            await conn.execute(text(f"ALTER TABLE {table} SET UNLOGGED"))


async def _replay(settings: CustomerViewSettings, engine: AsyncEngine, schema: str,
                  workers: int) -> RebuildResult:
    started = time.perf_counter()
    # Worker processes read the topic, encode the events and fold the records; this one
    # files their rows as they come, events and records each on a connection (and
    # transaction) of its own. The events erasures scrubbed are rewritten before their
    # transaction commits.
    async with _filing(engine, ViewStore.copy_events) as events, \
            _filing(engine, ViewStore.copy_records) as records:
        with Workers(settings, settings.projection_config(), workers) as work:
            read: list[Read] = await work.each()
            await _plan(work, read)
            scrubbed: dict[str, tuple[Fact, ...]] = {}
            # aclosing: a failure here stops waiting for the workers at once.
            async with aclosing(work.until_done()) as arriving:
                async for rows in arriving:
                    if isinstance(rows, EventRows):
                        await events.file(rows)
                    else:
                        await records.file(rows.rows)
                        scrubbed.update(rows.scrubbed)
        await events.close()
        await events.store.rewrite_events(scrubbed)
    count = len(frozenset().union(*(r.event_ids for r in read)))
    return RebuildResult(schema, count, time.perf_counter() - started)


async def _plan(work: Workers, read: list[Read]) -> None:
    """Tell the workers what to file and fold once each has read its share: an event read
    twice is filed once, and a component of events that crosses workers is folded by one
    of them, which the others send its events to (:mod:`.rebuild_plan`)."""
    await work.send([Shared(keys) for keys in held_elsewhere([r.keys for r in read])])
    groups: list[Groups] = await work.each()
    assignments = assign([g.groups for g in groups])
    filed_before = held_before([r.event_ids for r in read])
    await work.send([Plan(filed, a.exports, a.foreign)
                     for filed, a in zip(filed_before, assignments, strict=True)])
    shipments: list[Shipment] = await work.each()
    await work.send([Imports([e for s in shipments for e in s.envelopes.get(n, ())])
                     for n in range(len(shipments))])


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

    async def abandon(self) -> None:
        """Stop saving, and wait until the chunk being saved is called off: the
        connection is free again, so the transaction can be rolled back."""
        self._worker.cancel()
        await asyncio.wait([self._worker])

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
            await filer.abandon()
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
