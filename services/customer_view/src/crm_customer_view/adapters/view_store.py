"""The customer view's tables: consumed events (as facts) by index key, and the derived
records.

The statements the projection runs for every chunk, and the lookups of the read API, go
straight through asyncpg (``crm_eventstore.driver_connection``: same transaction, a
fraction of SQLAlchemy's cost per statement); the rare ones (erasure rewrites, drops,
listings) through SQLAlchemy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_contracts import decode_envelope
from crm_customer_view.adapters.fact_codec import decode_facts, encode_facts
from crm_customer_view.domain import (
    CustomerRecord,
    Fact,
    JsonObject,
    Redirect,
    canonical_json,
    facts_from_envelope,
    text_digest,
)
from crm_eventstore import driver_connection

__all__ = ["EventRows", "EventToFile", "Filed", "RecordRows", "StoredEvent", "StoredRecord",
           "ViewStore"]

# The events filed under the keys ${keys}: a semi-join, so an event filed under several of
# them comes once without comparing payloads.
_UNDER = """
SELECT e.event_id, e.facts, e.envelope, e.sealed_by FROM view_events e
WHERE e.event_id IN (SELECT k.event_id FROM view_event_keys k WHERE k.key = ANY(${keys}::text[]))
"""
_LOAD = _UNDER.format(keys=1)
# The events (repeats are no-ops: the ids stored now come back, flagged) and their index
# entries, in one round trip; the keys' part sees none of the events' rows and needs
# none. With them, the events filed under the keys $6 before: every part of a statement
# reads the tables as they were when it began, without the rows it inserts.
_FILE_EVENTS = """
WITH saved AS (
    INSERT INTO view_events (event_id, facts, sealed_by)
    SELECT i, f, s FROM unnest($1::text[], $2::text[], $3::text[]) AS e(i, f, s)
    ON CONFLICT DO NOTHING
    RETURNING event_id
), keys AS (
    INSERT INTO view_event_keys (key, event_id)
    SELECT * FROM unnest($4::text[], $5::text[])
    ON CONFLICT DO NOTHING
)
SELECT true, event_id, NULL::text, NULL::bytea, NULL::text FROM saved
UNION ALL
SELECT false, u.* FROM (""" + _UNDER.format(keys=6) + ") AS u"
# The events and their index entries, and the records of ids nothing is known of any more.
_DROP_EVENTS = text("""
WITH keys AS (DELETE FROM view_event_keys WHERE event_id = ANY(CAST(:ids AS text[])))
DELETE FROM view_events WHERE event_id = ANY(CAST(:ids AS text[]))
""")
_DROP_RECORDS = text("""
WITH identifiers AS (
    DELETE FROM customer_identifiers WHERE customer_id = ANY(CAST(:ids AS text[])))
DELETE FROM customer_records WHERE customer_id = ANY(CAST(:ids AS text[]))
""")
_REWRITE_EVENTS = text("""
UPDATE view_events v SET facts = e.f, envelope = NULL
FROM unnest(CAST(:ids AS text[]), CAST(:facts AS text[])) AS e(i, f)
WHERE v.event_id = e.i
""")
# Which events are filed under which keys (from the index alone), then the events the
# caller does not hold: leaving those out in SQL (`NOT event_id = ANY(known)`) compared
# every row with every known id, ~2 ms per statement for a chunk of ~100 new customers.
_KEYED = "SELECT key, event_id FROM view_event_keys WHERE key = ANY($1::text[])"
_EVENTS = """
SELECT event_id, facts, envelope, sealed_by FROM view_events
WHERE event_id = ANY($1::text[])
"""
# Records (each id once) and the identifiers they are found by, in one statement (one
# round trip). The identifiers a record no longer has are deleted, the others inserted
# if missing: the two parts of a statement see the same snapshot, so deleting everything
# and inserting again would keep nothing of what both touch.
_UPSERT_RECORDS = """
WITH saved AS (
    INSERT INTO customer_records
        (customer_id, survivor_id, record, masked, digest, version, last_event_at, updated_at)
    SELECT id, survivor, record, masked, digest, version, last_at, clock_timestamp()
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[],
                $7::timestamptz[])
         AS r(id, survivor, record, masked, digest, version, last_at)
    ON CONFLICT (customer_id) DO UPDATE SET
        survivor_id = EXCLUDED.survivor_id, record = EXCLUDED.record, masked = EXCLUDED.masked,
        digest = EXCLUDED.digest, version = EXCLUDED.version,
        last_event_at = EXCLUDED.last_event_at, updated_at = EXCLUDED.updated_at
    WHERE customer_records.digest IS DISTINCT FROM EXCLUDED.digest
       OR customer_records.survivor_id IS DISTINCT FROM EXCLUDED.survivor_id
),
live AS (
    SELECT * FROM unnest($8::text[], $9::text[], $10::text[]) AS i(type, value, customer_id)
),
dropped AS (
    DELETE FROM customer_identifiers c WHERE c.customer_id = ANY($1::text[])
    AND NOT EXISTS (SELECT 1 FROM live WHERE live.customer_id = c.customer_id
                    AND live.type = c.type AND live.value = c.value)
)
INSERT INTO customer_identifiers (type, value, customer_id)
SELECT type, value, customer_id FROM live
ON CONFLICT DO NOTHING
"""
_RECORD_COLUMNS = ("customer_id", "survivor_id", "record", "masked", "digest", "version",
                   "last_event_at", "updated_at")
# What is stored of each id, locked until the transaction ends: a concurrent
# recomputation of the same lineage waits, then compares with what this one stored.
_STORED_FORMS = """
SELECT customer_id, coalesce(record, json_build_object('customer_id', customer_id,
                                                      'merged_into', survivor_id)::text)
FROM customer_records WHERE customer_id = ANY($1::text[])
ORDER BY customer_id FOR UPDATE
"""
_RECORD = text("""SELECT customer_id, survivor_id, record, masked, updated_at
                  FROM customer_records WHERE customer_id = :id""")
# The answer of the read API as JSON text, in one statement: follow a merged-away id to
# its survivor, choose the full or the masked record, add when it changed.
_DOCUMENT = """
SELECT (CAST(CASE WHEN $1::boolean THEN s.record ELSE s.masked END AS jsonb)
        || jsonb_build_object('updated_at', s.updated_at)
        || CASE WHEN r.survivor_id IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('requested_id', r.customer_id,
                                        'merged_into', r.survivor_id) END)::text
FROM customer_records r
JOIN customer_records s ON s.customer_id = coalesce(r.survivor_id, r.customer_id)
WHERE s.record IS NOT NULL AND r.customer_id = """
_DOCUMENT_BY_ID = _DOCUMENT + "$2"
_DOCUMENT_BY_IDENTIFIER = _DOCUMENT + """(
    SELECT customer_id FROM customer_identifiers WHERE type = $2 AND value = $3
    ORDER BY customer_id LIMIT 1)"""
_UPDATED = text("""
SELECT customer_id, survivor_id, record, masked, updated_at FROM customer_records
WHERE survivor_id IS NULL AND (updated_at, customer_id) > (:since, :after)
ORDER BY updated_at, customer_id LIMIT :limit
""")


@dataclass(frozen=True)
class StoredRecord:
    customer_id: str
    survivor_id: str | None
    record: dict[str, Any] | None
    masked: dict[str, Any] | None
    updated_at: datetime

    @classmethod
    def from_row(cls, customer_id: str, survivor_id: str | None, record: str | None,
                 masked: str | None, updated_at: datetime) -> StoredRecord:
        """From the columns, whose record and masked record are JSON text."""
        return cls(customer_id, survivor_id, _parsed(record), _parsed(masked), updated_at)


@dataclass(frozen=True)
class StoredEvent:
    """A consumed event as stored: its facts, and the vault key that sealed it on the
    topic ("": it came in the clear). ``legacy``: the row still holds the envelope it was
    written with before migration 0002 (the projection rewrites it as facts)."""

    event_id: str
    facts: tuple[Fact, ...]
    legacy: bool = False
    sealed_by: str = ""


@dataclass(frozen=True)
class EventToFile:
    """A consumed event to store: its facts, the index keys it is filed under, and the
    vault key that sealed it ("": none)."""

    event_id: str
    facts: Sequence[Fact]
    keys: Iterable[str]
    sealed_by: str = ""


@dataclass(frozen=True)
class Filed:
    """What filing events found: the ids stored now (not before), and the events that
    were filed before under the keys asked about."""

    saved: set[str]
    earlier: list[StoredEvent]


@dataclass(frozen=True)
class EventRows:
    """Events as a rebuild COPYs them: rows of ``view_events`` and of ``view_event_keys``.
    Plain text, as :class:`RecordRows`."""

    events: list[tuple[str, str, str | None]]
    keys: list[tuple[str, str]]

    @staticmethod
    def of(events: Sequence[EventToFile]) -> EventRows:
        return EventRows([(e.event_id, encode_facts(e.facts), e.sealed_by or None)
                          for e in events],
                         [(key, e.event_id) for e in events for key in e.keys])


@dataclass(frozen=True)
class RecordRows:
    """Records as a rebuild COPYs them: rows of ``customer_records`` and of
    ``customer_identifiers``. Plain values (text, numbers, times): cheap to hand from the
    process that folded the records to the one that files them."""

    records: list[tuple[Any, ...]]
    identifiers: list[tuple[str, str, str]]

    @staticmethod
    def of(results: Sequence[CustomerRecord | Redirect], now: datetime) -> RecordRows:
        """The rows of ``results``, stored (``updated_at``) at ``now``."""
        # Each (type, value, customer) once: the table's primary key.
        return RecordRows([(*_row(result), now) for result in results],
                          list(dict.fromkeys(_found_by(results))))


class ViewStore:
    """The projection's tables on the caller's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def save_events(self, events: Sequence[EventToFile],
                          earlier_under: Collection[str] = ()) -> Filed:
        """Keep each event under its index keys; repeats are no-ops. The ids of the events
        stored now (not before), and the events filed under ``earlier_under`` before
        (in the same round trip)."""
        if not events:
            return Filed(set(), await self.events_under(earlier_under) if earlier_under
                         else [])
        rows = EventRows.of(events)
        found = await (await self._driver()).fetch(
            _FILE_EVENTS, *_columns(rows.events, 3), *_columns(rows.keys, 2),
            sorted(earlier_under))
        return Filed({row[1] for row in found if row[0]},
                     [_stored_event(*row[1:]) for row in found if not row[0]])

    async def rewrite_events(self, events: Mapping[str, Sequence[Fact]]) -> None:
        """Replace the stored facts of these events (an erasure scrubbed them); their
        index keys stay, since scrubbing keeps every customer and touchpoint id."""
        if events:
            await self.connection.execute(_REWRITE_EVENTS, {
                "ids": list(events), "facts": [encode_facts(f) for f in events.values()]})

    async def drop_events(self, event_ids: Collection[str]) -> None:
        """Forget these events (their sealing keys were destroyed: see the migration 0003)."""
        if event_ids:
            await self.connection.execute(_DROP_EVENTS, {"ids": sorted(event_ids)})

    async def drop_records(self, customer_ids: Collection[str]) -> None:
        """Forget the records of these ids, and the identifiers they were found by."""
        if customer_ids:
            await self.connection.execute(_DROP_RECORDS, {"ids": sorted(customer_ids)})

    async def events_under(self, keys: Iterable[str]) -> list[StoredEvent]:
        """Every event filed under ``keys``, once each."""
        rows = await (await self._driver()).fetch(_LOAD, sorted(keys))
        return [_stored_event(*row) for row in rows]

    async def events_by_key(self, keys: Iterable[str], *, known: Collection[str] = ()
                            ) -> dict[str, list[StoredEvent]]:
        """The events filed under each of ``keys`` (each event decoded once), but for the
        ``known`` ones (the caller holds them already)."""
        driver = await self._driver()
        filed = [(key, event_id) for key, event_id in await driver.fetch(_KEYED, sorted(keys))
                 if event_id not in known]
        if not filed:
            return {}
        rows = await driver.fetch(_EVENTS, sorted({event_id for _, event_id in filed}))
        decoded = {row[0]: _stored_event(*row) for row in rows}
        found: dict[str, list[StoredEvent]] = defaultdict(list)
        for key, event_id in filed:
            if (event := decoded.get(event_id)) is not None:
                found[key].append(event)
        return found

    async def stored_forms(self, customer_ids: Iterable[str]) -> dict[str, JsonObject]:
        """What is stored of each id (``stored_form``: the unmasked record, or the
        redirect), locking those rows until the transaction ends."""
        rows = await (await self._driver()).fetch(_STORED_FORMS, sorted(customer_ids))
        return {customer_id: orjson.loads(form) for customer_id, form in rows}

    async def save_records(self, results: Sequence[CustomerRecord | Redirect]) -> None:
        """Store each record (full and masked, with its digest) and the identifiers it is
        found by, or where a merged-away id now lives (found by none); each customer id
        at most once."""
        rows = [_row(result) for result in results]
        if not rows:
            return
        live = _found_by(results)
        await (await self._driver()).execute(
            _UPSERT_RECORDS, *(list(column) for column in zip(*rows, strict=True)),
            [t for t, _, _ in live], [v for _, v, _ in live], [c for _, _, c in live])

    async def copy_events(self, rows: EventRows) -> None:
        """:meth:`save_events` into empty tables (a rebuild): COPY, no conflicts to look for."""
        await self._copy("view_events", ("event_id", "facts", "sealed_by"), rows.events)
        await self._copy("view_event_keys", ("key", "event_id"), rows.keys)

    async def copy_records(self, rows: RecordRows) -> None:
        """Records and their identifiers into empty tables (a rebuild), by COPY."""
        await self._copy("customer_records", _RECORD_COLUMNS, rows.records)
        await self._copy("customer_identifiers", ("type", "value", "customer_id"),
                         rows.identifiers)

    async def _driver(self) -> asyncpg.Connection:
        return await driver_connection(self.connection)

    async def _copy(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await (await self._driver()).copy_records_to_table(
                table, records=rows, columns=list(columns))

    async def record(self, customer_id: str) -> StoredRecord | None:
        row = (await self.connection.execute(_RECORD, {"id": customer_id})).first()
        return None if row is None else StoredRecord.from_row(*row)

    async def document(self, customer_id: str, *, pii: bool) -> str | None:
        """The record of ``customer_id`` as the API answers it (JSON text), if any."""
        document: str | None = await (await self._driver()).fetchval(
            _DOCUMENT_BY_ID, pii, customer_id)
        return document

    async def document_by_identifier(
        self, identifier_type: str, value: str, *, pii: bool
    ) -> str | None:
        """The record holding a (normalised) identifier, as :meth:`document`."""
        document: str | None = await (await self._driver()).fetchval(
            _DOCUMENT_BY_IDENTIFIER, pii, identifier_type, value)
        return document

    async def updated_since(self, since: datetime, after: str, limit: int) -> list[StoredRecord]:
        rows = await self.connection.execute(
            _UPDATED, {"since": since, "after": after, "limit": limit}
        )
        return [StoredRecord.from_row(*row) for row in rows]


def _stored_event(event_id: str, facts: str | None, envelope: bytes | None,
                  sealed_by: str | None) -> StoredEvent:
    if facts is not None:
        return StoredEvent(event_id, decode_facts(facts), sealed_by=sealed_by or "")
    assert envelope is not None  # the table's check constraint: one of them is set
    return StoredEvent(event_id, facts_from_envelope(decode_envelope(envelope)), legacy=True,
                       sealed_by=sealed_by or "")


def _parsed(document: str | None) -> dict[str, Any] | None:
    return None if document is None else dict(orjson.loads(document))


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """``rows`` (of ``width`` values each) as column arrays, for ``unnest``."""
    return [[row[i] for row in rows] for i in range(width)]


def _found_by(results: Sequence[CustomerRecord | Redirect]) -> list[tuple[str, str, str]]:
    """(type, value, customer id) of every identifier a record is found by (not shared)."""
    return [(i.type, i.value, r.customer_id) for r in results
            if isinstance(r, CustomerRecord) for i in r.identifiers if not i.shared]


def _row(result: CustomerRecord | Redirect) -> tuple[Any, ...]:
    if isinstance(result, Redirect):
        return (result.customer_id, result.survivor_id, None, None, None, 0, None)
    shown = result.to_json(mask_pii=False)
    unmasked = canonical_json(shown)  # written once: stored, and digested
    return (result.customer_id, None, unmasked,
            orjson.dumps(result.with_pii_masked(shown)).decode(), text_digest(unmasked),
            result.freshness.version, result.freshness.last_event_at)
