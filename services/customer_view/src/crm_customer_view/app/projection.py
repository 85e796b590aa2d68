"""The projection: profile events in, affected customer records recomputed, one transaction.

Facts are a set, so applying a chunk is: file its events' facts under their index keys,
then for every customer the chunk may affect, load what its record depends on (until
``keys_to_load`` asks for nothing new), write back the events an erasure in that lineage
scrubs (``scrubbed_events``), and store ``record_of`` it. A fact of an erased person that
arrives late is stored, then scrubbed, in the same transaction: never committed raw.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_customer_view.adapters.view_store import StoredEvent, ViewStore
from crm_customer_view.domain import (
    Fact,
    InvalidEvent,
    ProjectionConfig,
    TouchpointFact,
    UnattributionFact,
    connected_customers,
    customer_key,
    customers_affected,
    facts_from_envelope,
    index_keys,
    keys_to_load,
    record_of,
    scrubbed_events,
    touchpoint_key,
)
from crm_eventstore import UnitOfWork
from crm_messaging import DeadLetter, InboundMessage

__all__ = ["CustomerViewProjection", "lineage_facts", "load_lineage"]


@dataclass(frozen=True)
class CustomerViewProjection:
    """The consumer (batch) handler of crm.profiles.v1."""

    config: ProjectionConfig

    async def __call__(self, messages: list[InboundMessage], uow: UnitOfWork) -> None:
        store = ViewStore(uow.connection)
        new_facts: list[Fact] = []
        rows = []
        for message in messages:
            facts = _facts(message)
            new_facts += facts
            keys = set().union(*(index_keys(f) for f in facts)) if facts else set()
            rows.append((message.event_id, facts, keys))
        affected = customers_affected(new_facts) | await _previous_holders(store, new_facts)
        await store.save_events(rows)
        await self.recompute(store, affected)

    async def recompute(self, store: ViewStore, customers: set[str]) -> None:
        """Store the record of every customer in (the lineages of) ``customers``."""
        done: set[str] = set()
        for customer_id in sorted(customers):
            if customer_id in done:
                continue
            events = await load_lineage(store, customer_id)
            facts = [fact for event in events for fact in event.facts]
            await store.rewrite_events(_to_rewrite(events, facts))
            for member in sorted(connected_customers(customer_id, facts)):
                await store.save_record(record_of(member, facts, self.config))
                done.add(member)


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


async def lineage_facts(store: ViewStore, customer_id: str) -> list[Fact]:
    """Every fact the record of ``customer_id`` depends on (see :func:`load_lineage`)."""
    return [fact for event in await load_lineage(store, customer_id) for fact in event.facts]


def _to_rewrite(events: list[StoredEvent], facts: list[Fact]) -> dict[str, tuple[Fact, ...]]:
    """What to store back: events an erasure scrubs, and rows still in the old form."""
    legacy = {event.event_id: event.facts for event in events if event.legacy}
    return legacy | scrubbed_events(facts)


async def _previous_holders(store: ViewStore, facts: list[Fact]) -> set[str]:
    """Customers a touchpoint in ``facts`` was attributed to before (it may move)."""
    touchpoints = {touchpoint_key(f.touchpoint.event_id) for f in facts
                   if isinstance(f, TouchpointFact)}
    touchpoints |= {touchpoint_key(f.touchpoint_event_id) for f in facts
                    if isinstance(f, UnattributionFact)}
    if not touchpoints:
        return set()
    return {c for f in await store.facts_under(touchpoints) for c in f.customers}


def _facts(message: InboundMessage) -> tuple[Fact, ...]:
    try:
        return facts_from_envelope(message.envelope)
    except InvalidEvent as exc:
        raise DeadLetter(f"cannot project {message.envelope.event_type}: {exc}") from exc
