"""The projection: profile events in, affected customer records recomputed, one transaction.

Facts are a set, so applying a chunk is: file its events under their index keys, then
for every customer the chunk may affect, load what its record depends on (until
``keys_to_load`` asks for nothing new) and store ``record_of`` it.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_contracts import encode_envelope
from crm_customer_view.adapters.view_store import ViewStore
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
    touchpoint_key,
)
from crm_eventstore import UnitOfWork
from crm_messaging import DeadLetter, InboundMessage

__all__ = ["CustomerViewProjection", "load_lineage"]


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
            rows.append((message.event_id, encode_envelope(message.envelope), keys))
        affected = customers_affected(new_facts) | await _previous_holders(store, new_facts)
        await store.save_events(rows)
        await self.recompute(store, affected)

    async def recompute(self, store: ViewStore, customers: set[str]) -> None:
        """Store the record of every customer in (the lineages of) ``customers``."""
        done: set[str] = set()
        for customer_id in sorted(customers):
            if customer_id in done:
                continue
            facts = await load_lineage(store, customer_id)
            for member in sorted(connected_customers(customer_id, facts)):
                await store.save_record(record_of(member, facts, self.config))
                done.add(member)


async def load_lineage(store: ViewStore, customer_id: str) -> list[Fact]:
    """Every fact the record of ``customer_id`` (and its merge lineage) depends on."""
    keys: frozenset[str] = frozenset({customer_key(customer_id)})
    loaded: frozenset[str] = frozenset()
    facts: list[Fact] = []
    while keys - loaded:
        facts += await store.facts_under(keys - loaded)
        loaded |= keys
        keys = keys_to_load(customer_id, facts) | loaded
    return facts


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
