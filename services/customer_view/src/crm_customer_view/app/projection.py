"""The projection: profile events in, affected customer records recomputed, one transaction.

Facts are a set, so applying a chunk is: file its events' facts under their index keys,
then for every customer the chunk may affect, load what its record depends on (until
``keys_to_load`` asks for nothing new), write back the events an erasure in that lineage
scrubs (``scrubbed_events``), and store ``record_of`` it. A fact of an erased person that
arrives late is stored, then scrubbed, in the same transaction: never committed raw.

A record that really changed is stored and its change appended to the view's event store
(``changelog``), in that same transaction: the outbox relay publishes it on
crm.customer-view.v1 after the commit. A record that did not change is not written.

The writes go through a statement queue (``crm_eventstore.StatementQueue``): Postgres
stores one part's records while the next part is folded, and the last ones while the
changelog is built.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from crm_customer_view.adapters.view_store import EventToFile, StoredEvent, ViewStore
from crm_customer_view.app.changelog import changelog_appends, redact_history
from crm_customer_view.domain import (
    ErasureFact,
    Fact,
    InvalidEvent,
    JsonObject,
    ProjectionConfig,
    RecordChange,
    TouchpointFact,
    UnattributionFact,
    connected_customers,
    customer_key,
    customers_affected,
    erased_values,
    facts_from_envelope,
    index_keys,
    keys_to_load,
    record_change,
    record_of,
    scrubbed_events,
    touchpoint_key,
)
from crm_eventstore import EventMetadata, StatementQueue, UnitOfWork
from crm_messaging import DeadLetter, InboundMessage, KeyVault

__all__ = ["CustomerViewProjection", "lineage_facts", "load_lineage", "load_lineages"]

# Lineages (a customer and those merged into it) whose records one statement stores
# while the next ones are folded.
_LINEAGES_PER_SAVE = 64


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CustomerViewProjection:
    """The consumer (batch) handler of crm.profiles.v1."""

    config: ProjectionConfig
    clock: Callable[[], datetime] = field(default=_utc_now)
    # Tells which sealing keys an erasure destroyed (None: keep every event).
    vault: KeyVault | None = None

    async def __call__(self, messages: list[InboundMessage], uow: UnitOfWork) -> None:
        store = ViewStore(uow.connection)
        new_facts: list[Fact] = []
        rows = []
        causes: dict[str, InboundMessage] = {}
        for message in messages:
            facts = _facts(message)
            new_facts += facts
            keys = set().union(*(index_keys(f) for f in facts)) if facts else set()
            rows.append(EventToFile(message.event_id, facts, keys, message.sealed_by))
            causes |= dict.fromkeys(customers_affected(facts), message)
        filing = await store.save_events(rows, _touchpoint_keys(new_facts))
        affected = customers_affected(new_facts) | _holders(filing.earlier)
        # What this chunk stored is what the lineages would read back: they take it from
        # here. (Not a repeat: the stored copy may be scrubbed by an erasure since.)
        filed = _FiledHere([row for row in rows if row.event_id in filing.saved])
        async with StatementQueue() as writes:
            changes = await self.recompute(uow, affected, filed, writes)
            await writes.put(partial(uow.append_streams, changelog_appends(
                changes, self.clock(), lambda c: _metadata(causes.get(c, messages[-1])))))

    async def recompute(self, uow: UnitOfWork, customers: set[str],
                        filed: _FiledHere | None = None,
                        writes: StatementQueue | None = None) -> list[RecordChange]:
        """Store the record of every customer in (the lineages of) ``customers`` that
        changed; the changes.

        Every lineage is loaded together (one query per round of keys, not per customer)
        and the records stored a part at a time. An erasure to apply, rows in their
        pre-0002 form, or lineages that share customers take the one-by-one way, where
        each lineage sees what the previous one wrote.

        ``writes``: a statement queue that nothing was put into yet. Everything is read
        before the records are put into it; they are stored by the time its block is left.
        Without one, they are stored on return.
        """
        store = ViewStore(uow.connection)
        ordered = sorted(customers)
        lineages = await load_lineages(store, ordered, filed)
        plans: list[tuple[list[str], list[Fact]]] = []
        done: set[str] = set()
        for customer_id in ordered:
            if customer_id in done:
                continue
            events = lineages[customer_id]
            facts = [fact for event in events for fact in event.facts]
            members = sorted(connected_customers(customer_id, facts))
            if (done & set(members) or any(e.legacy for e in events)
                    or _may_shred(events, facts) or scrubbed_events(facts)):
                return await self._recompute_one_by_one(uow, customers)
            plans.append((members, facts))
            done.update(members)
        stored = await store.stored_forms(done)
        if writes is None:
            async with StatementQueue() as own:
                return await self._store_changes(store, own, plans, stored)
        return await self._store_changes(store, writes, plans, stored)

    async def _store_changes(
        self, store: ViewStore, writes: StatementQueue,
        plans: list[tuple[list[str], list[Fact]]], stored: dict[str, JsonObject],
    ) -> list[RecordChange]:
        """Fold the records of ``plans``; put the ones that changed into ``writes``."""
        changes: list[RecordChange] = []
        for start in range(0, len(plans), _LINEAGES_PER_SAVE):
            part = [change for members, facts in plans[start:start + _LINEAGES_PER_SAVE]
                    for member in members
                    if (change := record_change(stored.get(member), record_of(
                        member, facts, self.config))) is not None]
            if part:
                await writes.put(partial(store.save_records, [c.after for c in part]))
            changes += part
        return changes

    async def _recompute_one_by_one(
        self, uow: UnitOfWork, customers: set[str]
    ) -> list[RecordChange]:
        store = ViewStore(uow.connection)
        done: set[str] = set()
        changes: list[RecordChange] = []
        for customer_id in sorted(customers):
            if customer_id in done:
                continue
            events = await load_lineage(store, customer_id)
            facts = [fact for event in events for fact in event.facts]
            members = sorted(connected_customers(customer_id, facts))
            kept = await _erase(uow, store, self.vault, events, facts, members)
            recorded = members
            if len(kept) < len(facts):
                # Ids the lineage's remaining events no longer mention have no record in
                # a rebuild either.
                known = set().union(*(index_keys(f) for f in kept))
                recorded = [m for m in members if customer_key(m) in known]
                await store.drop_records(set(members) - set(recorded))
            changes += await self._store_records(store, recorded, kept)
            done.update(members)
        return changes

    async def _store_records(
        self, store: ViewStore, members: list[str], facts: list[Fact]
    ) -> list[RecordChange]:
        stored = await store.stored_forms(members)
        changes = []
        for member in members:
            change = record_change(stored.get(member), record_of(member, facts, self.config))
            if change is not None:
                await store.save_records([change.after])
                changes.append(change)
        return changes


async def load_lineage(store: ViewStore, customer_id: str) -> list[StoredEvent]:
    """Every event the record of ``customer_id`` (and its merge lineage) depends on."""
    keys: frozenset[str] = frozenset({customer_key(customer_id)})
    loaded: frozenset[str] = frozenset()
    events: list[StoredEvent] = []
    facts: list[Fact] = []
    while keys - loaded:
        more = await store.events_under(keys - loaded)
        events += more
        facts += [fact for event in more for fact in event.facts]
        loaded |= keys
        keys = keys_to_load(customer_id, facts) | loaded
    return events


class _FiledHere:
    """The events a chunk has just stored, by index key, as the store would return them."""

    def __init__(self, rows: list[EventToFile]) -> None:
        self.ids = {row.event_id for row in rows}
        self._by_key: dict[str, list[StoredEvent]] = defaultdict(list)
        for row in rows:
            event = StoredEvent(row.event_id, tuple(row.facts), sealed_by=row.sealed_by)
            for key in row.keys:
                self._by_key[key].append(event)

    def add_to(self, found: dict[str, list[StoredEvent]], keys: Iterable[str]) -> None:
        for key in keys:
            if key in self._by_key:
                found.setdefault(key, []).extend(self._by_key[key])


async def load_lineages(
    store: ViewStore, customer_ids: list[str], filed: _FiledHere | None = None
) -> dict[str, list[StoredEvent]]:
    """:func:`load_lineage` of each of ``customer_ids``, the queries shared: each round
    loads the keys any lineage still needs, and each lineage takes what its keys hold.
    ``filed``: events the caller has just stored, taken from memory rather than read."""
    filed = filed or _FiledHere([])
    keys = {c: frozenset({customer_key(c)}) for c in customer_ids}
    loaded: dict[str, frozenset[str]] = dict.fromkeys(customer_ids, frozenset())
    events: dict[str, list[StoredEvent]] = {c: [] for c in customer_ids}
    facts: dict[str, list[Fact]] = {c: [] for c in customer_ids}
    while wanted := {c: keys[c] - loaded[c] for c in customer_ids if keys[c] - loaded[c]}:
        needed = set().union(*wanted.values())
        found = await store.events_by_key(needed, known=filed.ids)
        filed.add_to(found, needed)
        for customer_id, missing in wanted.items():
            more = list({e.event_id: e for key in sorted(missing)
                         for e in found.get(key, ())}.values())
            events[customer_id] += more
            facts[customer_id] += [fact for event in more for fact in event.facts]
            loaded[customer_id] |= keys[customer_id]
            keys[customer_id] = keys_to_load(customer_id, facts[customer_id]) | loaded[customer_id]
    return events


async def lineage_facts(store: ViewStore, customer_id: str) -> list[Fact]:
    """Every fact the record of ``customer_id`` depends on (see :func:`load_lineage`)."""
    return [fact for event in await load_lineage(store, customer_id) for fact in event.facts]


async def _erase(uow: UnitOfWork, store: ViewStore, vault: KeyVault | None,
                 events: list[StoredEvent], facts: list[Fact], members: list[str]
                 ) -> list[Fact]:
    """Drop the events sealed by keys an erasure in the lineage destroyed, store back
    the events it scrubs (and rows still in their pre-0002 form), and redact the
    lineage's published changes of what it took out; the facts the lineage keeps.

    A rebuild cannot open what a destroyed key sealed, so the view keeps none of it
    either (not even amounts or scores): a live view then equals a rebuilt one."""
    shredded = await _shredded(vault, events, facts)
    kept = [f for f in facts if f.meta.event_id not in shredded] if shredded else facts
    every = scrubbed_events(facts)
    scrubbed = scrubbed_events(kept) if shredded else every
    legacy = {e.event_id: e.facts for e in events if e.legacy and e.event_id not in shredded}
    await store.drop_events(shredded)
    await store.rewrite_events(legacy | scrubbed)
    if every:
        taken = erased_values(facts, (f for event in every.values() for f in event))
        await redact_history(uow, members, taken)
    return kept


def _may_shred(events: list[StoredEvent], facts: list[Fact]) -> bool:
    """Whether the lineage holds an erasure and sealed events (whose key it may have
    destroyed)."""
    return any(e.sealed_by for e in events) and any(isinstance(f, ErasureFact) for f in facts)


async def _shredded(vault: KeyVault | None, events: list[StoredEvent],
                    facts: list[Fact]) -> set[str]:
    """The events of the lineage sealed by a key that was destroyed."""
    if vault is None or not _may_shred(events, facts):
        return set()
    destroyed = await vault.destroyed({e.sealed_by for e in events if e.sealed_by})
    return {e.event_id for e in events if e.sealed_by in destroyed}


def _touchpoint_keys(facts: list[Fact]) -> set[str]:
    """The index keys of the touchpoints ``facts`` attribute or take away: filed under
    them before are the customers the touchpoints may be moving from."""
    touchpoints = {touchpoint_key(f.touchpoint.event_id) for f in facts
                   if isinstance(f, TouchpointFact)}
    return touchpoints | {touchpoint_key(f.touchpoint_event_id) for f in facts
                          if isinstance(f, UnattributionFact)}


def _holders(earlier: list[StoredEvent]) -> set[str]:
    """Customers the events filed before attributed their touchpoints to."""
    return {c for event in earlier for f in event.facts for c in f.customers}


def _metadata(cause: InboundMessage) -> EventMetadata:
    """A change is caused by the (last) message of the chunk that named the customer."""
    trace = cause.trace
    return EventMetadata(correlation_id=trace.correlation_id, causation_id=cause.event_id,
                         traceparent=trace.traceparent, tracestate=trace.tracestate)


def _facts(message: InboundMessage) -> tuple[Fact, ...]:
    try:
        return facts_from_envelope(message.envelope)
    except InvalidEvent as exc:
        raise DeadLetter(f"cannot project {message.envelope.event_type}: {exc}") from exc
