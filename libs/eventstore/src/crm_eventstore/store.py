"""The event store on Postgres: append with optimistic concurrency, read a stream, read all.

All writes go through a :class:`UnitOfWork`, which owns one database transaction:
handlers append events and change their own tables on ``uow.connection``; the
outbox rows for published events are written by the same INSERT statement as the
events, so they commit or vanish together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_eventstore.db import autocommit, validate_schema_name
from crm_eventstore.driver import driver_connection
from crm_eventstore.errors import DuplicateEvent, ReadTimeout, WrongExpectedVersion
from crm_eventstore.events import ANY, EventMetadata, NewEvent, RecordedEvent

__all__ = ["AppendedEvent", "EventStore", "StreamAppend", "UnitOfWork"]


@dataclass(frozen=True)
class StreamAppend:
    """Events for one stream, appended only if the stream is at ``expected_version``."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int = ANY


@dataclass(frozen=True)
class AppendedEvent:
    """Where an appended event landed."""

    global_position: int
    stream_id: str
    stream_version: int


# One statement appends to any number of streams: the version check, the insert and
# the outbox rows. The xid CTE is joined into every input row so the transaction
# has its id *before* any position is drawn from the sequence; read_all relies on it.
# Sent through the driver (crm_eventstore.driver): its parameters are the columns of
# _append_columns, in that order.
_APPEND_TEMPLATE = """
WITH {claim}xid AS MATERIALIZED (SELECT pg_current_xact_id() AS tx_id),
input AS (
    SELECT t.stream_id, {ord} AS ord, {expected} AS expected, t.event_id,
           {event_type} AS event_type, {schema_version} AS schema_version, t.payload,
           t.customer_key, {topic} AS topic, t.occurred_at,
           {correlation_id} AS correlation_id, {causation_id} AS causation_id,
           {traceparent} AS traceparent, {tracestate} AS tracestate, t.n, xid.tx_id
    FROM xid, unnest(
        CAST($1 AS text[]), CAST($2 AS bigint[]), CAST($3 AS bigint[]),
        CAST($4 AS uuid[]), CAST($5 AS text[]), CAST($6 AS integer[]), CAST($7 AS bytea[]),
        CAST($8 AS text[]), CAST($9 AS text[]), CAST($10 AS timestamptz[]),
        CAST($11 AS text[]), CAST($12 AS text[]), CAST($13 AS text[]), CAST($14 AS text[])
    ) WITH ORDINALITY AS t(stream_id, ord, expected, event_id, event_type, schema_version,
                           payload, customer_key, topic, occurred_at, correlation_id,
                           causation_id, traceparent, tracestate, n)
    {only_claimed}
),
-- NO_STREAM (expected 0) needs no lookup: version 1 collides in the unique index
-- exactly when the stream exists. Only ANY and exact versions read the current one.
current_versions AS (
    SELECT s.stream_id,
           coalesce((SELECT max(e.stream_version) FROM events e
                     WHERE e.stream_id = s.stream_id), 0) AS version
    FROM (SELECT DISTINCT stream_id FROM input WHERE expected <> 0) s
),
inserted AS (
    INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version,
                        payload, customer_key, topic, occurred_at, correlation_id,
                        causation_id, traceparent, tracestate, tx_id)
    SELECT i.stream_id,
           CASE WHEN i.expected < 0 THEN c.version ELSE i.expected END + i.ord,
           i.event_id, i.event_type, i.schema_version, i.payload, i.customer_key, i.topic,
           i.occurred_at, i.correlation_id, i.causation_id, i.traceparent, i.tracestate,
           i.tx_id
    FROM input i LEFT JOIN current_versions c USING (stream_id)
    WHERE i.expected <= 0 OR c.version = i.expected
    ORDER BY i.n
    RETURNING global_position, stream_id, stream_version, topic, event_id
),
queued AS (
    INSERT INTO outbox (global_position)
    SELECT global_position FROM inserted WHERE topic IS NOT NULL ORDER BY global_position
)
SELECT global_position, stream_id, stream_version, event_id FROM inserted
ORDER BY global_position
"""
# Columns whose value is often the same for every event of a call (one request's trace,
# one type, first versions): sent as one value then (see _append_columns), which the
# statement repeats. Each array element costs the driver ~0.3 us to check and encode.
_SHARED_COLUMNS = {"ord": (1, "bigint"), "expected": (2, "bigint"),
                   "event_type": (4, "text"), "schema_version": (5, "integer"),
                   "topic": (8, "text"), "correlation_id": (10, "text"),
                   "causation_id": (11, "text"), "traceparent": (12, "text"),
                   "tracestate": (13, "text")}
_SHARED_VALUES = {
    name: f"CASE WHEN cardinality(CAST(${index + 1} AS {kind}[])) = 1"
          f" THEN (CAST(${index + 1} AS {kind}[]))[1] ELSE t.{name} END"
    for name, (index, kind) in _SHARED_COLUMNS.items()}
_APPEND = _APPEND_TEMPLATE.format(claim="", only_claimed="", **_SHARED_VALUES)

# The idempotent variant: each event id is first claimed in a ledger table (event_id
# uuid primary key, content_hash bytea); only the events whose id this statement claimed
# are appended. A concurrent claim of the same id makes the statement wait for it.
# One parameter more: the fingerprints, in the order of the event ids ($4).
_CLAIM = """claimed AS (
    INSERT INTO {ledger} (event_id, content_hash)
    SELECT * FROM unnest(CAST($4 AS uuid[]), CAST($15 AS bytea[]))
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
),
"""


@lru_cache(maxsize=8)
def _append_once_statement(ledger: str) -> str:
    validate_schema_name(ledger)  # an identifier of our own code, checked all the same
    return _APPEND_TEMPLATE.format(
        claim=_CLAIM.format(ledger=ledger),
        only_claimed="WHERE t.event_id IN (SELECT event_id FROM claimed)", **_SHARED_VALUES)


_COLUMNS = """global_position, stream_id, stream_version, event_id, event_type, schema_version,
    payload, customer_key, topic, occurred_at, recorded_at, correlation_id, causation_id,
    traceparent, tracestate"""

_READ_STREAM = text(f"""
SELECT {_COLUMNS} FROM events
WHERE stream_id = :stream_id AND stream_version > :after
ORDER BY stream_version LIMIT :limit
""")

_STREAMS = text(f"""
SELECT {_COLUMNS} FROM events WHERE stream_id = ANY(CAST(:stream_ids AS text[]))
ORDER BY global_position
""")

# Every needle is searched as bytes: an identifier appears verbatim in a protobuf string.
_CONTAINING = text(f"""
SELECT {_COLUMNS} FROM events
WHERE EXISTS (SELECT 1 FROM unnest(CAST(:needles AS bytea[])) AS n
              WHERE position(n IN payload) > 0)
ORDER BY global_position
""")

_REDACT = text("""
UPDATE events e SET payload = r.payload, customer_key = coalesce(r.customer_key, e.customer_key),
                    redacted_at = clock_timestamp()
FROM unnest(CAST(:event_ids AS uuid[]), CAST(:payloads AS bytea[]), CAST(:keys AS text[]))
     AS r(event_id, payload, customer_key)
WHERE e.event_id = r.event_id
  AND (e.payload <> r.payload OR e.customer_key <> coalesce(r.customer_key, e.customer_key))
""")

_STREAM_VERSIONS = text("""
SELECT s, coalesce((SELECT max(stream_version) FROM events WHERE stream_id = s), 0)
FROM unnest(CAST(:stream_ids AS text[])) AS s
""")

_SNAPSHOT = text("""
SELECT (SELECT max(global_position) FROM events) AS last_position,
       ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot())) AS in_flight
""")

_STILL_RUNNING = text("""
SELECT count(*) FROM unnest(CAST(:xids AS xid8[])) AS x
WHERE pg_xact_status(x) = 'in progress'
""")

_READ_ALL = text(f"""
SELECT {_COLUMNS} FROM events
WHERE global_position > :after AND global_position <= :until
ORDER BY global_position LIMIT :limit
""")


class UnitOfWork:
    """One database transaction: append events and change the service's own tables."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int = ANY
    ) -> list[AppendedEvent]:
        """Append ``events`` to one stream; see :meth:`append_streams`."""
        return await self.append_streams([StreamAppend(stream_id, events, expected_version)])

    async def append_streams(self, appends: Sequence[StreamAppend]) -> list[AppendedEvent]:
        """Append to several streams in one statement.

        Raises :class:`WrongExpectedVersion` if any stream is not at its expected
        version and :class:`DuplicateEvent` if an event id is already stored; the
        transaction must then be rolled back (leaving the unit of work does that).
        """
        columns = _append_columns(appends)
        if not columns[_EVENT_IDS]:
            return []
        driver = await driver_connection(self.connection)
        try:
            rows = await driver.fetch(_APPEND, *columns)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _translate_integrity_error(exc, appends) from exc
        if len(rows) != len(columns[_EVENT_IDS]):
            raise await self._version_conflict(appends, rows)
        return [AppendedEvent(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def append_once(self, appends: Sequence[StreamAppend],
                          fingerprints: Mapping[UUID, bytes], ledger: str) -> set[UUID]:
        """Append each event whose id is new to the idempotency ledger table ``ledger``
        (columns ``event_id`` uuid primary key, ``content_hash`` bytea), recording its
        ``fingerprints`` entry there; one statement. Returns the ids appended: an id
        already in the ledger (or claimed by a transaction that commits meanwhile) is
        skipped, its events not appended.

        Each event id at most once per call; streams expected at ``NO_STREAM`` or ``ANY``
        (an exact version that does not hold could not be told from a skip); meant for
        one event per stream, as a stream whose events were partly skipped would be
        numbered with gaps.
        """
        if any(a.expected_version > 0 for a in appends):
            raise ValueError("append_once takes NO_STREAM or ANY expectations only")
        columns = _append_columns(appends)
        if not columns[_EVENT_IDS]:
            return set()
        hashes = [fingerprints[event_id] for event_id in columns[_EVENT_IDS]]
        driver = await driver_connection(self.connection)
        try:
            rows = await driver.fetch(_append_once_statement(ledger), *columns, hashes)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _translate_integrity_error(exc, appends) from exc
        return {row[3] for row in rows}  # asyncpg's UUIDs: equal to (and hash as) uuid.UUID

    async def read_stream(
        self, stream_id: str, after_version: int = 0, limit: int = 10_000
    ) -> list[RecordedEvent]:
        """Events of ``stream_id`` after ``after_version``, in version order."""
        rows = await self.connection.execute(
            _READ_STREAM, {"stream_id": stream_id, "after": after_version, "limit": limit}
        )
        return [_recorded(row) for row in rows]

    async def read_streams(self, stream_ids: Iterable[str]) -> list[RecordedEvent]:
        """Every event of ``stream_ids``, in global order."""
        rows = await self.connection.execute(_STREAMS, {"stream_ids": sorted(set(stream_ids))})
        return [_recorded(row) for row in rows]

    async def containing(self, needles: Iterable[bytes]) -> list[RecordedEvent]:
        """Events whose payload contains any of ``needles`` verbatim (a full scan: for
        erasure, which must find a value wherever an event carries it)."""
        wanted = sorted(set(n for n in needles if n))
        if not wanted:
            return []
        return [_recorded(row) for row in await self.connection.execute(
            _CONTAINING, {"needles": wanted})]

    async def redact(self, payloads: Mapping[UUID, bytes],
                     customer_keys: Mapping[UUID, str] | None = None) -> int:
        """Replace the payloads of stored events (by event id) and mark them redacted;
        ``customer_keys`` replaces partition keys that are personal data themselves (a
        touchpoint is keyed by its strongest identifier).

        History is otherwise immutable; erasure is the exception the law requires. An
        event keeps its id, type, stream and position, so readers and the outbox relay
        see the same history with less in it. Returns how many events changed.
        """
        if not payloads:
            return 0
        keys = customer_keys or {}
        result = await self.connection.execute(_REDACT, {
            "event_ids": list(payloads), "payloads": list(payloads.values()),
            "keys": [keys.get(event_id) for event_id in payloads]})
        return int(result.rowcount)

    async def stream_versions(self, stream_ids: Iterable[str]) -> dict[str, int]:
        """Current version of each stream (0 for a stream that does not exist)."""
        rows = await self.connection.execute(_STREAM_VERSIONS, {"stream_ids": list(stream_ids)})
        return {str(stream): int(version) for stream, version in rows}

    async def _version_conflict(
        self, appends: Sequence[StreamAppend], inserted: Sequence[asyncpg.Record]
    ) -> WrongExpectedVersion:
        written = {str(row["stream_id"]) for row in inserted}
        actual = await self.stream_versions(a.stream_id for a in appends)
        for append in appends:
            if append.stream_id not in written and append.events:
                return WrongExpectedVersion(
                    append.stream_id, append.expected_version, actual[append.stream_id]
                )
        first = appends[0]
        return WrongExpectedVersion(first.stream_id, first.expected_version, None)


class EventStore:
    """The event store of one service schema."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # One statement is atomic on its own: lone appends skip BEGIN and COMMIT.
        self._autocommit = autocommit(engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work; commits when the block ends, rolls back on an exception."""
        async with self.engine.begin() as connection:
            yield UnitOfWork(connection)

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int = ANY
    ) -> list[AppendedEvent]:
        """Append in a transaction of its own (a single statement, so one round trip)."""
        try:
            async with self._autocommit.connect() as connection:
                return await UnitOfWork(connection).append(stream_id, events, expected_version)
        except WrongExpectedVersion as conflict:
            if conflict.actual is not None:
                raise
            # The unique index caught it inside the statement; say where the stream is now.
            async with self._autocommit.connect() as connection:
                actual = (await UnitOfWork(connection).stream_versions([stream_id]))[stream_id]
            raise WrongExpectedVersion(stream_id, expected_version, actual) from conflict

    async def append_once(self, appends: Sequence[StreamAppend],
                          fingerprints: Mapping[UUID, bytes], ledger: str) -> set[UUID]:
        """:meth:`UnitOfWork.append_once` as a transaction of its own: one statement, so
        one round trip (no BEGIN and COMMIT)."""
        async with self._autocommit.connect() as connection:
            return await UnitOfWork(connection).append_once(appends, fingerprints, ledger)

    async def read_stream(
        self, stream_id: str, after_version: int = 0, limit: int = 10_000
    ) -> list[RecordedEvent]:
        """Events of ``stream_id`` after ``after_version``, in version order."""
        async with self.engine.connect() as connection:
            return await UnitOfWork(connection).read_stream(stream_id, after_version, limit)

    async def read_all(
        self, after_position: int = 0, limit: int = 1_000, timeout: float = 10.0
    ) -> list[RecordedEvent]:
        """Committed events after ``after_position`` in position order, never skipping one.

        Positions are drawn from a sequence, so they can commit out of order: a
        transaction may still hold a lower position than one already visible.
        We note the highest visible position and the transactions in flight at
        that moment, wait until those have finished, and only then read up to
        that position: every transaction that could own a lower position was in
        that in-flight set (it draws its id before its position), so nothing
        below the mark can appear later. Raises :class:`ReadTimeout` if they
        do not finish within ``timeout`` seconds.
        """
        async with self.engine.connect() as connection:
            mark = (await connection.execute(_SNAPSHOT)).one()
            last_position, in_flight = mark[0], list(mark[1])
            await connection.commit()
            if last_position is None or last_position <= after_position:
                return []
            await _wait_finished(connection, in_flight, timeout)
            rows = await connection.execute(
                _READ_ALL, {"after": after_position, "until": last_position, "limit": limit}
            )
            return [_recorded(row) for row in rows]


async def _wait_finished(connection: AsyncConnection, xids: list[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.001
    while xids:
        running = (await connection.execute(_STILL_RUNNING, {"xids": xids})).scalar_one()
        await connection.commit()
        if not running:
            return
        if time.monotonic() > deadline:
            raise ReadTimeout(f"{running} transaction(s) still in flight after {timeout}s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


_EVENT_IDS = 3  # the event ids' column among _append_columns


def _append_columns(appends: Sequence[StreamAppend]) -> list[list[Any]]:
    """The parameters of the append statement: one array per column, one entry per event
    (one entry in all for a shared column whose events all have the same value).

    A stream may appear in several appends of one call: its events are numbered
    on from the first append's expected version, and a later exact expectation
    must agree with what the earlier appends of the call already wrote.
    """
    columns: list[list[Any]] = [[] for _ in range(14)]
    (streams, ordinals, expected, event_ids, event_types, schema_versions, payloads,
     customer_keys, topics, occurred, correlation, causation, traceparents,
     tracestates) = columns
    first_expected: dict[str, int] = {}
    written: dict[str, int] = {}
    for append in appends:
        stream = append.stream_id
        base = first_expected.setdefault(stream, int(append.expected_version))
        already = written.get(stream, 0)
        if already and append.expected_version != ANY and (
            base == ANY or append.expected_version != base + already
        ):
            raise WrongExpectedVersion(stream, append.expected_version, None)
        for ordinal, event in enumerate(append.events, start=already + 1):
            meta = event.metadata
            streams.append(stream)
            ordinals.append(ordinal)
            expected.append(base)
            event_ids.append(event.event_id)
            event_types.append(event.event_type)
            schema_versions.append(event.schema_version)
            payloads.append(event.payload)
            customer_keys.append(event.customer_key)
            topics.append(event.topic)
            occurred.append(event.occurred_at)
            correlation.append(meta.correlation_id)
            causation.append(meta.causation_id)
            traceparents.append(meta.traceparent)
            tracestates.append(meta.tracestate)
        written[stream] = already + len(append.events)
    for index, _ in _SHARED_COLUMNS.values():
        column = columns[index]
        if len(column) > 1 and column.count(column[0]) == len(column):
            columns[index] = column[:1]  # one value for every event (see _SHARED_COLUMNS)
    return columns


def _translate_integrity_error(
    exc: asyncpg.IntegrityConstraintViolationError, appends: Sequence[StreamAppend]
) -> Exception:
    constraint = exc.constraint_name or ""
    detail = exc.detail or ""
    if constraint == "events_event_id_unique":
        ids = [str(e.event_id) for a in appends for e in a.events if str(e.event_id) in detail]
        return DuplicateEvent(ids)
    if constraint == "events_stream_version_unique":
        hit = next((a for a in appends if a.stream_id in detail), appends[0])
        return WrongExpectedVersion(hit.stream_id, hit.expected_version, None)
    return exc


def _recorded(row: Sequence[Any]) -> RecordedEvent:
    """The event of a row of ``_COLUMNS``, in that order (unpacked by position: reading
    fifteen columns by name cost more than the rest of the relay's work on an event)."""
    (global_position, stream_id, stream_version, event_id, event_type, schema_version,
     payload, customer_key, topic, occurred_at, recorded_at, correlation_id, causation_id,
     traceparent, tracestate) = row
    return RecordedEvent(
        global_position=global_position,
        stream_id=stream_id,
        stream_version=stream_version,
        event_id=event_id,
        event_type=event_type,
        schema_version=schema_version,
        payload=bytes(payload),
        customer_key=customer_key,
        topic=topic,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        metadata=EventMetadata(correlation_id, causation_id, traceparent, tracestate),
    )
