"""Erasure: the facts of an erased person without their personal data.

Who is erased (``structure``): the erased id and every id folded into it when the erasure
was decided. What goes, whatever the fact's position (a late or replayed event cannot
bring it back):

- in every fact of those ids: identifiers (every type: each one singles the person out),
  trait values, their place in shared-identifier facts (a shared phone stays with the
  other people who share it);
- in every touchpoint they own at the end (whoever else it was once attributed to): its
  identifiers, its traits, and its free text: survey comments, page URLs, referrers and
  titles, order item names, generic properties (but a complaint resolution's category and
  complaint id). What stays is what is not about the
  person's identity: channel, type, time, amounts, scores, complaint category, consent;
- in the survivor's links and unlinks up to an unmerge that handed identifiers to an
  erased id, those identifiers: a link the survivor made while the person was merged into
  it, and the unmerge's record of taking it back (they cancel out: no record changes).
  The survivor's links arrive before its unmerge (one partition), so they are in the
  store when the unmerge's values are.

Everything else is matched by customer and touchpoint ids, which scrubbing keeps: a fact
arriving after the store was scrubbed is scrubbed alike. A touchpoint the profile service
re-attributed to someone else is theirs, identifiers included; so is a shared identifier.

Scrubbed facts keep their keys, and scrubbing is idempotent, so :func:`record_of` gives the
same record for the raw and the scrubbed set: :func:`without_pii` is what the service
stores back after an erasure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from crm_customer_view.domain.facts import (
    ErasureFact,
    Fact,
    IdentifierFact,
    SharedFact,
    TouchpointFact,
    TraitFact,
    UnlinkFact,
    UnmergeFact,
)
from crm_customer_view.domain.structure import Structure, erased_customers, replay
from crm_customer_view.domain.values import (
    GenericProperties,
    Identifier,
    OrderProperties,
    PageViewProperties,
    Properties,
    SurveyResponseProperties,
    Touchpoint,
)

__all__ = [
    "ErasedValues",
    "Erasure",
    "erased_customers",
    "erased_values",
    "scrubbed_events",
    "without_pii",
]


def without_pii(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """``facts`` with the personal data of every erased person removed.

    ``facts`` must hold the erasures and every merge, unmerge and attribution of the
    customers concerned (what :func:`keys_to_load` gathers), and the service must feed
    each customer's events in their partition order: an unmerge that restores an id from
    the erased lineage must not arrive after the erasure (true when the erased id is the
    live profile, which is what the profile service erases), or its data is erased too.
    """
    facts = tuple(facts)
    if not any(isinstance(fact, ErasureFact) for fact in facts):
        return facts  # the common case, without a replay
    erasure = Erasure.of(replay(facts), facts)
    return facts if erasure is None else tuple(erasure.scrub(fact) for fact in facts)


def scrubbed_events(facts: Iterable[Fact]) -> dict[str, tuple[Fact, ...]]:
    """The events whose facts :func:`without_pii` changes, by event id, each with every
    one of its facts (scrubbed, in part order): what the service writes back.

    ``facts`` must hold, for each event it holds a fact of, all that event's facts (the
    service loads whole events), and what :func:`without_pii` needs. Duplicates are fine.
    """
    kept = {fact.key: fact for fact in facts}
    if not any(isinstance(fact, ErasureFact) for fact in kept.values()):
        return {}
    scrubbed = without_pii(kept.values())
    changed = {fact.meta.event_id for fact in scrubbed if fact != kept[fact.key]}
    events: dict[str, list[Fact]] = {event_id: [] for event_id in changed}
    for fact in sorted(scrubbed, key=lambda f: f.part):
        if fact.meta.event_id in events:
            events[fact.meta.event_id].append(fact)
    return {event_id: tuple(event_facts) for event_id, event_facts in events.items()}


@dataclass(frozen=True)
class ErasedValues:
    """What scrubbing took out of the facts, as records show it: the identifiers, and the
    events whose trait values went (a record's trait names the event that carried it).
    Records published before the erasure may still show them."""

    identifiers: frozenset[Identifier] = frozenset()
    trait_events: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.identifiers or self.trait_events)


def erased_values(before: Iterable[Fact], after: Iterable[Fact]) -> ErasedValues:
    """What ``after`` (scrubbed facts, by key) no longer holds of ``before``."""
    scrubbed = {fact.key: fact for fact in after}
    identifiers: set[Identifier] = set()
    trait_events: set[str] = set()
    for fact in before:
        now = scrubbed.get(fact.key, fact)
        if now == fact:
            continue
        identifiers |= set(_identifiers_of(fact)) - set(_identifiers_of(now))
        trait_events |= _trait_events_of(fact) - _trait_events_of(now)
    return ErasedValues(frozenset(i for i in identifiers if i.value), frozenset(trait_events))


def _identifiers_of(fact: Fact) -> tuple[Identifier, ...]:
    match fact:
        case IdentifierFact() | UnlinkFact() | SharedFact():
            return (fact.identifier,)
        case TouchpointFact():
            return fact.touchpoint.identifiers
    return ()


def _trait_events_of(fact: Fact) -> set[str]:
    if isinstance(fact, TraitFact) and fact.value:
        return {fact.meta.event_id}
    if isinstance(fact, TouchpointFact) and fact.touchpoint.traits:
        return {fact.touchpoint.event_id}
    return set()


@dataclass(frozen=True)
class Erasure:
    """What an erasure covers: customers, the touchpoints they own, and per survivor the
    identifiers unmerges handed back to an erased id (with the unmerge's position)."""

    customers: frozenset[str]
    touchpoints: frozenset[str]
    handed: Mapping[str, tuple[tuple[int, frozenset[Identifier]], ...]]

    @staticmethod
    def of(structure: Structure, facts: Sequence[Fact]) -> Erasure | None:
        """The erasure the replay of ``facts`` found, None when nobody is erased."""
        if not structure.erased:
            return None
        owned = frozenset(tp for tp, fact in structure.attributions.items()
                          if fact.customer_id in structure.erased)
        return Erasure(structure.erased, owned, _handed(facts, structure.erased))

    def scrub(self, fact: Fact) -> Fact:
        """``fact`` without the erased person's data (idempotent)."""
        match fact:
            case TouchpointFact():
                return self._touchpoint(fact)
            case IdentifierFact() | UnlinkFact() if self._covers(
                    fact.customer_id, fact.identifier, fact.meta.position):
                return replace(fact, identifier=_blank(fact.identifier))
            case TraitFact() if fact.customer_id in self.customers:
                return replace(fact, value="")
            case SharedFact() if not self.customers.isdisjoint(fact.customer_ids):
                kept = tuple(c for c in fact.customer_ids if c not in self.customers)
                identifier = fact.identifier if kept else _blank(fact.identifier)
                return replace(fact, customer_ids=kept, identifier=identifier)
        return fact

    def _covers(self, customer_id: str, identifier: Identifier, position: int) -> bool:
        if customer_id in self.customers:
            return True
        return any(position <= at and identifier in identifiers
                   for at, identifiers in self.handed.get(customer_id, ()))

    def _touchpoint(self, fact: TouchpointFact) -> TouchpointFact:
        touchpoint = fact.touchpoint
        if fact.customer_id in self.customers or touchpoint.event_id in self.touchpoints:
            return replace(fact, touchpoint=_anonymous(touchpoint))
        return fact


_IMPERSONAL = frozenset({"category", "complaint_event_id"})
"""Generic properties that say nothing about the person (they close complaints)."""


def _handed(
    facts: Sequence[Fact], erased: frozenset[str]
) -> dict[str, tuple[tuple[int, frozenset[Identifier]], ...]]:
    unmerges = {f.meta.event_id: f for f in facts
                if isinstance(f, UnmergeFact) and f.restored_id in erased}
    taken: dict[str, set[Identifier]] = {}
    for fact in facts:
        if isinstance(fact, UnlinkFact) and fact.meta.event_id in unmerges:
            taken.setdefault(fact.meta.event_id, set()).add(fact.identifier)
    handed: dict[str, list[tuple[int, frozenset[Identifier]]]] = {}
    for event_id, identifiers in taken.items():
        unmerge = unmerges[event_id]
        handed.setdefault(unmerge.customer_id, []).append(
            (unmerge.meta.position, frozenset(identifiers)))
    return {survivor: tuple(sorted(items, key=lambda item: item[0]))
            for survivor, items in handed.items()}


def _blank(identifier: Identifier) -> Identifier:
    return Identifier(identifier.type, "")


def _anonymous(touchpoint: Touchpoint) -> Touchpoint:
    return replace(touchpoint, identifiers=(), traits=(),
                   properties=_without_text(touchpoint.properties))


def _without_text(properties: Properties) -> Properties:
    match properties:
        case SurveyResponseProperties():
            return replace(properties, comment="")
        case PageViewProperties():
            return PageViewProperties(url="")
        case OrderProperties():
            return replace(properties, items=tuple(replace(i, name="") for i in properties.items))
        case GenericProperties():
            fields = json.loads(properties.json)
            kept = {k: v for k, v in fields.items() if k in _IMPERSONAL} if isinstance(
                fields, dict) else {}
            return GenericProperties(json.dumps(kept, sort_keys=True, separators=(",", ":")))
    return properties
