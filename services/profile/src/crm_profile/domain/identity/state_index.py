"""An index of a large identity state that decisions evolve one at a time.

A consumer chunk decides hundreds of touchpoints in order against one state: the part of
the store around all of them, which grows with each decision. Each decision that resolves
a component needs only the part of that state around the component (:func:`restrict`),
and finding it by scanning every profile made deciding a chunk quadratic. The index
knows which profiles hold each identifier and which profiles were merged into each, so
that part is found from the component's identifiers. Decisions are applied through it:
it evolves the state in place (:class:`EvolvingIdentity`) and follows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from crm_profile.domain.identity.decisions import (
    Decision,
    IdentifierLinked,
    IdentifierUnlinked,
    ProfileCreated,
    ProfilesMerged,
    ProfileUnmerged,
)
from crm_profile.domain.identity.state import (
    CurrentIdentity,
    EvolvingIdentity,
    MergedAway,
    Profile,
    restrict,
)
from crm_profile.domain.identity.values import Evidence, Identifier

__all__ = ["StateIndex"]


class StateIndex:
    """A state that decisions evolve, with where each identifier's profiles are and what
    was merged into each profile. ``state`` is the state so far (a view that the next
    :meth:`apply` changes: read it, don't keep it)."""

    def __init__(self, start: CurrentIdentity) -> None:
        self._evolving = EvolvingIdentity(start)
        self._holders: defaultdict[Identifier, set[str]] = defaultdict(set)
        self._merged_into: defaultdict[str, set[str]] = defaultdict(set)
        for customer_id, profile in start.profiles.items():
            for identifier in profile.identifiers:
                self._holders[identifier].add(customer_id)
        for customer_id, merged in start.merged_away.items():
            self._merged_into[merged.into].add(customer_id)

    @property
    def state(self) -> CurrentIdentity:
        return self._evolving.state

    def restrict(self, component: Iterable[Evidence]) -> CurrentIdentity:
        """:func:`restrict` of the state so far, without a scan of all of it."""
        current = self.state
        evidence = list(component)
        identifiers = frozenset().union(*(item.identifiers for item in evidence))
        held = set().union(*(self._holders.get(i, ()) for i in identifiers))
        part = CurrentIdentity(
            profiles={cid: current.profiles[cid] for cid in held},
            merged_away={cid: current.merged_away[cid] for cid in self._merged_under(held)},
            attribution=current.attribution,
            shared=current.shared,
            blocked=current.blocked,
        )
        # What is left to pick (attribution, shared, refusals) is picked without a scan
        # but for the refusals, which are few.
        return restrict(part, evidence)

    def holding(self, evidence: Iterable[Evidence]) -> CurrentIdentity:
        """:func:`holding` of the state so far, without a scan of all of it."""
        current = self.state
        identifiers = frozenset[Identifier]().union(*(item.identifiers for item in evidence))
        held = set().union(*(self._holders.get(i, ()) for i in identifiers))
        return CurrentIdentity(
            profiles={cid: current.profiles[cid] for cid in held},
            attribution=current.attribution, shared=current.shared,
            merged_away=current.merged_away, blocked=current.blocked)

    def apply(self, decisions: Iterable[Decision]) -> CurrentIdentity:
        """The state after ``decisions`` (:func:`apply`); the index follows."""
        decisions = tuple(decisions)
        current = self.state
        # Each changed customer as it was before the first decision: the index follows
        # the net change.
        before = {cid: (current.profiles.get(cid), current.merged_away.get(cid))
                  for decision in decisions for cid in _customers_changed(decision)}
        after = self._evolving.apply(decisions)
        self._follow(before, after)
        return after

    def _merged_under(self, roots: Iterable[str]) -> set[str]:
        """The merged-away profiles whose live profile (``root_of``) is among ``roots``."""
        found: set[str] = set()
        pending = list(roots)
        while pending:
            for away in self._merged_into.get(pending.pop(), ()):
                if away not in found:
                    found.add(away)
                    pending.append(away)
        return found

    def _follow(self, before: dict[str, tuple[Profile | None, MergedAway | None]],
                after: CurrentIdentity) -> None:
        for customer_id, (old, was) in before.items():
            new = after.profiles.get(customer_id)
            held_before = old.identifiers if old else frozenset()
            held_after = new.identifiers if new else frozenset()
            for identifier in held_before - held_after:
                self._holders[identifier].discard(customer_id)
            for identifier in held_after - held_before:
                self._holders[identifier].add(customer_id)
            now = after.merged_away.get(customer_id)
            if was != now:
                if was is not None:
                    self._merged_into[was.into].discard(customer_id)
                if now is not None:
                    self._merged_into[now.into].add(customer_id)


def _customers_changed(decision: Decision) -> tuple[str, ...]:
    """The customers whose profile (identifiers, or being merged away) ``decision`` may
    change; other decisions change attribution, refusals or shared identifiers only."""
    match decision:
        case ProfileCreated() | IdentifierLinked() | IdentifierUnlinked():
            return (decision.customer_id,)
        case ProfilesMerged():
            return decision.survivor_id, decision.merged_away_id
        case ProfileUnmerged():
            return decision.customer_id, decision.restored_id
    return ()
