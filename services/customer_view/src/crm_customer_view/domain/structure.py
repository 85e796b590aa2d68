"""Who is merged into whom, which identifiers and touchpoints each profile holds.

Merges, unmerges, links and (un)attributions do not commute (an unmerge undoes the merge
before it), so they are replayed in the order the profile service decided them: by the
producer's event-store position carried by each fact (:attr:`Fact.order`). That order is
part of the set of facts, not of their arrival, so the result is a function of the set.
The replay mirrors the profile service's own state transitions:

- a merge moves the merged-away profile's identifiers to the survivor's root; merging two
  ids that already share a root (a repeat, or a cycle) changes nothing;
- an unmerge detaches the restored id (with what is merged into it) and empties its
  identifiers: the same event's :class:`UnlinkFact` parts take the identifiers it names
  from the other side and its :class:`IdentifierFact` parts give exactly those back, with
  the span in which they were seen (an unmerge is not a sighting);
- a link or unlink applies to the root of the id it names at that moment;
- a touchpoint belongs to the customer of its latest attribution; an unattribution by the
  owner's lineage (same root at that moment) leaves it with no one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from crm_customer_view.domain.facts import (
    ErasureFact,
    Fact,
    IdentifierFact,
    MergeFact,
    TouchpointFact,
    UnattributionFact,
    UnlinkFact,
    UnmergeFact,
)
from crm_customer_view.domain.values import Identifier

__all__ = ["Structure", "erased_customers", "replay"]

_Seen = tuple[datetime, datetime]  # (first, last) time an identifier was linked


def _span(seen: _Seen | None, first: datetime, last: datetime) -> _Seen:
    return (first, last) if seen is None else (min(seen[0], first), max(seen[1], last))


@dataclass(frozen=True)
class Structure:
    """The identity structure at the end of the replay. ``erased``: every erased id and
    the ids folded into it when it was erased."""

    parent: Mapping[str, str]  # merged-away id -> the id it was merged into
    merged_at: Mapping[str, datetime]  # merged-away id -> when that merge happened
    identifiers: Mapping[str, Mapping[Identifier, _Seen]]  # profile (root) -> links
    attributions: Mapping[str, TouchpointFact]  # touchpoint id -> its owner's latest fact
    erased: frozenset[str] = frozenset()

    def root(self, customer_id: str) -> str:
        """The live profile ``customer_id`` is folded into (itself when it is live)."""
        while customer_id in self.parent:
            customer_id = self.parent[customer_id]
        return customer_id

    def members(self, root: str) -> frozenset[str]:
        """``root`` and every id folded into it, transitively."""
        return frozenset({root, *(c for c in self.parent if self.root(c) == root)})


class _Forest:
    """The mutable state of one replay (lives for one call)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.merged_at: dict[str, datetime] = {}
        self.identifiers: dict[str, dict[Identifier, _Seen]] = {}
        self.attributions: dict[str, TouchpointFact] = {}
        # Spans of identifiers an unmerge takes from one side, for its other side.
        self.moving: dict[tuple[str, Identifier], _Seen] = {}
        self.erased: set[str] = set()

    def root(self, customer_id: str) -> str:
        while customer_id in self.parent:
            customer_id = self.parent[customer_id]
        return customer_id

    def lineage(self, customer_id: str) -> set[str]:
        """``customer_id`` and every id folded into it now."""
        below = {c for c in self.parent if customer_id in self._ancestors(c)}
        return {customer_id, *below}

    def _ancestors(self, customer_id: str) -> set[str]:
        ancestors = set()
        while customer_id in self.parent:
            customer_id = self.parent[customer_id]
            ancestors.add(customer_id)
        return ancestors

    def merge(self, fact: MergeFact) -> None:
        survivor, away = fact.survivor_id, fact.merged_away_id
        if self.root(survivor) == self.root(away):
            return
        self.parent[away] = survivor
        self.merged_at[away] = fact.meta.occurred_at
        moved = self.identifiers.pop(away, {})
        held = self.identifiers.setdefault(self.root(survivor), {})
        for identifier, seen in moved.items():
            held[identifier] = _span(held.get(identifier), *seen)

    def unmerge(self, fact: UnmergeFact) -> None:
        self.parent.pop(fact.restored_id, None)
        self.merged_at.pop(fact.restored_id, None)
        self.identifiers[fact.restored_id] = {}

    def link(self, fact: IdentifierFact) -> None:
        if fact.identifier.value:
            held = self.identifiers.setdefault(self.root(fact.customer_id), {})
            at = fact.meta.occurred_at
            first, last = self.moving.pop((fact.meta.event_id, fact.identifier), (at, at))
            held[fact.identifier] = _span(held.get(fact.identifier), first, last)

    def unlink(self, fact: UnlinkFact) -> None:
        seen = self.identifiers.get(self.root(fact.customer_id), {}).pop(fact.identifier, None)
        if seen is not None:
            self.moving[(fact.meta.event_id, fact.identifier)] = seen

    def erase(self, fact: ErasureFact) -> None:
        self.erased |= self.lineage(fact.customer_id)

    def attribute(self, fact: TouchpointFact) -> None:
        self.attributions[fact.touchpoint.event_id] = fact

    def unattribute(self, fact: UnattributionFact) -> None:
        current = self.attributions.get(fact.touchpoint_event_id)
        if current is not None and self.root(current.customer_id) == self.root(fact.customer_id):
            del self.attributions[fact.touchpoint_event_id]


_STRUCTURAL = (MergeFact, UnmergeFact, IdentifierFact, UnlinkFact, TouchpointFact,
               UnattributionFact, ErasureFact)


def erased_customers(facts: Iterable[Fact]) -> frozenset[str]:
    """The ids whose facts are erased: each erased id and every id folded into it when the
    erasure was decided (all of that was the person). Ids merged into it later, or split
    off before, are other data and keep theirs."""
    return replay(facts).erased


def replay(facts: Iterable[Fact]) -> Structure:
    """The structure after every structural fact, in the profile service's order."""
    forest = _Forest()
    for fact in _ordered(f for f in facts if isinstance(f, _STRUCTURAL)):
        match fact:
            case MergeFact():
                forest.merge(fact)
            case UnmergeFact():
                forest.unmerge(fact)
            case IdentifierFact():
                forest.link(fact)
            case UnlinkFact():
                forest.unlink(fact)
            case TouchpointFact():
                forest.attribute(fact)
            case UnattributionFact():
                forest.unattribute(fact)
            case ErasureFact():
                forest.erase(fact)
    return Structure(
        parent=dict(forest.parent),
        merged_at=dict(forest.merged_at),
        identifiers={root: dict(links) for root, links in forest.identifiers.items()},
        attributions=dict(forest.attributions),
        erased=frozenset(forest.erased),
    )


def _ordered(facts: Iterable[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda fact: fact.order)
