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
- in links and unlinks of anyone, the identifiers the erased profile held when it was
  erased or that an unmerge handed to it: a survivor's link made while the person was
  merged into it, and the unmerge's record of taking it back. These only ever cancel each
  other, so this cleans the store without changing a record; everything else is matched
  by customer and touchpoint ids, which scrubbing keeps, so a fact arriving after the
  store was scrubbed is scrubbed alike. A touchpoint the profile service re-attributed to
  someone else is theirs, identifiers included.

Scrubbed facts keep their keys, and scrubbing is idempotent, so :func:`record_of` gives the
same record for the raw and the scrubbed set: :func:`without_pii` is what the service
stores back after an erasure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace

from crm_customer_view.domain.facts import (
    Fact,
    IdentifierFact,
    SharedFact,
    TouchpointFact,
    TraitFact,
    UnlinkFact,
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

__all__ = ["Erasure", "erased_customers", "without_pii"]


def without_pii(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    """``facts`` with the personal data of every erased person removed.

    ``facts`` must hold the erasures and every merge, unmerge and attribution of the
    customers concerned (what :func:`keys_to_load` gathers), and the service must feed
    each customer's events in their partition order: an unmerge that restores an id from
    the erased lineage must not arrive after the erasure (true when the erased id is the
    live profile, which is what the profile service erases), or its data is erased too.
    """
    facts = tuple(facts)
    erasure = Erasure.of(replay(facts))
    return facts if erasure is None else tuple(erasure.scrub(fact) for fact in facts)


@dataclass(frozen=True)
class Erasure:
    """What an erasure covers: customers, the touchpoints they own, their identifiers."""

    customers: frozenset[str]
    touchpoints: frozenset[str]
    identifiers: frozenset[Identifier]

    @staticmethod
    def of(structure: Structure) -> Erasure | None:
        """The erasure a replay found, None when nobody is erased."""
        if not structure.erased:
            return None
        owned = frozenset(tp for tp, fact in structure.attributions.items()
                          if fact.customer_id in structure.erased)
        return Erasure(structure.erased, owned, structure.erased_identifiers)

    def scrub(self, fact: Fact) -> Fact:
        """``fact`` without the erased person's data (idempotent)."""
        match fact:
            case TouchpointFact():
                return self._touchpoint(fact)
            case IdentifierFact() | UnlinkFact() if self._covers(fact.customer_id,
                                                                 fact.identifier):
                return replace(fact, identifier=_blank(fact.identifier))
            case TraitFact() if fact.customer_id in self.customers:
                return replace(fact, value="")
            case SharedFact() if not self.customers.isdisjoint(fact.customer_ids):
                kept = tuple(c for c in fact.customer_ids if c not in self.customers)
                identifier = fact.identifier if kept else _blank(fact.identifier)
                return replace(fact, customer_ids=kept, identifier=identifier)
        return fact

    def _covers(self, customer_id: str, identifier: Identifier) -> bool:
        return customer_id in self.customers or identifier in self.identifiers

    def _touchpoint(self, fact: TouchpointFact) -> TouchpointFact:
        touchpoint = fact.touchpoint
        if fact.customer_id in self.customers or touchpoint.event_id in self.touchpoints:
            return replace(fact, touchpoint=_anonymous(touchpoint))
        return fact


_IMPERSONAL = frozenset({"category", "complaint_event_id"})
"""Generic properties that say nothing about the person (they close complaints)."""


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
